/**
 * Partner identifiers (`sender/receiver[].identifier`), parsed as efm-common's `PartnerIdentifier.of`
 * (`Iso6523`, `PersonIdentifier`, `NhnIdentifier`, `ICD`). FIKS IO account UUIDs were removed from the
 * reference (MOVE-4750) and are not accepted.
 */
import { parseJavaInt } from './java.js'
import { ISO6523_ACTORID_UPIS, NHN_ACTORID } from './types.js'

export type PartnerIdentifier =
  | {
      kind: 'iso6523'
      icd: string
      organization: string
      part: string | null
      sourceIndicator: string | null
      value: string
    }
  | { kind: 'person'; value: string }
  | { kind: 'nhn'; scheme: 'her-id' | 'fastlege-for'; id: string; value: string }

/** ISO 6523 ICD codes known to efm-common's `ICD` enum (note: `9908` is not among them). */
export const ICD_CODES: ReadonlySet<string> = new Set(
  (
    '0002 0007 0009 0028 0037 0060 0088 0096 0097 0106 0135 0142 0184 0191 0192 0195 9901 9902 9904 9905 ' +
    '9906 9907 9909 9910 9912 9913 9914 9915 9916 9917 9918 9919 9920 9921 9922 9923 9924 9925 9926 9927 ' +
    '9928 9929 9930 9931 9932 9933 9934 9935 9936 9937 9938 9939 9940 9941 9942 9943 9944 9945 9946 9947 ' +
    '9948 9949 9950 9951 9952 9953 9954 9955 9956 9957 9958'
  ).split(' '),
)

/** ICD of Norwegian organisation numbers (Enhetsregisteret). */
export const NO_ORG_ICD = '0192'

// Java's \s is [ \t\n\v\f\r]; `u` makes {1,35} count code points as Java does.
const ISO6523 = /^(\d{4}):([^:]{1,35})(?::([^ \t\n\v\f\r:]{1,35}))?(?::(\d))?$/u
const ORG_PART = /^[^ \t\n\v\f\r:][^:]{1,33}[^ \t\n\v\f\r:]$/u
const NHN = /^(her-id|fastlege-for):([^:]{1,11})$/u

function iso6523(
  icd: string,
  organization: string,
  part: string | null,
  source: string | null,
): PartnerIdentifier {
  let value = `${icd}:${organization}`
  if (part !== null) value += source === null ? `:${part}` : `:${part}:${source}`
  return { kind: 'iso6523', icd, organization, part, sourceIndicator: source, value }
}

function parseIso6523(value: string): PartnerIdentifier | undefined {
  const m = ISO6523.exec(value)
  if (m) {
    const part = m[3] ?? null
    const source = m[4] ?? null
    // `part:source` = `0:0` is reserved for NHN addresses (Iso6523.parse)
    if (`${part}:${source}` === '0:0') return undefined
    if (!ICD_CODES.has(m[1]!)) return undefined
    return iso6523(m[1]!, m[2]!, part, source)
  }
  // a bare Norwegian organisation number means 0192:<number>
  return /^\d{9}$/.test(value) ? iso6523(NO_ORG_ICD, value, null, null) : undefined
}

const WEIGHTS1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
const WEIGHTS2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]

function modulo11(digits: string, weights: number[]): number {
  let sum = 0
  for (let i = 0; i < weights.length; i++) sum += weights[i]! * (digits.charCodeAt(i) - 48)
  const k = 11 - (sum % 11)
  return k === 11 ? 0 : k
}

/**
 * A fødselsnummer or D-nummer as the reference's `PersonIdentifier.parse` accepts it: 11 digits with both
 * mod-11 check digits right. Like the reference, the date part is not checked, so D-numbers (day + 40) and
 * synthetic test numbers (month + 40 / + 80) pass.
 */
export function isValidPersonIdentifier(value: string): boolean {
  if (!/^\d{11}$/.test(value)) return false
  return (
    modulo11(value, WEIGHTS1) === value.charCodeAt(9) - 48 &&
    modulo11(value, WEIGHTS2) === value.charCodeAt(10) - 48
  )
}

function parseNhn(value: string): PartnerIdentifier | undefined {
  const m = NHN.exec(value)
  if (!m) return undefined
  if (m[1] === 'fastlege-for') {
    if (!isValidPersonIdentifier(m[2]!)) return undefined
    return { kind: 'nhn', scheme: 'fastlege-for', id: m[2]!, value: `fastlege-for:${m[2]}` }
  }
  // Integer.parseInt, then "HER-id have to be positive!"; the canonical form drops leading zeros
  const herId = parseJavaInt(m[2]!)
  if (herId === undefined || herId <= 0) return undefined
  return { kind: 'nhn', scheme: 'her-id', id: String(herId), value: `her-id:${herId}` }
}

/**
 * Parses an identifier value for its authority, as `PartnerIdentifier.of(value, authority)`:
 * `iso6523-actorid-upis` tries ISO 6523 then a person number, `nhn-actorid` takes `her-id:`/`fastlege-for:`.
 * Unknown authority or unparseable value: undefined (the reference throws IllegalArgumentException).
 * Without an authority the value is tried against every form (`PartnerIdentifier.parse`).
 */
export function parseIdentifier(value: string, authority?: string | null): PartnerIdentifier | undefined {
  if (typeof value !== 'string') return undefined
  if (authority === NHN_ACTORID) return parseNhn(value)
  const iso = parseIso6523(value) ?? (isValidPersonIdentifier(value) ? { kind: 'person', value } : undefined)
  if (authority === ISO6523_ACTORID_UPIS) return iso
  if (authority === undefined || authority === null) return iso ?? parseNhn(value)
  return undefined
}

/** The authority an identifier is written with. */
export function authorityOf(id: PartnerIdentifier): string {
  return id.kind === 'nhn' ? NHN_ACTORID : ISO6523_ACTORID_UPIS
}

/** Organisation number (ISO 6523), the person number, or the whole NHN identifier. */
export function primaryIdentifier(id: PartnerIdentifier): string {
  return id.kind === 'iso6523' ? id.organization : id.value
}

/** The on-behalf-of organisation when present (`0192:<own>:<customer>`), otherwise the primary identifier. */
export function partOrPrimary(id: PartnerIdentifier): string {
  return id.kind === 'iso6523' && id.part !== null ? id.part : primaryIdentifier(id)
}

/** `Iso6523.of(icd, organization, part)`, which checks the forms; undefined where it would throw. */
export function onBehalfOf(icd: string, organization: string, part: string): PartnerIdentifier | undefined {
  if (!ORG_PART.test(organization) || !ORG_PART.test(part)) return undefined
  return iso6523(icd, organization, part, null)
}

/**
 * Whether an organisation a service authenticated (`0192:<orgnr>`, DPO: the broker's sender) may speak
 * as `named`. It may as itself (`0192:<it>`), as the on-behalf-of part it has a system user for
 * (`0192:<vendor>:<it>`: DPO ships on behalf of a customer as the customer's system user, so the broker
 * authenticates the customer), and as the acting organisation of an on-behalf-of identifier
 * (`0192:<it>:<customer>`: the identifier itself says who acts, and the fagsystem sees it whole).
 * Nothing else: not another organisation, a person or an NHN address.
 */
export function mayActFor(authenticated: string, named: PartnerIdentifier | undefined): boolean {
  const who = parseIdentifier(authenticated, ISO6523_ACTORID_UPIS)
  if (who?.kind !== 'iso6523' || who.part !== null || named?.kind !== 'iso6523') return false
  if (who.icd !== named.icd) return false
  return named.organization === who.organization || named.part === who.organization
}
