/**
 * DPI v2 documents (digital post to citizens): the JSON the integration point signs and sends to its
 * access point (`digital`, `utskrift`) and the receipts that come back, each wrapped as
 * `{"standardBusinessDocument": {"standardBusinessDocumentHeader": …, "<type>": …}}`. Shared by the DPI
 * channel and the DPI stand-in.
 *
 * Glossary: innbyggerpost: post to citizens; postkasse(leverandør): (the provider of) a digital mailbox;
 * utskrift: print; kvittering: receipt; levering: delivery (to the mailbox or to the printer); åpning:
 * opening (the citizen read it); mottak: received (by the printer); varsling feilet: the notification
 * failed; returpost: returned mail; feil: error; flyttet: moved to another mailbox provider;
 * fingeravtrykk: fingerprint (digest) of the encrypted package; virkningstidspunkt: when the letter
 * becomes visible; tidspunkt: the time a receipt speaks of.
 */
import { z } from 'zod'
import { formatOslo } from '../util/time.js'
import { DPI_BODY_SCHEMAS, dpiHeaderSchema } from './dpi-schemas.js'
import { ISO6523_ACTORID_UPIS } from './types.js'

export { DPI_FORMATS } from './dpi-schemas.js'

export const DPI_RECEIPT_TYPES = [
  'leveringskvittering',
  'aapningskvittering',
  'mottakskvittering',
  'varslingfeiletkvittering',
  'returpostkvittering',
  'feil',
] as const
export type DpiReceiptType = (typeof DPI_RECEIPT_TYPES)[number]
export type DpiType = 'digital' | 'utskrift' | DpiReceiptType | 'flyttet'
export const DPI_TYPES: readonly DpiType[] = ['digital', 'utskrift', 'flyttet', ...DPI_RECEIPT_TYPES]

export type DpiHeader = z.infer<typeof dpiHeaderSchema>

export interface DpiDocument {
  standardBusinessDocument: {
    standardBusinessDocumentHeader: DpiHeader
    /** the business message, under the key `documentIdentification.type` */
    [type: string]: unknown
  }
}

const TYPE_PATH = 'standardBusinessDocument.standardBusinessDocumentHeader.documentIdentification.type'

export function isDpiType(value: unknown): value is DpiType {
  return typeof value === 'string' && (DPI_TYPES as readonly string[]).includes(value)
}

export function isDpiReceiptType(value: unknown): value is DpiReceiptType {
  return typeof value === 'string' && (DPI_RECEIPT_TYPES as readonly string[]).includes(value)
}

/** `urn:fdc:digdir.no:2020:innbyggerpost:xsd::innbyggerpost##urn:fdc:digdir.no:2020:innbyggerpost:schema:<type>::1.0` */
export function dpiStandard(type: DpiType): string {
  return `urn:fdc:digdir.no:2020:innbyggerpost:xsd::innbyggerpost##urn:fdc:digdir.no:2020:innbyggerpost:schema:${type}::1.0`
}

/** The process (ConversationId scope `identifier`) of an outgoing letter. */
export function dpiProcess(type: 'digital' | 'utskrift'): string {
  return `urn:fdc:digdir.no:2020:profile:egovernment:innbyggerpost:${type}:ver1.0`
}

function documentSchema(type: DpiType) {
  return z.strictObject({
    standardBusinessDocument: z.strictObject({
      standardBusinessDocumentHeader: dpiHeaderSchema,
      [type]: DPI_BODY_SCHEMAS[type],
    }),
  })
}

const DOCUMENT_SCHEMAS = new Map(DPI_TYPES.map((t) => [t, documentSchema(t)]))
/** the envelope and header alone, to say what is wrong when the type cannot be read */
const HEADER_ONLY = z.strictObject({
  standardBusinessDocument: z.looseObject({ standardBusinessDocumentHeader: dpiHeaderSchema }),
})

function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  )
}

/** zod's issues with a union's first alternative's issues in its place (what the schema's reader needs) */
function flatten(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((i) =>
    i.code === 'invalid_union' && i.errors[0]?.length
      ? flatten(i.errors[0].map((inner) => ({ ...inner, path: [...i.path, ...inner.path] })))
      : [i],
  )
}

function describe(issues: readonly z.core.$ZodIssue[]): string {
  return flatten(issues)
    .slice(0, 3)
    .map((i) => {
      const at = pathText(i.path) || '(document)'
      if (i.code === 'invalid_type' && /received undefined/.test(i.message)) return `${at}: is required`
      if (i.code === 'unrecognized_keys') return `${at}: unknown member(s) ${i.keys.join(', ')}`
      return `${at}: ${i.message}`
    })
    .join('; ')
}

/**
 * Checks a DPI document as the schema of its `documentIdentification.type` would: the header as the
 * SBDH schema wants it, and exactly one body member of that type. `problem` names the JSON path.
 */
export function checkDpiDocument(
  doc: unknown,
): { ok: true; type: DpiType; doc: DpiDocument } | { ok: false; problem: string } {
  const type = peekType(doc)
  if (!isDpiType(type)) {
    const header = HEADER_ONLY.safeParse(doc)
    if (!header.success) return { ok: false, problem: describe(header.error.issues) }
    return { ok: false, problem: `${TYPE_PATH}: ${JSON.stringify(type)} is not a DPI document type` }
  }
  const result = DOCUMENT_SCHEMAS.get(type)!.safeParse(doc)
  if (!result.success) return { ok: false, problem: describe(result.error.issues) }
  // the input itself, not zod's copy: members keep their order and nothing is rewritten
  return { ok: true, type, doc: doc as DpiDocument }
}

function peekType(doc: unknown): unknown {
  const sbd = (doc as { standardBusinessDocument?: unknown } | null)?.standardBusinessDocument
  const header = (sbd as { standardBusinessDocumentHeader?: unknown } | null)?.standardBusinessDocumentHeader
  const di = (header as { documentIdentification?: unknown } | null)?.documentIdentification
  return (di as { type?: unknown } | null)?.type
}

/** The body of a checked document. */
export function dpiBody(doc: DpiDocument): Record<string, unknown> {
  const type = doc.standardBusinessDocument.standardBusinessDocumentHeader.documentIdentification.type
  return doc.standardBusinessDocument[type] as Record<string, unknown>
}

export interface DpiReceiptInput {
  type: DpiReceiptType
  /** the letter the receipt is about (`digital` or `utskrift`, as its sender signed it) */
  original: DpiDocument
  /** the mailbox or print provider making the receipt: its orgnr (or `0192:<orgnr>`) */
  provider: string
  /** the receipt's own id (a UUID): what the sender acknowledges with `/read` */
  id: string
  /** the time the receipt speaks of */
  tidspunkt: Date
  /** varslingfeiletkvittering: the channel that failed (required there) */
  varslingskanal?: 'epost' | 'sms'
  /** varslingfeiletkvittering: what went wrong */
  beskrivelse?: string
  /** feil: whose fault (required there) */
  feiltype?: 'KLIENT' | 'SERVER'
  /** feil: what went wrong */
  detaljer?: string
  now: Date
}

/**
 * A receipt as the mailbox or print provider (corner 4) makes one: from the provider to the letter's
 * sender, with a new id, the letter's ConversationId scope copied as it is (its process stays the
 * letter's), the provider as `avsender` and the letter's `avsender` organisation as `mottaker`.
 */
export function dpiReceipt(o: DpiReceiptInput): DpiDocument {
  const header = o.original.standardBusinessDocument.standardBusinessDocumentHeader
  const letter = dpiBody(o.original) as { avsender?: { virksomhetsidentifikator?: unknown } }
  const provider = /^\d{4}:/.test(o.provider) ? o.provider : `0192:${o.provider}`
  const org = (value: string) => ({ authority: ISO6523_ACTORID_UPIS, value })
  const body: Record<string, unknown> = {
    avsender: { virksomhetsidentifikator: org(provider) },
    mottaker: {
      virksomhetsidentifikator: structuredClone(
        letter.avsender?.virksomhetsidentifikator ?? header.sender[0]!.identifier,
      ),
    },
    tidspunkt: formatOslo(o.tidspunkt),
  }
  if (o.type === 'varslingfeiletkvittering') {
    if (!o.varslingskanal) throw new TypeError('a varslingfeiletkvittering needs its varslingskanal')
    if (o.beskrivelse !== undefined) body.beskrivelse = o.beskrivelse
    body.varslingskanal = o.varslingskanal
  }
  if (o.type === 'feil') {
    if (!o.feiltype) throw new TypeError('a feil receipt needs its feiltype')
    body.feiltype = o.feiltype
    if (o.detaljer !== undefined) body.detaljer = o.detaljer
  }
  return {
    standardBusinessDocument: {
      standardBusinessDocumentHeader: {
        headerVersion: '1.0',
        sender: [{ identifier: org(provider) }],
        receiver: [{ identifier: structuredClone(header.sender[0]!.identifier) }],
        documentIdentification: {
          standard: dpiStandard(o.type),
          typeVersion: '1.0',
          instanceIdentifier: o.id,
          type: o.type,
          creationDateAndTime: formatOslo(o.now),
        },
        businessScope: structuredClone(header.businessScope),
      },
      [o.type]: body,
    },
  }
}
