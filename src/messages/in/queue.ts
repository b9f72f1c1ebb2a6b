import type { Config } from '../../config/types.js'
import { conversationsByMessageId, registerStatus } from '../../conversations/repository.js'
import type { Db, Executor } from '../../db/open.js'
import type { InMessageRow } from '../../db/schema.js'
import { ApiError } from '../../errors/api-error.js'
import type { PayloadStore } from '../../files/payload-store.js'
import { parseSbdJson } from '../../sbd/parse.js'
import type { ServiceIdentifier } from '../../sbd/types.js'
import type { Clock } from '../../util/time.js'
import { folderOf } from './orphans.js'
import {
  deleteInMessage,
  type InFilter,
  inMessageByMessageId,
  lockNext,
  unlockById,
  unlockMatching,
} from './repository.js'
import { enqueueStatusReply } from './status-reply.js'

/** The stored SBD as the API shows it (stored as the API JSON at intake). */
/** What the incoming queue's operations need (the routes pass their AppDeps, a superset). */
export interface QueueDeps {
  config: Config
  db: Db
  clock: Clock
  payloads: PayloadStore
  /** wakes the job runner once a status reply is committed */
  onSendJob?: () => void
}

export function toApiSbd(row: Pick<InMessageRow, 'sbd'>): unknown {
  return JSON.parse(row.sbd)
}

export function isLocked(row: Pick<InMessageRow, 'lock_timeout'>, now: number): boolean {
  return row.lock_timeout !== null && row.lock_timeout > now
}

/** 404 when unknown, 400 MessageNotLocked when not locked (pop and delete). */
export async function lockedMessage(db: Executor, messageId: string, now: number): Promise<InMessageRow> {
  const row = await inMessageByMessageId(db, messageId)
  if (!row) throw new ApiError('MessageNotFound', ['messageId', messageId])
  if (!isLocked(row, now)) throw new ApiError('MessageNotLocked', ['messageId', messageId])
  return row
}

/** `GET /api/messages/in/peek`: locks the oldest unlocked message for lockTimeoutMinutes. */
export async function peek(deps: QueueDeps, filter: InFilter): Promise<InMessageRow | undefined> {
  const now = deps.clock.now().getTime()
  const until = now + deps.config.nextmove.lockTimeoutMinutes * 60_000
  return lockNext(deps.db.kysely, deps.db.caps, filter, now, until)
}

/**
 * `DELETE /api/messages/in/{messageId}`: the row goes, the incoming conversation gets
 * INNKOMMENDE_LEVERT and the sender a LEVERT status message, in one transaction; the payload file is
 * removed after the commit (a crash in between leaves a file the orphan sweep removes).
 */
export async function deleteIncoming(deps: QueueDeps, messageId: string): Promise<InMessageRow> {
  const now = deps.clock.now()
  const nowMs = now.getTime()
  const row = await lockedMessage(deps.db.kysely, messageId, nowMs)
  const sbd = parseSbdJson(row.sbd)
  const deleted = await deps.db.kysely.transaction().execute(async (trx) => {
    if (!(await deleteInMessage(trx, row.id))) return false
    for (const c of await conversationsByMessageId(trx, messageId, 'INCOMING'))
      await registerStatus(trx, c, { status: 'INNKOMMENDE_LEVERT' }, nowMs)
    await enqueueStatusReply(
      trx,
      deps.config,
      sbd,
      row.service_identifier as ServiceIdentifier,
      'LEVERT',
      now,
    )
    return true
  })
  // another request deleted it between our read and our delete
  if (!deleted) throw new ApiError('MessageNotFound', ['messageId', messageId])
  await removeIncomingPayload(deps.payloads, row.asic_key)
  deps.onSendJob?.()
  return row
}

/** `POST /api/messages/in/unlock/{messageId}` (ours): 404 when unknown; unlocked or not, the SBD. */
export async function unlockOne(deps: QueueDeps, messageId: string): Promise<InMessageRow> {
  const row = await inMessageByMessageId(deps.db.kysely, messageId)
  if (!row) throw new ApiError('MessageNotFound', ['messageId', messageId])
  await unlockById(deps.db.kysely, row.id)
  return row
}

/** `POST /api/messages/in/unlock` (ours): the locked messages among `messageIds`, or all matching `filter`. */
export async function unlockMany(
  deps: QueueDeps,
  filter: InFilter,
  messageIds: readonly string[] | undefined,
): Promise<number> {
  return unlockMatching(deps.db.kysely, filter, deps.clock.now().getTime(), messageIds)
}

/** Removes a queued message's payload file and its folder; idempotent. */
export async function removeIncomingPayload(payloads: PayloadStore, key: string | null): Promise<void> {
  if (!key) return
  await payloads.remove(key)
  await payloads.removeDir(folderOf(key))
}

/**
 * For the expiry job: deletes the queued message of an expired INCOMING conversation in the caller's
 * transaction and returns its payload key, to be removed after the commit.
 */
export async function dropQueuedMessage(
  trx: Executor,
  messageId: string,
): Promise<{ asicKey: string | null } | undefined> {
  const row = await inMessageByMessageId(trx, messageId)
  if (!row || !(await deleteInMessage(trx, row.id))) return undefined
  return { asicKey: row.asic_key }
}
