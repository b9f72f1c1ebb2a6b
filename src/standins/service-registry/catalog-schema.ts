import { z } from 'zod'
import { CATEGORIES } from './processes.js'

/**
 * The catalogue file the operator writes (JSON). `catalog.schema.json` beside this file is generated
 * from this schema (see catalog-schema.test.ts), so editors can check a catalogue as it is typed.
 * Cross-references (a mailbox provider that must be an organisation, a process that must exist, ...)
 * are checked after this, in catalog-check.ts.
 */

const text = z.string().min(1)
const nullableText = text.nullable()

export const orgnrSchema = z
  .string()
  .regex(/^\d{9}$/, 'an organisation number is 9 digits')
  .describe('Norwegian organisation number (9 digits, mod-11 check digit)')

const fnrSchema = z
  .string()
  .regex(/^\d{11}$/, 'a fødselsnummer is 11 digits')
  .describe(
    'fødselsnummer or D-nummer (11 digits, both check digits right; synthetic +40/+80 months allowed)',
  )

export const certificateSchema = z
  .union([
    z.string().min(1).describe('the certificate itself: PEM, or its base64 body'),
    z.strictObject({ file: text.describe('a PEM file, relative to the catalogue file') }),
    z.strictObject({
      generated: z
        .string()
        .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-"')
        .describe(
          'made on first start and kept in the data folder as keys/<name>.key.pem and certs/<name>.cert.pem',
        ),
    }),
  ])
  .meta({
    id: 'certificate',
    description: 'an X.509 certificate: inline PEM, {"file": ...} or {"generated": ...}',
  })

const sasKeySchema = z
  .union([
    z
      .string()
      .min(1)
      .describe('the key itself, as the integration point uses it (the UTF-8 bytes of this text)'),
    z.strictObject({
      generated: z
        .string()
        .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-"')
        .describe('made on first start and kept in the data folder as keys/<name>.sas-key'),
    }),
  ])
  .describe('the Service Bus SAS key /sastoken hands out: the key itself or {"generated": ...}')

const postadresseSchema = z
  .strictObject({ adresse: text, postnummer: text, poststed: text, land: text })
  .partial()
  .describe('postal address as BRREG gives it (infoRecord.postadresse); members left out are not written')

const serviceOverrideSchema = z
  .strictObject({
    endpointUrl: text,
    serviceCode: nullableText,
    serviceEditionCode: nullableText,
    securityLevel: z.int().nullable(),
    resource: nullableText,
  })
  .partial()

const processOverrideSchema = z
  .strictObject({
    service: serviceOverrideSchema.optional(),
    documentTypes: z.array(text).min(1).optional(),
    certificate: certificateSchema
      .nullable()
      .optional()
      .describe('pemCertificate of the record; null for none'),
  })
  .describe('changes to the records the routing rules make for one process')

const explicitRecordSchema = z
  .looseObject({
    process: text,
    documentTypes: z.array(text),
    service: z.looseObject({ identifier: text }),
  })
  .describe('a service record written out in full; served as it stands, in its key order')

const explicitRecords = z.array(explicitRecordSchema).meta({
  id: 'records',
  description: 'when given, these records are the answer and the routing rules are not used',
})

const processRefs = z.array(text)

export const organisationSchema = z.strictObject({
  orgnr: orgnrSchema,
  name: text.describe('organizationName'),
  entityType: text.default('ORGL').describe('BRREG organisasjonsform: ORGL, AS, KOMM, ...'),
  postadresse: postadresseSchema.nullable().default(null),
  certificate: certificateSchema
    .optional()
    .describe('the business certificate (Virksert): DPO, DPE, DPH, DPI'),
  DPO: z
    .strictObject({
      processes: processRefs.describe('ARKIVMELDING and AVTALT processes (ELMA registrations)'),
    })
    .optional(),
  DPE: z
    .strictObject({ processes: processRefs.describe('EINNSYN processes (ELMA registrations)') })
    .optional(),
  DPF: z
    .strictObject({
      securityLevels: z.array(z.int().min(1).max(4)).min(1).describe('the KS SvarUt levels (niva) it has'),
    })
    .optional(),
  DPV: z
    .strictObject({ resource: nullableText, serviceCode: nullableText, serviceEditionCode: nullableText })
    .partial()
    .optional()
    .describe('changes to its DPV records (DPV is the fallback: every organisation may get it)'),
  DPH: z
    .strictObject({
      herId: z.int().positive(),
      name: text.optional().describe('organizationName in the health register (default: name)'),
      parentHerId: z.int().positive().nullable().optional(),
      parentName: nullableText.optional(),
    })
    .optional()
    .describe('answers for her-id:<herId> (beta: needs X-Enable-Beta-Features: true)'),
  overrides: z.record(text, processOverrideSchema).optional().describe('keyed by process identifier'),
  records: explicitRecords.optional(),
})

export const personSchema = z.strictObject({
  fnr: fnrSchema,
  name: z
    .strictObject({ first: text, middle: nullableText.optional(), last: text })
    .optional()
    .describe('Folkeregisteret name: print address and DPH patient'),
  address: z
    .strictObject({
      street: z.union([text, z.array(text).min(1)]).describe('address lines, joined with a space'),
      postalCode: text,
      postalArea: text,
      country: nullableText.default('NORGE'),
    })
    .nullable()
    .optional()
    .describe('Folkeregisteret postal address for print; null or left out: no print (secret address)'),
  status: z.enum(['AKTIV', 'SLETTET']).default('AKTIV').describe('KRR status'),
  reserved: z.boolean().default(false).describe('reserved against digital post (KRR reservasjon JA)'),
  notifiable: z.boolean().default(true).describe('KRR varslingsstatus KAN_VARSLES'),
  email: nullableText.default(null),
  mobile: nullableText.default(null),
  language: nullableText.default(null).describe('KRR preferred language, e.g. nb'),
  mailbox: z
    .strictObject({
      provider: orgnrSchema.describe('the mailbox provider: an organisation in this catalogue'),
      address: text.describe('postkasseadresse, e.g. ola.nordmann#1234'),
      certificate: certificateSchema.optional().describe('default: the provider organisation’s certificate'),
    })
    .nullable()
    .default(null),
  gp: z.int().positive().optional().describe('her-id of the fastlege: answers fastlege-for:<fnr>'),
  records: explicitRecords.optional(),
})

export const processSchema = z.strictObject({
  identifier: text,
  category: z.enum(CATEGORIES),
  documentTypes: z.array(text).min(1),
  serviceCode: nullableText
    .default(null)
    .describe('DPV Altinn service code; for EINNSYN the DPE queue suffix'),
  serviceEditionCode: nullableText.default(null),
  resource: nullableText.default(null).describe('DPV Altinn 3 resource'),
})

const settingsSchema = z
  .strictObject({
    defaultArkivmeldingProcess: text.describe('its DPV codes go on the DPV records of persons'),
    enableDpfDpv: z.boolean().describe('offer DPF and DPV to organisations not registered for DPO'),
    defaultSender: orgnrSchema.describe(
      'whose address is the return address of print records when the request names no consumer',
    ),
    dpo: z
      .strictObject({
        endpointUrl: text,
        serviceCode: text,
        serviceEditionCode: text,
        resource: nullableText,
      })
      .partial(),
    dpv: z.strictObject({ endpointUrl: text }).partial(),
    dpf: z
      .strictObject({ endpointUrl: text, certificate: certificateSchema.describe('KS SvarUt’s certificate') })
      .partial(),
    dpi: z
      .strictObject({
        endpointUrl: text,
        infoProcess: text,
        vedtakProcess: text,
        printProvider: orgnrSchema.describe('the print service: an organisation in this catalogue'),
      })
      .partial(),
    dph: z.strictObject({ enabled: z.boolean(), endpointUrl: text, process: text }).partial(),
    dpe: z
      .strictObject({
        sasKeyName: text.describe(
          'the SAS policy the key belongs to (difi.move.nextmove.serviceBus.sasKeyName): for the Service Bus stand-in',
        ),
        sasKey: sasKeySchema,
      })
      .partial()
      .describe('Azure Service Bus for DPE; without sasKey, /sastoken answers 404'),
  })
  .partial()
  .describe('left out: the reference’s test-environment values')

export const catalogSchema = z.strictObject({
  $schema: z.string().optional(),
  settings: settingsSchema.default({}),
  processes: z
    .array(processSchema)
    .default([])
    .describe('added to the built-in catalogue; same identifier replaces'),
  organisations: z.array(organisationSchema).default([]),
  persons: z.array(personSchema).default([]),
})

export type CatalogFile = z.output<typeof catalogSchema>
export type OrganisationEntry = z.output<typeof organisationSchema>
export type PersonEntry = z.output<typeof personSchema>
export type SettingsEntry = z.output<typeof settingsSchema>
export type CertificateSpec = z.output<typeof certificateSchema>
export type SasKeySpec = z.output<typeof sasKeySchema>
export type ProcessOverride = z.output<typeof processOverrideSchema>

/** The JSON Schema of the catalogue, as `catalog.schema.json` holds it. */
export function catalogJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(catalogSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'ServiceRegistry stand-in catalogue',
  }
}
