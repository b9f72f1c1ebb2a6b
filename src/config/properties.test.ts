import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PropertiesSyntaxError, parseProperties, parsePropertyEntries } from './properties.js'

const parse = (text: string) => Object.fromEntries(parseProperties(text))

/**
 * Inputs and what java.util.Properties.load (OpenJDK 17) makes of them; the expectations were produced by
 * running Java on exactly these strings. (During development the parser was also compared with Java on
 * 25 000 random strings built from the characters that matter; all agreed.)
 */
const JAVA_CASES: [string, string, Record<string, string>][] = [
  ['= separator', 'a=b', { a: 'b' }],
  [': separator', 'a:b', { a: 'b' }],
  ['space separator', 'a b', { a: 'b' }],
  ['tab separator', 'a\tb', { a: 'b' }],
  ['blanks around the separator; trailing blanks kept', '  a  =  b  ', { a: 'b  ' }],
  ['a second separator after blanks belongs to the value', 'a= =b', { a: '=b' }],
  ['a second separator right after belongs to the value', 'a==b', { a: '=b' }],
  ['blank ends the key, the rest is the value', 'a b=c', { a: 'b=c' }],
  ['key alone', 'a', { a: '' }],
  ['empty value', 'a=', { a: '' }],
  ['# comment', '#a=b', {}],
  ['! comment after blanks', '  !a=b', {}],
  ['# inside a value is text', 'a=b # not a comment', { a: 'b # not a comment' }],
  ['continuation drops the next line’s leading blanks', 'a=b\\\n   c', { a: 'bc' }],
  ['an even number of backslashes does not continue', 'a=b\\\\\nc=d', { a: 'b\\', c: 'd' }],
  ['a continued line starting with # is not a comment', 'a=b\\\n#c', { a: 'b#c' }],
  ['a comment does not continue', '#x\\\na=b', { a: 'b' }],
  ['\\r\\n and \\r end lines', 'a=b\r\nc=d\re=f', { a: 'b', c: 'd', e: 'f' }],
  ['\\t \\n \\r \\f escapes', 'a=\\t\\n\\r\\f', { a: '\t\n\r\f' }],
  ['\\uXXXX in either case', 'a=\\u00e5\\u00E5', { a: 'åå' }],
  ['escaped = in a key', 'k\\=ey=v', { 'k=ey': 'v' }],
  ['escaped : in a key', 'k\\:ey=v', { 'k:ey': 'v' }],
  ['escaped blank in a key', 'k\\ ey=v', { 'k ey': 'v' }],
  ['escaped # starts a key, not a comment', '\\#k=v', { '#k': 'v' }],
  ['unknown escape is the character; \\\\ is a backslash', 'a=\\q\\\\', { a: 'q\\' }],
  ['escaped leading blank keeps the blanks', 'a=\\  b', { a: '  b' }],
  ['the last duplicate wins', 'a=1\na=2', { a: '2' }],
  ['a backslash at the end of the input is dropped', 'a=b\\', { a: 'b' }],
  ['an empty continuation line ends the value', 'a=b\\\n\n  c=d', { a: 'b', c: 'd' }],
  ['a blank continuation line ends the value', 'a=b\\\n   \nc=d', { a: 'b', c: 'd' }],
  ['several continuations', 'key=value\\\n    continued\\\n  more', { key: 'valuecontinuedmore' }],
]

describe('parseProperties, as java.util.Properties.load', () => {
  it.each(JAVA_CASES)('%s', (_name, text, expected) => {
    expect(parse(text)).toEqual(expected)
  })

  it('refuses a malformed \\uXXXX escape, naming the line', () => {
    expect(() => parse('a=1\n\nb=\\u12G4')).toThrow(PropertiesSyntaxError)
    expect(() => parse('a=1\n\nb=\\u12G4')).toThrow('line 3: malformed \\uXXXX escape "\\u12G4"')
    expect(() => parse('b=\\u12')).toThrow('malformed')
  })

  it('keeps every entry with the line its logical line starts on', () => {
    const text = '# header\n\na=1\nb=2\\\n  3\r\n! note\r\nc : 4\ra=5'
    expect(parsePropertyEntries(text)).toEqual([
      { key: 'a', value: '1', line: 3 },
      { key: 'b', value: '23', line: 4 },
      { key: 'c', value: '4', line: 7 },
      { key: 'a', value: '5', line: 8 },
    ])
  })

  it('reads an operator file as the reference would', () => {
    const text = [
      '## ORGANIZATION',
      'difi.move.org.number=910075918',
      'difi.move.org.keystore.path = /etc/ip/keystore.p12',
      'difi.move.dpv.notification-text=Du har f\\u00E5tt en melding fra $reporterName$.',
      'difi.datasource.url: jdbc:postgresql://db:5432/ip?ssl=true',
      '   difi.move.feature.enableDPO   true',
    ].join('\n')
    expect(parse(text)).toEqual({
      'difi.move.org.number': '910075918',
      'difi.move.org.keystore.path': '/etc/ip/keystore.p12',
      'difi.move.dpv.notification-text': 'Du har fått en melding fra $reporterName$.',
      'difi.datasource.url': 'jdbc:postgresql://db:5432/ip?ssl=true',
      'difi.move.feature.enableDPO': 'true',
    })
  })
})

/** Java's Properties.store escaping (saveConvert), written here only to test the reader against it. */
function javaEscape(text: string, isKey: boolean): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    const code = c.charCodeAt(0)
    if (c === ' ') out += i === 0 || isKey ? '\\ ' : ' '
    else if (c === '\\') out += '\\\\'
    else if (c === '\t') out += '\\t'
    else if (c === '\n') out += '\\n'
    else if (c === '\r') out += '\\r'
    else if (c === '\f') out += '\\f'
    else if ('=:#!'.includes(c)) out += `\\${c}`
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`
    else out += c
  }
  return out
}

const store = (map: Record<string, string>): string =>
  Object.entries(map)
    .map(([k, v]) => `${javaEscape(k, true)}=${javaEscape(v, false)}\n`)
    .join('')

const tricky = fc.oneof(
  fc.constantFrom(' ', '=', ':', '#', '!', '\\', '\t', '\n', '\r', '\f', 'u', '0', '$', '{', '}'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
)
const escapedText = fc.string({ unit: tricky, maxLength: 20 })

describe('parseProperties, properties', () => {
  it('reads back whatever Java-style escaping writes', () => {
    fc.assert(
      fc.property(fc.dictionary(escapedText, escapedText, { maxKeys: 6 }), (map) => {
        expect(parse(store(map))).toEqual({ ...map })
      }),
    )
  })

  it('does not care about comments, blank lines or the line terminator style', () => {
    fc.assert(
      fc.property(
        fc.dictionary(escapedText, escapedText, { maxKeys: 6 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        (map, eol) => {
          const lines = store(map).split('\n').filter(Boolean)
          const noisy = lines.flatMap((l) => ['  # a comment \\', '', '\t! another', l]).join(eol)
          expect(parse(noisy)).toEqual({ ...map })
        },
      ),
    )
  })
})
