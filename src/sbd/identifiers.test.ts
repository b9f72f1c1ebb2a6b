import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ICD_CODES,
  isValidPersonIdentifier,
  mayActFor,
  onBehalfOf,
  parseIdentifier,
  partOrPrimary,
  primaryIdentifier,
} from './identifiers.js'
import { D_NUMBER, FNR, FNR_SYNTHETIC } from './test-support.js'

const ISO = 'iso6523-actorid-upis'
const NHN = 'nhn-actorid'

/** builds a number with both check digits right from the first nine digits, or undefined */
function withCheckDigits(nine: string): string | undefined {
  const mod = (s: string, w: number[]) => {
    const k = 11 - (w.reduce((sum, x, i) => sum + x * Number(s[i]), 0) % 11)
    return k === 11 ? 0 : k
  }
  const k1 = mod(nine, [3, 7, 6, 1, 8, 9, 4, 5, 2])
  if (k1 === 10) return undefined
  const ten = `${nine}${k1}`
  const k2 = mod(ten, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2])
  return k2 === 10 ? undefined : `${ten}${k2}`
}

describe('person identifiers', () => {
  it('accepts fødselsnumre, D-numbers and synthetic numbers with both check digits right', () => {
    for (const fnr of [FNR, FNR_SYNTHETIC, D_NUMBER, '08089408831', '06068700602']) {
      expect(isValidPersonIdentifier(fnr)).toBe(true)
      expect(parseIdentifier(fnr, ISO)).toEqual({ kind: 'person', value: fnr })
    }
  })

  it('accepts synthetic months +40 (NAV) and +80 (Skatteetaten) because only the check digits count', () => {
    const firstValid = (prefix: string) => {
      for (let i = 0; i < 1000; i++) {
        const full = withCheckDigits(`${prefix}${String(i).padStart(3, '0')}`)
        if (full) return full
      }
      throw new Error('none')
    }
    expect(isValidPersonIdentifier(firstValid('154190'))).toBe(true) // 15.01.90, month + 40
    expect(isValidPersonIdentifier(firstValid('158190'))).toBe(true) // 15.01.90, month + 80
    expect(isValidPersonIdentifier(firstValid('554190'))).toBe(true) // D-number day + 40 as well
  })

  it('rejects a wrong check digit, the wrong length and non-digits', () => {
    expect(isValidPersonIdentifier('08089409381')).toBe(false)
    expect(isValidPersonIdentifier('08089409392')).toBe(false)
    expect(isValidPersonIdentifier('0808940938')).toBe(false)
    expect(isValidPersonIdentifier('080894093821')).toBe(false)
    expect(isValidPersonIdentifier('0808940938a')).toBe(false)
    expect(parseIdentifier('08089409381', ISO)).toBeUndefined()
  })

  it('agrees with the mod-11 rule for any nine leading digits', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{9}$/), (nine) => {
        const full = withCheckDigits(nine)
        if (full === undefined) return
        expect(isValidPersonIdentifier(full)).toBe(true)
        const wrong = `${full.slice(0, 10)}${(Number(full[10]) + 1) % 10}`
        expect(isValidPersonIdentifier(wrong)).toBe(false)
      }),
    )
  })
})

describe('ISO 6523 identifiers', () => {
  it('parses icd:org and gives the canonical value', () => {
    expect(parseIdentifier('0192:910075918', ISO)).toEqual({
      kind: 'iso6523',
      icd: '0192',
      organization: '910075918',
      part: null,
      sourceIndicator: null,
      value: '0192:910075918',
    })
  })

  it('reads a bare nine-digit number as 0192:', () => {
    expect(parseIdentifier('910075918', ISO)?.value).toBe('0192:910075918')
  })

  it('parses part and source indicator (on behalf of)', () => {
    const id = parseIdentifier('0192:910075918:987654321', ISO)
    expect(id).toMatchObject({ part: '987654321', sourceIndicator: null, value: '0192:910075918:987654321' })
    expect(parseIdentifier('0192:987654321:MP//Vergemålsetaten:1', ISO)).toMatchObject({
      part: 'MP//Vergemålsetaten',
      sourceIndicator: '1',
    })
    expect(primaryIdentifier(id!)).toBe('910075918')
    expect(partOrPrimary(id!)).toBe('987654321')
  })

  it('accepts every ICD of efm-common and nothing else', () => {
    expect(ICD_CODES.size).toBe(71)
    for (const icd of ['0192', '9909', '0088', '0007', '0028', '9958'])
      expect(parseIdentifier(`${icd}:abc`, ISO)).toBeDefined()
    // 9908 is not in efm-common's ICD enum (NO:VAT is 9909)
    for (const icd of ['9908', '0000', '1234'])
      expect(parseIdentifier(`${icd}:910075918`, ISO)).toBeUndefined()
  })

  it('rejects the NHN-reserved part:source 0:0 and malformed values', () => {
    expect(parseIdentifier('0192:910075918:0:0', ISO)).toBeUndefined()
    expect(parseIdentifier('0192:910075918:0:1', ISO)).toBeDefined()
    expect(parseIdentifier('0192 :987654321', ISO)).toBeUndefined()
    expect(parseIdentifier('0192A987654321', ISO)).toBeUndefined()
    expect(parseIdentifier('0192:', ISO)).toBeUndefined()
    expect(parseIdentifier('0192:a:b c', ISO)).toBeUndefined()
    expect(parseIdentifier(`0192:${'x'.repeat(36)}`, ISO)).toBeUndefined()
    expect(parseIdentifier('12345678', ISO)).toBeUndefined()
  })

  it('allows spaces inside the organisation part as the reference does', () => {
    expect(parseIdentifier('0007:19571003-6970 001', ISO)).toBeDefined()
  })

  it('does not accept FIKS IO UUIDs (removed from the reference)', () => {
    expect(parseIdentifier('9c2b3fa6-3bfd-4b31-a5b4-0e3b1e2d8d54', ISO)).toBeUndefined()
  })
})

describe('NHN identifiers', () => {
  it('parses her-id and fastlege-for', () => {
    expect(parseIdentifier('her-id:12345', NHN)).toEqual({
      kind: 'nhn',
      scheme: 'her-id',
      id: '12345',
      value: 'her-id:12345',
    })
    expect(parseIdentifier(`fastlege-for:${FNR}`, NHN)).toEqual({
      kind: 'nhn',
      scheme: 'fastlege-for',
      id: FNR,
      value: `fastlege-for:${FNR}`,
    })
  })

  it('reads the HER-id as an Integer (leading zeros dropped, positive, within int range)', () => {
    expect(parseIdentifier('her-id:0123', NHN)?.value).toBe('her-id:123')
    expect(parseIdentifier('her-id:0', NHN)).toBeUndefined()
    expect(parseIdentifier('her-id:-5', NHN)).toBeUndefined()
    expect(parseIdentifier('her-id:99999999999', NHN)).toBeUndefined()
    expect(parseIdentifier('her-id:abc', NHN)).toBeUndefined()
  })

  it('requires a valid fnr for fastlege-for and the nhn authority', () => {
    expect(parseIdentifier('fastlege-for:08089409381', NHN)).toBeUndefined()
    expect(parseIdentifier('her-id:12345', ISO)).toBeUndefined()
    expect(parseIdentifier('0192:910075918', NHN)).toBeUndefined()
  })

  it('tries every form when no authority is given', () => {
    expect(parseIdentifier('her-id:5')?.kind).toBe('nhn')
    expect(parseIdentifier(FNR)?.kind).toBe('person')
  })
})

describe('authority', () => {
  it('is undefined for an unknown authority', () => {
    expect(parseIdentifier('0192:910075918', 'strange')).toBeUndefined()
    expect(parseIdentifier('0192:910075918', '')).toBeUndefined()
  })
})

describe('onBehalfOf', () => {
  it('builds icd:own:customer and refuses forms Iso6523.of would refuse', () => {
    expect(onBehalfOf('0192', '910075918', '987654321')?.value).toBe('0192:910075918:987654321')
    expect(onBehalfOf('0192', '910075918', 'ab')).toBeUndefined()
  })
})

describe('mayActFor', () => {
  const named = (v: string) => parseIdentifier(v)
  it('lets the authenticated organisation speak as itself and in on-behalf-of identifiers it is in', () => {
    expect(mayActFor('0192:910075918', named('0192:910075918'))).toBe(true)
    expect(mayActFor('0192:910075918', named('910075918'))).toBe(true)
    // the customer's system user, as DPO ships on behalf of a customer
    expect(mayActFor('0192:987654321', named('0192:910075918:987654321'))).toBe(true)
    // the acting organisation naming itself
    expect(mayActFor('0192:910075918', named('0192:910075918:987654321'))).toBe(true)
  })

  it('refuses another organisation, another ICD, persons, NHN addresses and a missing sender', () => {
    expect(mayActFor('0192:910076787', named('0192:910077473'))).toBe(false)
    expect(mayActFor('0192:910076787', named('0192:910077473:987654321'))).toBe(false)
    expect(mayActFor('0192:910076787', named('9908:910076787'))).toBe(false)
    expect(mayActFor('0192:910076787', named('0007:910076787'))).toBe(false)
    expect(mayActFor('0192:910076787', named(FNR))).toBe(false)
    expect(mayActFor('0192:910076787', named('her-id:910076787'))).toBe(false)
    expect(mayActFor('0192:910076787', undefined)).toBe(false)
    // the authenticated side must be one plain organisation
    expect(mayActFor('0192:910077473:910076787', named('0192:910076787'))).toBe(false)
    expect(mayActFor('', named('0192:910076787'))).toBe(false)
  })
})
