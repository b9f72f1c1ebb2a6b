import { conversationsByMessageId, registerStatus } from '../../conversations/repository.js'
import { LEVETID_UTLOPT_DESCRIPTION } from '../../conversations/statuses.js'
import type { Db, Executor } from '../../db/open.js'
import type { OutFileRow, OutMessageRow } from '../../db/schema.js'
import { ApiError } from '../../errors/api-error.js'
import type { PayloadStore } from '../../files/payload-store.js'
import { enqueue, type NewJob } from '../../jobs/outbox.js'
import type { BusinessKeys } from '../../packaging/keys.js'
import { checkSend } from '../../sbd/files.js'
import type { ServiceIdentifier, StandardBusinessDocument } from '../../sbd/types.js'
import type { Clock } from '../../util/time.js'
import { checkOwnCertificate } from './certificate.js'
import { filesOf, markSending } from './repository.js'
import { arkivmeldingOf, requireOutMessage, storedSbd, toFileInfo } from './stored.js'
import { lockMessage, uploadBusy, uploadInProgress } from './upload-lease.js'

/**
 * The job that delivers one outgoing message by `service`: a kind per service, so only an instance that
 * has the service's channel claims it (another on the same database leaves it alone).
 */
export function sendJobKind(service: string): string {
  return `send:${service}`
}

/** whether a job kind is a send job (`send` is what databases before migration 0008 kept) */
export function isSendJob(kind: string): boolean {
  return kind === 'send' || kind.startsWith('send:')
}

/** What sending a created message needs (the routes pass their AppDeps, a superset). */
export interface SendDeps {
  db: Db
  clock: Clock
  payloads: PayloadStore
  /** the business certificate, whose expiry stops a send; absent when no channel needs one */
  keys?: BusinessKeys | null
  /** wakes the job runner once the send job is committed */
  onSendJob?: () => void
}

/**
 * `POST /api/messages/out/{messageId}`. Success commits the SENDING state and the send job
 * in one transaction. Sending an already sent message again is a no-op: the messageId is the
 * idempotency key, so a client retrying after a lost answer never sends twice.
 */
export async function sendMessage(deps: SendDeps, messageId: string): Promise<void> {
  const db = deps.db.kysely
  const message = await requireOutMessage(db, messageId)
  if (message.state === 'SENDING') return
  // before the checks, so a file still arriving gives this answer rather than a missing-file one
  if (await uploadInProgress(db, message.id, deps.clock.now().getTime())) throw uploadBusy(messageId)
  const sbd = storedSbd(message)
  const files = await filesOf(db, message.id)
  const refused =
    checkOwnCertificate(deps.keys, deps.clock.now()) ?? (await sendCheck(deps, message, sbd, files))
  if (refused) {
    // the checks read without a lock: a delete that committed meanwhile leaves no files to find, and
    // the true answer is then that the message is gone
    await requireOutMessage(db, messageId)
    if (refused.code === 'TimeToLive') await registerExpired(deps, messageId)
    throw refused
  }
  await db.transaction().execute((trx) => commitSend(trx, deps, message))
  deps.onSendJob?.()
}

/** the send checks (src/sbd/files.ts) over a stored message; arkivmelding.xml is read back to check what it names. */
async function sendCheck(
  deps: SendDeps,
  message: OutMessageRow,
  sbd: StandardBusinessDocument,
  files: OutFileRow[],
): Promise<ApiError | undefined> {
  const arkivmelding = sbd.type === 'arkivmelding' ? await arkivmeldingOf(deps.payloads, files) : null
  return checkSend({
    sbd,
    serviceIdentifier: message.service_identifier as ServiceIdentifier,
    files: files.map(toFileInfo),
    now: deps.clock.now(),
    arkivmeldingFiles: arkivmelding?.referencedFiles ?? null,
  })
}

/**
 * Marks the message SENDING and enqueues its send job; call inside a transaction. Under the message's
 * lock, an upload that began after the checks above still stops it (409), on any instance.
 */
export async function commitSend(
  trx: Executor,
  deps: SendDeps,
  message: Pick<OutMessageRow, 'id' | 'message_id' | 'service_identifier'>,
): Promise<void> {
  const now = deps.clock.now().getTime()
  if (!(await lockMessage(trx, message.message_id)))
    throw new ApiError('MessageNotFound', ['messageId', message.message_id])
  if (await uploadInProgress(trx, message.id, now)) throw uploadBusy(message.message_id)
  if (!(await markSending(trx, message.id, now))) return
  await enqueueSend(trx, message.message_id, message.service_identifier, now)
}

/** The send job alone, for a message stored as SENDING in this transaction (the one-step send). */
export async function enqueueSend(
  trx: Executor,
  messageId: string,
  service: string,
  now: number,
): Promise<void> {
  await enqueue(trx, sendJob(messageId, service, now), now)
}

/** A message's send job, due at once; its dedupe key makes a second enqueue a no-op. */
export function sendJob(messageId: string, service: string, now: number): NewJob {
  return {
    kind: sendJobKind(service),
    payload: { messageId },
    messageId,
    dedupeKey: `send:${messageId}`,
    runAt: now,
  }
}

/** As the reference: an expired message gets LEVETID_UTLOPT, stays stored, and the client must resend. */
async function registerExpired(deps: SendDeps, messageId: string): Promise<void> {
  const now = deps.clock.now().getTime()
  await deps.db.kysely.transaction().execute(async (trx) => {
    for (const c of await conversationsByMessageId(trx, messageId, 'OUTGOING')) {
      await registerStatus(trx, c, { status: 'LEVETID_UTLOPT', description: LEVETID_UTLOPT_DESCRIPTION }, now)
    }
  })
}
