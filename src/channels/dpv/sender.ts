// DPV sending: one message becomes one Altinn correspondence (POST …/correspondence/upload), its files
// streamed from the payload store. The messageId is the idempotent key, so a retry after a lost answer gets
// 409 from Altinn and finds the correspondence it made instead of a second one. The correspondence's id is
// the delivery's reference: the status poller asks Altinn about it from then on.

import type { Logger } from 'pino'
import type { Config } from '../../config/types.js'
import type { Db } from '../../db/open.js'
import type { OutFileRow } from '../../db/schema.js'
import type { PayloadStore } from '../../files/payload-store.js'
import { ARKIVMELDING_FILE, MAX_ARKIVMELDING_BYTES, readText } from '../../messages/out/stored.js'
import type { ServiceRegistry } from '../../registry/client.js'
import { ServiceRegistryUnavailableError } from '../../registry/errors.js'
import {
  getConversationId,
  getMessageId,
  getProcess,
  getReceiver,
  getSender,
  getSikkerhetsnivaa,
  getStandard,
} from '../../sbd/accessors.js'
import { parseArkivmeldingContent } from '../../sbd/arkivmelding.js'
import { partOrPrimary, primaryIdentifier } from '../../sbd/identifiers.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import type { Clock } from '../../util/time.js'
import { BrokerError } from '../altinn-errors.js'
import { handoverOf, recordHandover } from '../handovers.js'
import type { OutgoingDelivery, SendOutcome } from '../ports.js'
import { ChannelSendError, requireStoredFiles } from '../send-error.js'
import type { CorrespondenceClient } from './client.js'
import { type Correspondence, correspondenceFields, type DpvSettings } from './form.js'
import { type FilePart, multipartBody } from './multipart.js'

export interface DpvSenderDeps {
  config: Config
  db: Db
  clock: Clock
  logger: Logger
  payloads: PayloadStore
  registry: ServiceRegistry
  client: CorrespondenceClient
}

/** What a handover record holds while Altinn may have the correspondence but its id is not known yet. */
const UPLOADING = 'uploading'

/** As the reference's digital_dpv: the body when the message gives none. */
const NO_CONTENT = 'Ingen innhold'

export async function sendDpv(deps: DpvSenderDeps, delivery: OutgoingDelivery): Promise<SendOutcome> {
  const { sbd } = delivery
  // as the reference: Altinn has no place for a receipt; it is discarded and counted as read
  if (sbd.type === 'arkivmelding_kvittering')
    return { outcome: 'delivered', statuses: [{ status: 'LEVERT' }, { status: 'LEST' }] }
  // a status message (when an operator lists DPV in difi.move.nextmove.status-services) has nowhere to go
  if (sbd.type === 'status') return { outcome: 'delivered' }
  try {
    const known = await handoverOf(deps.db.kysely, delivery.purpose)
    if (known && known !== UPLOADING) return { outcome: 'delivered', reference: known }
    const c = await correspondenceOf(deps, sbd, delivery.files)
    const fields = correspondenceFields(c.correspondence, deps.config.dpv)
    const body = multipartBody(
      fields.map(([name, value]) => ({ name, value })),
      c.files,
    )
    // from here Altinn may have it: a delete of the message is refused (handovers.ts)
    await recordHandover(deps.db.kysely, delivery.purpose, UPLOADING, deps.clock.now().getTime())
    const id = await upload(deps, c.correspondence, body)
    if (id === null)
      return {
        outcome: 'delivered',
        statuses: [{ status: 'ANNET', description: NOT_FOUND_AFTER_409 }],
      }
    await recordHandover(deps.db.kysely, delivery.purpose, id, deps.clock.now().getTime())
    return { outcome: 'delivered', reference: id }
  } catch (error) {
    return failure(error)
  }
}

export const NOT_FOUND_AFTER_409 =
  'Altinn already has a correspondence with this messageId as its idempotent key (409), but it could not be ' +
  'found by that key: its statuses will not be followed'

/** The id of the new correspondence, or of the one Altinn has under the key already; null if not found. */
async function upload(
  deps: DpvSenderDeps,
  c: Correspondence,
  body: ReturnType<typeof multipartBody>,
): Promise<string | null> {
  try {
    return await deps.client.upload(body)
  } catch (error) {
    if (!(error instanceof BrokerError) || error.status !== 409) throw error
  }
  // an earlier attempt of ours got there and its answer was lost (Altinn checks the key before anything else)
  try {
    const ids = await deps.client.findBySendersReference(c.resourceId, c.messageId)
    if (ids[0]) return ids[0]
    deps.logger.warn({ messageId: c.messageId }, `DPV: ${NOT_FOUND_AFTER_409}`)
  } catch (error) {
    deps.logger.warn(
      { messageId: c.messageId, err: error },
      `DPV: ${NOT_FOUND_AFTER_409}: ${(error as Error).message}`,
    )
  }
  return null
}

function failure(error: unknown): SendOutcome {
  if (error instanceof BrokerError) {
    const reason = problemReason(error)
    return error.retryable ? { outcome: 'retry', reason } : { outcome: 'failed', reason }
  }
  const reason = error instanceof Error ? error.message : String(error)
  if (error instanceof ChannelSendError && !error.retryable) return { outcome: 'failed', reason }
  return { outcome: 'retry', reason }
}

/** the message and Altinn's own words: its `detail` and `errorCode` */
function problemReason(error: BrokerError): string {
  const code = error.problem?.errorCode ?? error.problem?.code
  return code === undefined ? error.message : `${error.message} (errorCode ${String(code)})`
}

interface Prepared {
  correspondence: Correspondence
  files: FilePart[]
}

async function correspondenceOf(
  deps: DpvSenderDeps,
  sbd: StandardBusinessDocument,
  files: readonly OutFileRow[],
): Promise<Prepared> {
  const sender = getSender(sbd)
  const receiver = getReceiver(sbd)
  if (!sender || !receiver) throw new ChannelSendError('the message has no sender or receiver', false)
  const messageId = getMessageId(sbd)!
  const process = getProcess(sbd) ?? ''
  const recipient = primaryIdentifier(receiver)
  const [resourceId, senderName] = await lookups(deps, sbd, recipient, partOrPrimary(sender))
  const ordered = [...files].sort((a, b) => a.dokumentnummer - b.dokumentnummer)
  const content = await contentOf(deps, sbd, ordered)
  await requireStoredFiles(deps.payloads, content.files)
  return {
    correspondence: {
      messageId,
      type: sbd.type,
      process,
      sender: partOrPrimary(sender),
      senderName,
      recipient,
      resourceId,
      title: content.title,
      summary: content.summary,
      body: content.body,
      attachments: content.files.map((f) => ({ fileName: f.filename, displayName: f.title || f.filename })),
      dpv: (sbd.businessMessage.dpv as DpvSettings | undefined) ?? null,
      now: deps.clock.now(),
    },
    files: content.files.map((f) => ({
      name: 'attachments',
      filename: f.filename,
      contentType: f.mime_type || 'application/octet-stream',
      size: f.size,
      open: () => deps.payloads.read(f.storage_key),
    })),
  }
}

/** The resource of the receiver's service record, and our name, from the ServiceRegistry. */
async function lookups(
  deps: DpvSenderDeps,
  sbd: StandardBusinessDocument,
  recipient: string,
  sender: string,
): Promise<[string, string | null]> {
  try {
    const record = await deps.registry.serviceRecord(
      {
        identifier: recipient,
        process: getProcess(sbd) ?? '',
        conversationId: getConversationId(sbd) ?? null,
        securityLevel: getSikkerhetsnivaa(sbd) ?? null,
      },
      getStandard(sbd) ?? '',
    )
    const resource = record.service.resource
    if (!resource)
      throw new ChannelSendError(
        `the ServiceRegistry names no Altinn resource for ${recipient} and process ${getProcess(sbd)}`,
        false,
      )
    const info = await deps.registry.info(sender)
    return [resource, info.organizationName || null]
  } catch (error) {
    if (error instanceof ChannelSendError) throw error
    const retryable = error instanceof ServiceRegistryUnavailableError
    throw new ChannelSendError(`the ServiceRegistry: ${(error as Error).message}`, retryable, {
      cause: error,
    })
  }
}

interface Content {
  title: string
  summary: string | null
  body: string
  files: OutFileRow[]
}

/**
 * As the reference: an arkivmelding shows the journalpost's offentligTittel (else its tittel) as title and
 * summary and its tittel as body, with the files it references (not arkivmelding.xml itself); a
 * digital_dpv its tittel, sammendrag and innhold, with all its files.
 */
async function contentOf(
  deps: DpvSenderDeps,
  sbd: StandardBusinessDocument,
  files: OutFileRow[],
): Promise<Content> {
  const m = sbd.businessMessage
  if (sbd.type === 'digital_dpv') {
    const text = (v: unknown) => (typeof v === 'string' ? v : null)
    return {
      title: text(m.tittel) ?? '',
      summary: text(m.sammendrag),
      body: text(m.innhold) || NO_CONTENT,
      files,
    }
  }
  if (sbd.type !== 'arkivmelding')
    throw new ChannelSendError(`DPV carries arkivmelding and digital_dpv, not ${sbd.type}`, false)
  const xmlFile = files.find((f) => f.filename === ARKIVMELDING_FILE)
  if (!xmlFile) throw new ChannelSendError(`the arkivmelding has no ${ARKIVMELDING_FILE}`, false)
  let parsed: ReturnType<typeof parseArkivmeldingContent>
  try {
    parsed = parseArkivmeldingContent(
      await readText(deps.payloads, xmlFile.storage_key, MAX_ARKIVMELDING_BYTES),
    )
  } catch (error) {
    const missing = (error as { code?: unknown }).code === 'ENOENT'
    throw new ChannelSendError(`${ARKIVMELDING_FILE}: ${(error as Error).message}`, missing, { cause: error })
  }
  const title = parsed.title ?? parsed.journalpostTitle ?? ''
  const referenced = new Set(parsed.referencedFiles)
  return {
    title,
    summary: title,
    body: parsed.journalpostTitle ?? title,
    files: files.filter((f) => f.filename !== ARKIVMELDING_FILE && referenced.has(f.filename)),
  }
}
