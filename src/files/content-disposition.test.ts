import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ContentDispositionError, parseContentDisposition } from './content-disposition.js'

const params = (header: string) => ({ ...parseContentDisposition(header).params })

describe('parseContentDisposition', () => {
  it("reads the reference's own example, unquoted values with spaces", () => {
    const parsed = parseContentDisposition('attachment; name=Before The Law; filename=before_the_law.txt')
    expect(parsed.type).toBe('attachment')
    expect({ ...parsed.params }).toEqual({ name: 'Before The Law', filename: 'before_the_law.txt' })
  })

  it('reads quoted values with escapes and a ; inside the quotes', () => {
    expect(params('attachment; name="My PDF"; filename="a \\"b\\" \\\\ c;d.pdf"')).toEqual({
      name: 'My PDF',
      filename: 'a "b" \\ c;d.pdf',
    })
  })

  it('takes parameter names and the type case-insensitively, and tolerates spacing and empty segments', () => {
    const parsed = parseContentDisposition('  Attachment ;\tNAME = x ;; FileName=\t"y.txt" ; ')
    expect(parsed.type).toBe('attachment')
    expect({ ...parsed.params }).toEqual({ name: 'x', filename: 'y.txt' })
  })

  it('accepts a type alone and an empty value', () => {
    expect(parseContentDisposition('inline')).toEqual({ type: 'inline', params: {} })
    expect(params('attachment; name=; filename=""')).toEqual({ name: '', filename: '' })
  })

  it('decodes RFC 5987 UTF-8 and ISO-8859-1 values', () => {
    expect(params("attachment; filename*=UTF-8''%C3%A6%C3%B8%C3%A5%20vedtak.pdf").filename).toBe(
      'æøå vedtak.pdf',
    )
    expect(params("attachment; filename*=utf-8'nb'%E2%82%AC.txt").filename).toBe('€.txt')
    expect(params("attachment; filename*=ISO-8859-1''%E6%F8%E5.txt").filename).toBe('æøå.txt')
    expect(params("attachment; name*=iso-8859-1'no'Fr%E5%20meg").name).toBe('Frå meg')
    // Spring strips quotes around an ext-value too; so do we
    expect(params('attachment; filename*="UTF-8\'\'a%2Bb.txt"').filename).toBe('a+b.txt')
  })

  it('lets the * form win over the plain one, in either order', () => {
    expect(params("attachment; filename=plain.txt; filename*=UTF-8''star.txt").filename).toBe('star.txt')
    expect(params("attachment; filename*=UTF-8''star.txt; filename=plain.txt").filename).toBe('star.txt')
    expect(params("attachment; name*=UTF-8''T%C3%B8; name=To").name).toBe('Tø')
  })

  it('keeps odd parameter names as data, never as object properties', () => {
    const parsed = parseContentDisposition('attachment; __proto__=x; constructor=y')
    expect(Object.getPrototypeOf(parsed.params)).toBeNull()
    expect(Object.entries(parsed.params)).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ])
    expect(parsed.params['toString']).toBeUndefined()
  })

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['; filename=a.txt', /empty or has no type/],
    ['filename=a.txt', /disposition type/],
    ['attachment name=x', /disposition type/],
    ['attachment; filename', /"filename" has no value/],
    ['attachment; name=x; size', /"size" has no value/],
    ['attachment; =x', /invalid parameter name ""/],
    ['attachment; na me=x', /invalid parameter name "na me"/],
    ['attachment; filename="abc', /unterminated/],
    ['attachment; filename="a"b', /after its closing quote/],
    ['attachment; filename=a"b', /stray/],
    ['attachment; filename=a; filename=b', /given twice/],
    ['attachment; FILENAME=a; filename=b', /given twice/],
    ["attachment; filename*=UTF-8''%ZZ.txt", /bad percent-encoding at "%ZZ"/],
    ["attachment; filename*=UTF-8''abc%4", /bad percent-encoding/],
    ["attachment; filename*=UTF-8''%C3.txt", /not valid UTF-8/],
    ["attachment; filename*=windows-1252''a.txt", /charset "windows-1252".*only UTF-8 and ISO-8859-1/],
    ["attachment; filename*=''a.txt", /charset ""/],
    ['attachment; filename*=a.txt', /UTF-8''percent-encoded/],
    ["attachment; filename*=UTF-8''a b.txt", /must be percent-encoded/],
    ["attachment; filename*=UTF-8''æ.txt", /must be percent-encoded/],
    ["attachment; *=UTF-8''a", /invalid parameter name/],
  ])('refuses %j with a clear ContentDispositionError', (header, message) => {
    expect(() => parseContentDisposition(header)).toThrow(ContentDispositionError)
    expect(() => parseContentDisposition(header)).toThrow(message)
  })

  it('either parses or throws ContentDispositionError, for any string', () => {
    const join = (parts: string[]) => parts.join('')
    const piece = fc.constantFrom(
      ';',
      '=',
      '"',
      '\\',
      '%',
      "'",
      '*',
      ' ',
      '\t',
      'a',
      'æ',
      '\u0000',
      '__proto__',
    )
    const word = fc.array(fc.oneof(piece, fc.string({ maxLength: 3 })), { maxLength: 6 }).map(join)
    const pct = fc.constantFrom('%C3', '%A6', '%E2%82%AC', '%ZZ', '%4', '%', 'a', 'æ', ' ', '.txt')
    const extValue = fc
      .tuple(
        fc.constantFrom("UTF-8''", "iso-8859-1'no'", "''", "x'", 'UTF-8'),
        fc.array(pct, { maxLength: 5 }).map(join),
      )
      .map(([prefix, rest]) => prefix + rest)
    const value = fc.oneof(
      word,
      { arbitrary: extValue, weight: 3 },
      word.map((w) => `"${w}"`),
    )
    const names = fc.constantFrom('name', 'filename', 'filename*', 'NAME*', 'size', '')
    const paramName = fc.oneof({ arbitrary: names, weight: 4 }, word)
    const equals = fc.constantFrom('=', '=', ' = ', '')
    const param = fc.tuple(paramName, equals, value).map(([n, eq, v]) => `; ${n}${eq}${v}`)
    const type = fc.oneof({ arbitrary: fc.constantFrom('attachment', 'form-data', ''), weight: 4 }, word)
    const structured = fc.tuple(type, fc.array(param, { maxLength: 3 })).map(([t, ps]) => t + ps.join(''))
    let parsed = 0
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), structured, structured), (header) => {
        try {
          const result = parseContentDisposition(header)
          parsed++
          expect(result.type).toMatch(/^[!#$%&'*+\-.^_`|~0-9a-z]+$/)
          for (const v of Object.values(result.params)) expect(typeof v).toBe('string')
        } catch (err) {
          expect(err).toBeInstanceOf(ContentDispositionError)
        }
      }),
      { numRuns: 10_000 },
    )
    // the generator must reach the success path too, or the property proves little
    expect(parsed).toBeGreaterThan(100)
  })

  it('gives back any value written as a quoted string or as an RFC 5987 UTF-8 value', () => {
    const quote = (v: string) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`
    // RFC 5987 leaves only attr-chars unencoded; encodeURIComponent also leaves ' ( ) * ! ~ alone
    const ext = (v: string) =>
      `UTF-8''${encodeURIComponent(v).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}`
    const text = fc.string({ unit: 'grapheme', maxLength: 30 })
    fc.assert(
      fc.property(text, text, (name, filename) => {
        expect(params(`form-data; name=${quote(name)}; filename*=${ext(filename)}`)).toEqual({
          name,
          filename,
        })
        expect(params(`attachment; filename=${quote(filename)}; name*=${ext(name)}`)).toEqual({
          name,
          filename,
        })
      }),
    )
  })
})
