/**
 * The Default-group constraints the business message classes declare (`@NotNull`, `@NotEmpty`,
 * `@PersonIdentifier`, `@Valid` cascades). The reference enforces them only for DPH, where
 * NextMoveValidator validates `sbd.getAny()` explicitly; paths are relative to the business message.
 */
import { isPlainObject } from './bind.js'
import { isValidPersonIdentifier } from './identifiers.js'
import type { Violation } from './violations.js'

type Check = 'NotNull' | 'NotEmpty' | 'PersonIdentifier'

interface Rule {
  name: string
  checks: Check[]
  /** `@Valid`: the nested object's own rules */
  nested?: Rule[]
  /** `Map<@NotNull String, @NotNull V>` */
  mapValuesNotNull?: boolean
}

const notNull = (name: string, nested?: Rule[]): Rule => ({ name, checks: ['NotNull'], nested })

const POST_ADDRESS: Rule[] = ['navn', 'adresselinje1', 'postnummer', 'poststed', 'land'].map((n) =>
  notNull(n),
)

const RULES: Record<string, Rule[]> = {
  digital: [
    notNull('tittel'),
    notNull('spraak'),
    notNull('digitalPostInfo', [notNull('virkningsdato'), notNull('aapningskvittering')]),
  ],
  digital_dpv: [notNull('tittel'), notNull('sammendrag'), notNull('innhold')],
  print: [
    notNull('mottaker', POST_ADDRESS),
    notNull('retur', [notNull('mottaker', POST_ADDRESS), notNull('returhaandtering')]),
  ],
  dialogmelding: [
    notNull('pasient', [
      { name: 'fnr', checks: ['NotNull', 'PersonIdentifier'] },
      { name: 'fornavn', checks: ['NotNull', 'NotEmpty'] },
      { name: 'etternavn', checks: ['NotNull', 'NotEmpty'] },
    ]),
    { name: 'metadataFiler', checks: [], mapValuesNotNull: true },
  ],
  innsynskrav: [notNull('orgnr'), notNull('epost')],
  publisering: [notNull('orgnr')],
  einnsyn_kvittering: [notNull('dokumentId'), notNull('status'), notNull('referanseType')],
}

const MESSAGES: Record<Check, string> = {
  NotNull: 'must not be null',
  NotEmpty: 'must not be empty',
  // idporten-validators' text is not public; this is ours
  PersonIdentifier: 'Invalid person identifier',
}

function failed(check: Check, value: unknown): boolean {
  const missing = value === null || value === undefined
  if (check === 'NotNull') return missing
  if (check === 'NotEmpty') return missing || value === ''
  return typeof value === 'string' && !isValidPersonIdentifier(value)
}

function walk(rules: Rule[], value: Record<string, unknown>, prefix: string, out: Violation[]): void {
  for (const rule of rules) {
    const v = value[rule.name]
    const path = `${prefix}${rule.name}`
    for (const check of rule.checks) {
      if (failed(check, v))
        out.push({
          path,
          constraint: check,
          message: MESSAGES[check],
          invalidValue: v ?? null,
          fieldType: null,
        })
    }
    if (rule.nested && isPlainObject(v)) walk(rule.nested, v, `${path}.`, out)
    if (rule.mapValuesNotNull && isPlainObject(v)) {
      for (const key of Object.keys(v)) {
        if (v[key] === null || v[key] === undefined) {
          out.push({
            path: `${path}[${key}].<map value>`,
            constraint: 'NotNull',
            message: MESSAGES.NotNull,
            invalidValue: null,
            fieldType: null,
          })
        }
      }
    }
  }
}

export function businessMessageViolations(type: string, message: Record<string, unknown>): Violation[] {
  const out: Violation[] = []
  walk(RULES[type] ?? [], message, '', out)
  return out
}
