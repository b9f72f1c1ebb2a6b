// DPF sending: an arkivmelding becomes one SvarUt organisation forsendelse (REST v3), its documents streamed
// from the payload store one at a time, each CMS-encrypted to SvarUt's certificate from the receiver's DPF
// record in the ServiceRegistry. SvarUt picks the forsendelse's id; it is the delivery's reference, which the
// status poller asks about (the reference throws it away and polls an id SvarUt never issued:
// its SvarUtService.send). SvarUt has no idempotent key, so an in-flight handover record and a lookup by eksternReferanse
// (our messageId) keep a lost answer from becoming a second forsendelse.

import { pipeline, type Readable } from 'node:stream'
import type { Logger } from 'pino'
import type { Config } from '../../config/types.js'
import type { Db } from '../../db/open.js'
import type { OutFileRow } from '../../db/schema.js'
import type { PayloadStore } from '../../files/payload-store.js'
import { ARKIVMELDING_FILE, MAX_ARKIVMELDING_BYTES, readText } from '../../messages/out/stored.js'
import { CmsError, encryptStream } from '../../packaging/cms.js'
import type { ServiceRegistry } from '../../registry/client.js'
import { ServiceRegistryUnavailableError } from '../../registry/errors.js'
import { getConversationId, getMessageId, getProcess, getStandard } from '../../sbd/accessors.js'
import { RECEIPT_TYPES } from '../../sbd/rules.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import type { Clock } from '../../util/time.js'
import { handoverOf, recordHandover } from '../handovers.js'
import type { OutgoingDelivery, SendOutcome } from '../ports.js'
import { ChannelSendError, requireStoredFiles } from '../send-error.js'
import { FiksError } from './errors.js'
import {
  ForsendelseError,
  type ForsendelseMessage,
  forsendelseMessage,
  type OrganisasjonForsendelse,
  organisasjonForsendelse,
  type Parties,
} from './forsendelse.js'
import type { DocumentPart, SvarUtClient } from './svarut-client.js'

export interface DpfSenderDeps {
  config: Config
  db: Db
  clock: Clock
  logger: Logger
  payloads: PayloadStore
  registry: ServiceRegistry
  client: SvarUtClient
}

/** What a handover record holds while SvarUt may have the forsendelse but its id is not known yet. */
const IN_FLIGHT = 'sending'

/** A stored document that failed while SvarUt was reading it: our failure, whatever SvarUt answers then. */
interface ReadFailure {
  error: ChannelSendError | null
}

export async function sendDpf(deps: DpfSenderDeps, delivery: OutgoingDelivery): Promise<SendOutcome> {
  const { sbd } = delivery
  // a status message (when an operator lists DPF in difi.move.nextmove.status-services) has nowhere to go
  if (sbd.type === 'status') return { outcome: 'delivered' }
  // as the reference: SvarUt carries no receipts; nothing is sent, and it counts as delivered and read
  if ((RECEIPT_TYPES as readonly string[]).includes(sbd.type))
    return { outcome: 'delivered', statuses: [{ status: 'LEVERT' }, { status: 'LEST' }] }
  if (sbd.type !== 'arkivmelding')
    return { outcome: 'failed', reason: `DPF carries arkivmelding and receipts, not ${sbd.type}` }
  const reads: ReadFailure = { error: null }
  try {
    const known = await handoverOf(deps.db.kysely, delivery.purpose)
    if (known !== null && known !== IN_FLIGHT) return delivered(known)
    const messageId = getMessageId(sbd)!
    if (known === IN_FLIGHT) {
      // an earlier try may have reached SvarUt and lost the answer: its forsendelse is the one
      const found = await earlierForsendelse(deps, messageId)
      if (found !== null) {
        await recordHandover(deps.db.kysely, delivery.purpose, found, deps.clock.now().getTime())
        return delivered(found)
      }
    }
    const { forsendelse, documents } = await prepare(deps, sbd, delivery.files, reads)
    // from here SvarUt may have it: a retry looks it up first, and a delete of the message is refused
    await recordHandover(deps.db.kysely, delivery.purpose, IN_FLIGHT, deps.clock.now().getTime())
    const id = await deps.client.send(forsendelse, documents)
    await recordHandover(deps.db.kysely, delivery.purpose, id, deps.clock.now().getTime())
    return delivered(id)
  } catch (error) {
    return failure(reads.error ?? error)
  }
}

/** as the reference: SvarUt guarantees delivery once it has accepted, so LEVERT follows SENDT at once */
function delivered(id: string): SendOutcome {
  return { outcome: 'delivered', reference: id, statuses: [{ status: 'LEVERT' }] }
}

async function earlierForsendelse(deps: DpfSenderDeps, messageId: string): Promise<string | null> {
  const ids = await deps.client.findByEksternRef(messageId)
  if (ids.length > 1)
    deps.logger.warn(
      { messageId, forsendelseIds: ids },
      `DPF: SvarUt has ${ids.length} forsendelser with eksternRef ${messageId}; following the first`,
    )
  return ids[0] ?? null
}

function failure(error: unknown): SendOutcome {
  const reason = error instanceof Error ? error.message : String(error)
  // FiksError's message is SvarUt's own: `SvarUt POST /api/v3/… answered 400: <message>`
  if (error instanceof FiksError || error instanceof ChannelSendError)
    return error.retryable ? { outcome: 'retry', reason } : { outcome: 'failed', reason }
  if (error instanceof ForsendelseError) return { outcome: 'failed', reason }
  return { outcome: 'retry', reason }
}

interface Prepared {
  forsendelse: OrganisasjonForsendelse
  documents: DocumentPart[]
}

async function prepare(
  deps: DpfSenderDeps,
  sbd: StandardBusinessDocument,
  files: readonly OutFileRow[],
  reads: ReadFailure,
): Promise<Prepared> {
  const message = await messageOf(deps, sbd, files)
  const { certificate, parties } = await lookups(deps, sbd, message)
  const forsendelse = organisasjonForsendelse(message, parties, deps.config.fiks)
  const byName = new Map(files.map((f) => [f.filename, f]))
  const documents: DocumentPart[] = []
  // in dokumenter's order: SvarUt pairs the parts with it by position
  await requireStoredFiles(
    deps.payloads,
    forsendelse.dokumenter.map((d) => byName.get(d.filnavn)!),
  )
  for (const d of forsendelse.dokumenter) {
    const file = byName.get(d.filnavn)!
    documents.push({
      filnavn: d.filnavn,
      mimeType: d.mimeType,
      open: () => opened(deps.payloads, file, certificate, reads),
    })
  }
  return { forsendelse, documents }
}

async function messageOf(
  deps: DpfSenderDeps,
  sbd: StandardBusinessDocument,
  files: readonly OutFileRow[],
): Promise<ForsendelseMessage> {
  const xmlFile = files.find((f) => f.filename === ARKIVMELDING_FILE)
  if (!xmlFile) throw new ChannelSendError(`the arkivmelding has no ${ARKIVMELDING_FILE}`, false)
  let xml: string
  try {
    xml = await readText(deps.payloads, xmlFile.storage_key, MAX_ARKIVMELDING_BYTES)
  } catch (error) {
    const missing = (error as { code?: unknown }).code === 'ENOENT'
    throw new ChannelSendError(`${ARKIVMELDING_FILE}: ${(error as Error).message}`, missing, { cause: error })
  }
  const uploaded = files.map((f) => ({ name: f.filename, mimeType: f.mime_type }))
  try {
    return forsendelseMessage(sbd, xml, uploaded)
  } catch (error) {
    if (error instanceof ForsendelseError) throw error
    throw new ChannelSendError(`${ARKIVMELDING_FILE}: ${(error as Error).message}`, false, { cause: error })
  }
}

/**
 * SvarUt's certificate (the `pemCertificate` of the receiver's DPF record, asked for at the message's
 * sikkerhetsnivaa) when the documents are to be encrypted, and the info records of receiver and sender.
 */
async function lookups(
  deps: DpfSenderDeps,
  sbd: StandardBusinessDocument,
  m: ForsendelseMessage,
): Promise<{ certificate: string | null; parties: Parties }> {
  try {
    const record = await deps.registry.serviceRecord(
      {
        identifier: m.receiverOrgnr,
        process: getProcess(sbd) ?? '',
        conversationId: getConversationId(sbd) ?? null,
        securityLevel: m.sikkerhetsnivaa,
      },
      getStandard(sbd) ?? '',
    )
    const [receiver, sender] = await Promise.all([
      deps.registry.info(m.receiverOrgnr),
      deps.registry.info(m.senderOrgnr),
    ])
    return { certificate: certificateOf(deps, m, record.pemCertificate), parties: { receiver, sender } }
  } catch (error) {
    if (error instanceof ChannelSendError) throw error
    const retryable = error instanceof ServiceRegistryUnavailableError
    throw new ChannelSendError(`the ServiceRegistry: ${(error as Error).message}`, retryable, {
      cause: error,
    })
  }
}

/**
 * null when difi.move.fiks.kryptert is false: the documents go as they are, as the forsendelse's `kryptert`
 * says. The reference encrypts them anyway, telling SvarUt they are not, so SvarUt would pass CMS on as the
 * documents; we keep the bytes and the flag in step.
 */
function certificateOf(deps: DpfSenderDeps, m: ForsendelseMessage, pem: string | null): string | null {
  if (!deps.config.fiks.kryptert) return null
  const what = `the ServiceRegistry's DPF record for ${m.receiverOrgnr}`
  if (!pem)
    throw new ChannelSendError(`${what} has no certificate (SvarUt's) to encrypt the documents to`, false)
  try {
    // checked before anything is sent: a certificate we cannot encrypt to fails the same way every time
    encryptStream(pem).destroy()
  } catch (error) {
    if (!(error instanceof CmsError)) throw error
    throw new ChannelSendError(`${what} has a certificate that cannot be used: ${error.message}`, false, {
      cause: error,
    })
  }
  return pem
}

/**
 * A document's bytes as SvarUt reads them: opened only when its part is written, and encrypted on the way,
 * so one document at a time is in flight and none is ever held whole. A read that fails is remembered so
 * that whatever SvarUt answers to the broken upload is not taken for its verdict on the message.
 */
function opened(
  payloads: PayloadStore,
  file: OutFileRow,
  certificate: string | null,
  reads: ReadFailure,
): Readable {
  const source = payloads.read(file.storage_key)
  source.once('error', (error: Error) => {
    reads.error ??= new ChannelSendError(
      `its stored file ${file.filename} could not be read: ${error.message}; tried again later`,
      true,
      { cause: error },
    )
  })
  if (certificate === null) return source
  // the error, if any, ends the encrypted stream too, and so the upload
  return pipeline(source, encryptStream(certificate), () => {})
}
