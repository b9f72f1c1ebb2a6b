/**
 * The DPI v2 JSON schemas (Digdir's `innbyggerpost_dpi_<type>_1_0`, their `commons` and the `sbdh`
 * header schema, draft-07) as zod schemas of our own: the same required members, lengths (counted in
 * code points, as JSON Schema does), patterns (unanchored where the schema leaves them so), enums,
 * closed objects where the schema says `additionalProperties: false` and open ones where it does not,
 * and the print address's `oneOf`. The formats are checked as {@link DPI_FORMATS} says.
 */
import { z } from 'zod'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/
const EMAIL =
  /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i

function isDate(s: string): boolean {
  const m = DATE.exec(s)
  if (!m) return false
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
  return days !== undefined && d >= 1 && d <= days
}

function isDateTime(s: string): boolean {
  const m = DATE_TIME.exec(s)
  if (!m || !isDate(m[1]!)) return false
  const [h, mi, sec] = [Number(m[2]), Number(m[3]), Number(m[4])]
  const offsetOk = m[6] === undefined || (Number(m[6]) <= 23 && Number(m[7]) <= 59)
  return h <= 23 && mi <= 59 && sec <= 59 && offsetOk
}

/** What the schemas' `format`s mean here: RFC 4122 text, RFC 3339 `full-date` and `date-time`, and an address. */
export const DPI_FORMATS: Readonly<Record<'uuid' | 'date' | 'date-time' | 'email', (s: string) => boolean>> =
  {
    uuid: (s) => UUID.test(s),
    date: isDate,
    'date-time': isDateTime,
    email: (s) => EMAIL.test(s),
  }

const codePoints = (s: string): number => [...s].length

/** A string of `min`..`max` code points (JSON Schema's minLength/maxLength). */
function text(min: number, max: number, base = z.string()) {
  return base.refine((s) => codePoints(s) >= min && codePoints(s) <= max, {
    message: min === max ? `must be ${min} characters` : `must be ${min} to ${max} characters`,
  })
}

function formatted(format: keyof typeof DPI_FORMATS) {
  return z.string().refine(DPI_FORMATS[format], { message: `is not a ${format}` })
}

const pattern = (re: RegExp) => z.string().regex(re, { message: `does not match ${re.source}` })

// ---- sbdh.schema.json

const identifier = z.strictObject({ authority: z.string(), value: z.string() })
const actor = z.strictObject({ identifier })
const scope = z.strictObject({
  type: z.string(),
  instanceIdentifier: formatted('uuid').optional(),
  identifier: z.string().optional(),
  scopeInformation: z.array(z.strictObject({ expectedResponseDateTime: z.string().optional() })).optional(),
})

export const dpiHeaderSchema = z.strictObject({
  headerVersion: z.string(),
  sender: z.array(actor).length(1),
  receiver: z.array(actor).length(1),
  documentIdentification: z.strictObject({
    standard: z.string(),
    typeVersion: z.string(),
    instanceIdentifier: formatted('uuid'),
    type: z.string(),
    creationDateAndTime: formatted('date-time'),
  }),
  businessScope: z.strictObject({ scope: z.array(scope) }),
})

// ---- commons.schema.json

const virksomhetsidentifikator = z.strictObject({
  authority: z.literal('iso6523-actorid-upis'),
  // unanchored, as the schema writes it
  value: pattern(/[0-9]{4}:\w{1,35}/u),
})
const avsender = z.strictObject({
  virksomhetsidentifikator,
  avsenderidentifikator: text(0, 100).optional(),
  fakturaReferanse: text(0, 40).optional(),
})
// no additionalProperties in the schema: open
const virksomhetmottaker = z.looseObject({
  virksomhetsidentifikator,
  motakeridentifikator: text(0, 100).optional(),
})
const personmottaker = z.strictObject({ postkasseadresse: z.string() })
const dokumentpakkefingeravtrykk = z.strictObject({ digestMethod: z.string(), digestValue: z.string() })
const sikkerhetsnivaa = z.union([z.literal(3), z.literal(4)])
const repetisjoner = z.array(z.number().int().min(0).max(25)).min(1).max(10)
const varslerObject = z.looseObject({
  epostvarsel: z
    .strictObject({ epostadresse: formatted('email'), varslingstekst: text(1, 500), repetisjoner })
    .optional(),
  smsvarsel: z
    .strictObject({
      mobiltelefonnummer: text(8, 20, pattern(/^\+?[- _0-9]+$/u)),
      varslingstekst: text(1, 160),
      repetisjoner,
    })
    .optional(),
})
/** the schema gives `varsler` no `type`: its members are checked on an object, anything else passes */
const varsler = z.union([
  varslerObject,
  z.unknown().refine((v) => v === null || typeof v !== 'object' || Array.isArray(v), {
    message: 'is an object that breaks the varsler schema',
  }),
])
const kvitteringFields = { avsender, mottaker: virksomhetmottaker, tidspunkt: formatted('date-time') }
const kvittering = z.strictObject(kvitteringFields)

/** The letter's fields that `digital` and `flyttet` share. */
const letterFields = {
  avsender,
  mottaker: personmottaker,
  dokumentpakkefingeravtrykk,
  maskinportentoken: z.string(),
  sikkerhetsnivaa,
  virkningsdato: formatted('date').optional(),
  virkningstidspunkt: formatted('date-time').optional(),
  aapningskvittering: z.boolean().optional(),
  ikkesensitivtittel: text(1, 255),
  spraak: text(2, 2),
  varsler: varsler.optional(),
}

// ---- utskrift

const has = (o: object, ...keys: string[]) => keys.every((k) => k in o)

/** `oneOf` [Norway: navn, adresselinje1, postnummer, poststed | abroad: `oneOf` [land | landkode] with navn, adresselinje1]. */
const adresseInformasjon = z
  .strictObject({
    navn: z.string().optional(),
    adresselinje1: text(0, 100).optional(),
    adresselinje2: text(0, 100).optional(),
    adresselinje3: text(0, 100).optional(),
    adresselinje4: text(0, 100).optional(),
    postnummer: pattern(/^\d{4}$/u).optional(),
    poststed: text(0, 80).optional(),
    land: text(0, 80).optional(),
    landkode: pattern(/^[a-zA-Z]{2}$/u).optional(),
  })
  .superRefine((a, ctx) => {
    const norway = has(a, 'navn', 'adresselinje1', 'postnummer', 'poststed')
    const abroad = has(a, 'navn', 'adresselinje1') && has(a, 'land') !== has(a, 'landkode')
    if (norway === abroad)
      ctx.addIssue({
        code: 'custom',
        message: norway
          ? 'is both a Norwegian address and one abroad (give postnummer and poststed, or land or landkode)'
          : 'needs navn and adresselinje1 with postnummer and poststed (Norway), or with one of land and landkode (abroad)',
      })
  })

const utskrift = z.strictObject({
  avsender,
  mottaker: adresseInformasjon,
  dokumentpakkefingeravtrykk,
  maskinportentoken: z.string(),
  utskriftstype: z.enum(['SORT_HVIT', 'FARGE']),
  retur: z.strictObject({
    mottaker: adresseInformasjon,
    returposthaandtering: z.enum(['DIREKTE_RETUR', 'MAKULERING_MED_MELDING']),
  }),
  posttype: z.enum(['A', 'B']).optional(),
})

/** The body schema of each DPI document type, keyed by `documentIdentification.type`. */
export const DPI_BODY_SCHEMAS = {
  digital: z.strictObject(letterFields),
  utskrift,
  flyttet: z.strictObject({
    ...letterFields,
    maskinportentoken: z.string(),
    tidspunkt: formatted('date-time'),
    mottakstidspunkt: formatted('date'),
    aapnet: z.boolean().optional(),
  }),
  leveringskvittering: kvittering,
  aapningskvittering: kvittering,
  mottakskvittering: kvittering,
  returpostkvittering: kvittering,
  varslingfeiletkvittering: z.strictObject({
    ...kvitteringFields,
    beskrivelse: z.string().optional(),
    varslingskanal: z.enum(['epost', 'sms']),
  }),
  feil: z.strictObject({
    ...kvitteringFields,
    feiltype: z.enum(['KLIENT', 'SERVER']),
    detaljer: z.string().optional(),
  }),
} as const
