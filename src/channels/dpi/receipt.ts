/**
 * DPI receipts (`GET /messages/in`): each a JWS signed by the mailbox or print provider, read and
 * turned into statuses as the reference's DpiReceiptHandler, JsonDpiReceiptMapper and
 * MessageStatusMapper do. Who signed is the caller's question (`certificate`).
 */
import type { X509Certificate } from 'node:crypto'
import { JwsError, verifyJws } from '../../packaging/jws.js'
import { getScope } from '../../sbd/accessors.js'
import { checkDpiDocument, type DpiDocument, type DpiType, dpiBody } from '../../sbd/dpi.js'
import type { StatusUpdate } from '../ports.js'

export interface DpiReceipt {
  /** the receipt's own instanceIdentifier: the id to acknowledge with `/read` */
  id: string
  type: DpiType
  /** the letter's conversation (the ConversationId scope the provider copied) */
  conversationId: string
  /** `0192:<orgnr>` of the provider that sent the receipt (the header's sender) */
  provider: string
  /** the time the receipt speaks of (null when it has none: then the caller uses its own now) */
  tidspunkt: Date | null
  /** the signer's certificate, from `x5c[0]` */
  certificate: X509Certificate
  /** the JWS as received */
  raw: string
  /** varslingfeiletkvittering: channel and beskrivelse; feil: feiltype and detaljer; else null */
  detail: string | null
  /** the checked document */
  doc: DpiDocument
}

/**
 * The receipt cannot be read at all (not a JWS, a signature that does not hold, a body its schema
 * refuses, an unknown type): set it aside. `kind` says whether the signature or the content failed.
 */
export class ReceiptError extends Error {
  override name = 'ReceiptError'

  constructor(
    message: string,
    readonly kind: 'signature' | 'content',
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Verifies the receipt's JWS with its `x5c[0]` certificate, then checks it against its type's schema. */
export async function readReceipt(jws: string): Promise<DpiReceipt> {
  let verified: Awaited<ReturnType<typeof verifyJws>>
  try {
    verified = await verifyJws(jws)
  } catch (cause) {
    if (!(cause instanceof JwsError)) throw cause
    throw new ReceiptError(`DPI receipt refused: ${cause.message}`, 'signature', { cause })
  }
  const checked = checkDpiDocument(verified.payload)
  if (!checked.ok) throw new ReceiptError(`DPI receipt refused: ${checked.problem}`, 'content')
  const header = checked.doc.standardBusinessDocument.standardBusinessDocumentHeader
  const conversationId = getScope(
    { standardBusinessDocumentHeader: header, type: checked.type, businessMessage: {} },
    'CONVERSATION_ID',
  )?.instanceIdentifier
  if (!conversationId)
    throw new ReceiptError('DPI receipt refused: it has no ConversationId scope', 'content')
  const body = dpiBody(checked.doc)
  const tidspunkt = typeof body.tidspunkt === 'string' ? new Date(body.tidspunkt) : null
  return {
    id: header.documentIdentification.instanceIdentifier,
    type: checked.type,
    conversationId,
    provider: header.sender[0]!.identifier.value,
    tidspunkt: tidspunkt && !Number.isNaN(tidspunkt.getTime()) ? tidspunkt : null,
    certificate: verified.certificate,
    raw: jws.trim(),
    detail: detailOf(checked.type, body),
    doc: checked.doc,
  }
}

function detailOf(type: DpiType, body: Record<string, unknown>): string | null {
  const join = (...parts: unknown[]) =>
    parts.filter((p): p is string => typeof p === 'string' && p !== '').join(': ') || null
  if (type === 'varslingfeiletkvittering') return join(body.varslingskanal, body.beskrivelse)
  if (type === 'feil') return join(body.feiltype, body.detaljer)
  return null
}

/** The status and the description the reference registers for each type (MessageStatusMapper). */
const MAPPING: Partial<Record<DpiType, { status: string; description: string }>> = {
  leveringskvittering: {
    status: 'LEVERT',
    description:
      'Kvittering på at digital post er tilgjengeliggjort eller at fysisk post er klargjort for utskrift',
  },
  aapningskvittering: {
    status: 'LEST',
    description: 'Kvittering fra Innbygger for at digital post er åpnet',
  },
  mottakskvittering: {
    status: 'LEVERT',
    description:
      'Kvittering fra utskrift og forsendelsestjenesten om at melding er mottatt og lagt til print',
  },
  varslingfeiletkvittering: {
    status: 'FEIL',
    description: 'Kvittering for at en spesifisert varsling ikke har blitt sendt',
  },
  returpostkvittering: {
    status: 'FEIL',
    description:
      'Kvittering fra utskrift og forsendelsestjenesten om at posten ikke har blitt levert til Mottaker.',
  },
  feil: { status: 'FEIL', description: 'Generell melding om at det har skjedd en feil' },
}
/** any other known type (`flyttet`, or a letter type coming back) */
const UNKNOWN = { status: 'ANNET', description: 'Ukjent kvittering' }

/**
 * The statuses a receipt registers on its conversation, which has the statuses `has` already. A FEIL
 * carries the receipt's own detail after the reference's description. A LEVERT on a conversation
 * without MOTTATT registers MOTTATT first, as the reference does (with no description or receipt of
 * its own; the reference dates it a second before the receipt's tidspunkt).
 */
export function receiptStatuses(r: DpiReceipt, has: readonly string[]): StatusUpdate[] {
  const mapped = MAPPING[r.type] ?? UNKNOWN
  const description =
    mapped.status === 'FEIL' && r.detail ? `${mapped.description} (${r.detail})` : mapped.description
  const out: StatusUpdate[] = []
  if (mapped.status === 'LEVERT' && !has.includes('MOTTATT')) out.push({ status: 'MOTTATT' })
  out.push({ status: mapped.status, description, rawReceipt: r.raw })
  return out
}
