import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FILTER_NAMES, filterMatches, javaEqualsIgnoreCase, javaSplit, parseFilter } from './filter.js'

const STATUSES = ['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'LEST', 'FEIL', 'INNKOMMENDE_MOTTATT']
const subject = { status: 'FEIL', serviceIdentifier: 'DPO', direction: 'INCOMING' }

describe('parseFilter', () => {
  it('reads the reference example', () => {
    const parsed = parseFilter('status=FEIL,LEVETID_UTLOPT&direction=INCOMING&serviceIdentifier=DPO,DPI')
    expect(parsed).toEqual({
      ok: true,
      parts: [
        { name: 'status', operator: '=', value: 'FEIL,LEVETID_UTLOPT' },
        { name: 'direction', operator: '=', value: 'INCOMING' },
        { name: 'serviceIdentifier', operator: '=', value: 'DPO,DPI' },
      ],
    })
  })

  it.each([
    ['', false],
    ['status', false],
    ['status=', false],
    ['=FEIL', false],
    ['&status=FEIL', false],
    ['status=FEIL&&direction=INCOMING', false],
    ['status =FEIL', false],
    ['status=FEIL\n', false],
    ['Status=FEIL', false],
    // Java's split drops trailing empty pieces
    ['status=FEIL&', true],
    ['status=FEIL&&', true],
    ['&', true],
    ['status==FEIL', true],
    ['direction=a=b', true],
  ])('%j is valid: %s', (filter, valid) => {
    expect(parseFilter(filter).ok).toBe(valid)
  })

  it('names the unknown filter or operator', () => {
    expect(parseFilter('status=FEIL&colour=red')).toEqual({
      ok: false,
      reason: 'Unknown filter name: colour.',
    })
    expect(parseFilter('status!=FEIL')).toEqual({ ok: false, reason: 'Unknown filter operator: !=.' })
    expect(parseFilter('status>FEIL')).toEqual({ ok: false, reason: 'Unknown filter operator: >.' })
  })

  it('accepts any well-formed filter and gives back its parts', () => {
    const value = fc.stringMatching(/^[^&\n\r\u0085\u2028\u2029]+$/)
    const part = fc.record({ name: fc.constantFrom(...FILTER_NAMES), value })
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), (parts) => {
        const parsed = parseFilter(parts.map((p) => `${p.name}=${p.value}`).join('&'))
        expect(parsed).toEqual({ ok: true, parts: parts.map((p) => ({ ...p, operator: '=' })) })
      }),
    )
  })

  it('refuses a part whose name is not one of the three', () => {
    const unknown = fc.stringMatching(/^\w+$/).filter((n) => !(FILTER_NAMES as readonly string[]).includes(n))
    fc.assert(
      fc.property(unknown, fc.stringMatching(/^[A-Z]+$/), (name, value) => {
        expect(parseFilter(`status=FEIL&${name}=${value || 'X'}`).ok).toBe(false)
      }),
    )
  })

  it('never throws on any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const parsed = parseFilter(text)
        expect(typeof parsed.ok).toBe('boolean')
      }),
    )
  })
})

describe('filterMatches', () => {
  it('passes everything without a filter', () => {
    expect(filterMatches(null, subject)).toBe(true)
    expect(filterMatches('  ', subject)).toBe(true)
    expect(filterMatches('&', subject)).toBe(true)
  })

  it('needs every part to hold, any value of a part', () => {
    expect(filterMatches('status=LEVERT,feil', subject)).toBe(true)
    expect(filterMatches('status=FEIL&direction=OUTGOING', subject)).toBe(false)
    expect(filterMatches('status=FEIL&direction=incoming&serviceIdentifier=DPI,dpo', subject)).toBe(true)
    // values are not trimmed, as the reference
    expect(filterMatches('status=LEVERT, FEIL', subject)).toBe(false)
    expect(filterMatches('status=,', subject)).toBe(false)
  })

  it('matches a status exactly when it is listed, in any case', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...STATUSES),
        fc.subarray(STATUSES, { minLength: 1 }),
        fc.boolean(),
        (status, listed, lower) => {
          const value = listed.map((s) => (lower ? s.toLowerCase() : s)).join(',')
          expect(filterMatches(`status=${value}`, { ...subject, status })).toBe(listed.includes(status))
        },
      ),
    )
  })
})

describe('Java string helpers', () => {
  it('split as String.split', () => {
    expect(javaSplit('', ',')).toEqual([''])
    expect(javaSplit(',', ',')).toEqual([])
    expect(javaSplit(',a,,b,,', ',')).toEqual(['', 'a', '', 'b'])
  })

  it('compare as equalsIgnoreCase', () => {
    expect(javaEqualsIgnoreCase('innkommende_mottatt', 'INNKOMMENDE_MOTTATT')).toBe(true)
    expect(javaEqualsIgnoreCase('ß', 'SS')).toBe(false)
    expect(javaEqualsIgnoreCase('FEIL', 'FEILX')).toBe(false)
  })
})
