import type { Config } from '../../config/types.js'
import type { Executor } from '../../db/open.js'
import { enqueue } from '../../jobs/outbox.js'
import {
  getConversationId,
  getMessageChannel,
  getMessageId,
  getProcess,
  getScope,
} from '../../sbd/accessors.js'
import { serializeSbd } from '../../sbd/parse.js'
import { defaultStandard, defaultTypeVersion } from '../../sbd/prototype.js'
import type { Partner, Scope, ServiceIdentifier, StandardBusinessDocument } from '../../sbd/types.js'
import { formatOslo } from '../../util/time.js'

/**
 * `status` messages back to the sender (the reference's ResponseStatusSender): MOTTATT when a message is
 * taken in, LEVERT when the fagsystem deletes it. The reference sends them from an in-memory thread, so a
 * crash loses them; here they are durable jobs, enqueued in the transaction that makes the change.
 */
export function statusReplyJobKind(service: string): string {
  return `status-reply:${service}`
}

/** the payload of a status-reply job */
export interface StatusReplyPayload {
  service: ServiceIdentifier
  sbd: unknown /* serializeSbd(statusSbd) */
}

/** MOTTATT and LEVERT as the reference; FEIL (ours) when a message is refused on receipt */
export type ReplyStatus = 'MOTTATT' | 'LEVERT' | 'FEIL'

/** as the reference: a status message lives 24 hours */
const STATUS_TTL_MS = 24 * 60 * 60 * 1000

/**
 * The reference's `SBDFactory.createStatusFrom`: sender and receiver swapped, the same messageId and
 * conversationId, the receipt process of the original's kind, the status document type, a TTL of 24
 * hours, the original's message channel, and `{"status": …}` as the business message.
 */
export function createStatusFrom(
  original: StandardBusinessDocument,
  status: ReplyStatus,
  config: Config,
  now: Date,
  description?: string,
): StandardBusinessDocument {
  const header = original.standardBusinessDocumentHeader
  const scopes: Scope[] = [
    {
      type: 'ConversationId',
      instanceIdentifier: getConversationId(original) ?? null,
      identifier: receiptProcess(original, config),
      scopeInformation: [{ expectedResponseDateTime: formatOslo(now.getTime() + STATUS_TTL_MS) }],
    },
  ]
  const channel = getScope(original, 'MESSAGE_CHANNEL')
  if (channel && getMessageChannel(original)) scopes.push({ ...channel })
  return {
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      sender: identifiersOnly(header.receiver),
      receiver: identifiersOnly(header.sender),
      documentIdentification: {
        standard: defaultStandard('status', {
          nextmove: { statusDocumentType: config.properties.get('difi.move.nextmove.status-document-type') },
        }),
        typeVersion: defaultTypeVersion('status'),
        instanceIdentifier: getMessageId(original) ?? null,
        type: 'status',
        creationDateAndTime: formatOslo(now),
      },
      businessScope: { scope: scopes },
    },
    type: 'status',
    businessMessage: description === undefined ? { status } : { status, description },
  }
}

/** The answer's process: the receipt process of eInnsyn, avtalt or (everything else) arkivmelding. */
function receiptProcess(original: StandardBusinessDocument, config: Config): string {
  const process = getProcess(original) ?? ''
  if (
    /:einnsyn:/.test(process) ||
    ['innsynskrav', 'publisering', 'einnsyn_kvittering'].includes(original.type)
  )
    return config.einnsyn.receiptProcess
  if (/:avtalt:/.test(process) || original.type === 'avtalt') return config.avtalt.receiptProcess
  return config.arkivmelding.receiptProcess
}

function identifiersOnly(partners: Partner[] | null | undefined): Partner[] {
  const id = partners?.[0]?.identifier
  return id ? [{ identifier: { value: id.value ?? null, authority: id.authority ?? null } }] : []
}

/** enqueues the job (in the caller's transaction) when the service is in config.nextmove.statusServices */
export async function enqueueStatusReply(
  trx: Executor,
  config: Config,
  original: StandardBusinessDocument,
  si: ServiceIdentifier,
  status: ReplyStatus,
  now: Date,
  description?: string,
): Promise<void> {
  if (!(config.nextmove.statusServices as readonly string[]).includes(si)) return
  const messageId = getMessageId(original)
  if (!messageId) return
  const payload: StatusReplyPayload = {
    service: si,
    sbd: serializeSbd(createStatusFrom(original, status, config, now, description)),
  }
  await enqueue(
    trx,
    {
      kind: statusReplyJobKind(si),
      payload,
      messageId,
      dedupeKey: `status-reply:${messageId}:${status}`,
      runAt: now.getTime(),
    },
    now.getTime(),
  )
}
