import type { Logger } from 'pino'
import { pruneHandovers } from '../channels/handovers.js'
import type { Db, Executor } from '../db/open.js'
import type { PayloadStore } from '../files/payload-store.js'
import type { Task } from '../jobs/loop.js'
import { removeIncomingPayload } from '../messages/in/queue.js'
import { outPayloadFolder } from '../messages/out/orphans.js'
import type { Clock } from '../util/time.js'

/**
 * Retention (ours; the reference keeps everything until an operator deletes it): removes history the
 * integration point no longer needs, in small batches, each in its own short transaction, so a request
 * or a job never waits behind it for more than one batch.
 *
 * - finished conversations (LEVERT, LEST, FEIL, LEVETID_UTLOPT, INNKOMMENDE_LEVERT) last updated more than
 *   `days` ago, with their statuses, status-queue entries, any message row still left for them and its
 *   payload files (an expired outgoing message that was never sent, say);
 * - DONE and FAILED job rows (sends, status messages, webhook deliveries) last updated that long ago;
 * - `received` rows after at least RECEIVED_KEEP_DAYS, and `handovers` rows after at least
 *   TRANSFER_KEEP_DAYS (see there).
 *
 * Open conversations, queued incoming messages and pending jobs are never touched, however old.
 */
export interface RetentionSettings {
  /** 0 = off */
  days: number
  /** rows per transaction */
  batchSize: number
}

export interface RetentionDeps {
  db: Db
  clock: Clock
  payloads: PayloadStore
  logger: Logger
}

const DAY_MS = 86_400_000

/**
 * A `received` row is what makes a second copy of a message a duplicate instead of a second delivery to
 * the fagsystem. A copy can come as long as some broker may still list one: an Altinn broker transfer
 * lives 30 days unconfirmed (fileTransferTimeToLive P30D), and a reference sender retries a failed send
 * for up to 105 redeliveries over about 4½ days (queue.maximum-retry-hours=100), each as a new transfer
 * with the same messageId. 30 + 4½ days, rounded up with room to spare.
 */
export const RECEIVED_KEEP_DAYS = 40

/**
 * A `handovers` row lets a retried send find what it already handed to the service. After 30 days the
 * service has long given up an unfinished delivery (the longest any keeps one: an Altinn file transfer,
 * P30D), so the row can no longer help; most rows go when the send finishes anyway.
 */
export const TRANSFER_KEEP_DAYS = 30

export interface RetentionRound {
  conversations: number
  jobs: number
  received: number
  handovers: number
}

/** One batch of each kind; the loop runs rounds back to back while they find something. */
export async function retentionRound(deps: RetentionDeps, s: RetentionSettings): Promise<RetentionRound> {
  const now = deps.clock.now().getTime()
  const cutoff = now - s.days * DAY_MS
  const db = deps.db.kysely
  return {
    conversations: await removeFinishedConversations(deps, cutoff, s.batchSize),
    jobs: await removeFinishedJobs(db, cutoff, s.batchSize),
    received: await removeReceived(db, now - Math.max(s.days, RECEIVED_KEEP_DAYS) * DAY_MS, s.batchSize),
    handovers: await pruneHandovers(db, now - Math.max(s.days, TRANSFER_KEEP_DAYS) * DAY_MS, s.batchSize),
  }
}

/**
 * Retention as a background task (one instance at a time runs it), or null when retention is off. It
 * logs one line per pass that removed something.
 */
export function retentionTask(
  deps: RetentionDeps,
  s: RetentionSettings & { intervalMs: number },
): Task | null {
  if (s.days <= 0) return null
  let pass: RetentionRound = { conversations: 0, jobs: 0, received: 0, handovers: 0 }
  return {
    name: 'retention',
    intervalMs: s.intervalMs,
    tick: async () => {
      const round = await retentionRound(deps, s)
      const removed = total(round)
      for (const k of Object.keys(pass) as (keyof RetentionRound)[]) pass[k] += round[k]
      if (removed === 0 && total(pass) > 0) {
        deps.logger.info({ removed: pass, olderThanDays: s.days }, 'retention removed old history')
        pass = { conversations: 0, jobs: 0, received: 0, handovers: 0 }
      }
      return removed
    },
    onError: (err) => deps.logger.error({ err }, 'retention failed; it runs again'),
  }
}

function total(r: RetentionRound): number {
  return r.conversations + r.jobs + r.received + r.handovers
}

/** One batch of finished conversations and all that hangs on them; payload files go after the commit. */
async function removeFinishedConversations(
  deps: RetentionDeps,
  cutoff: number,
  batch: number,
): Promise<number> {
  const { caps } = deps.db
  const gone = await deps.db.kysely.transaction().execute(async (trx) => {
    let pick = trx
      .selectFrom('conversations')
      .select(['id', 'message_id', 'direction'])
      .where('finished', '=', 1)
      .where('last_update', '<', cutoff)
      .orderBy('last_update')
      .limit(batch)
    // another instance's round (or a status being registered) holds those rows: take others
    if (caps.skipLocked) pick = pick.forUpdate().skipLocked()
    const rows = await pick.execute()
    if (rows.length === 0) return { count: 0, outgoing: [], asicKeys: [] }
    const ids = rows.map((r) => r.id)
    const outgoing = rows.filter((r) => r.direction === 'OUTGOING').map((r) => r.message_id)
    const incoming = rows.filter((r) => r.direction === 'INCOMING').map((r) => r.message_id)
    await trx
      .deleteFrom('status_queue')
      .where(
        'status_fk',
        'in',
        trx.selectFrom('message_statuses').select('id').where('conversation_fk', 'in', ids),
      )
      .execute()
    await trx.deleteFrom('message_statuses').where('conversation_fk', 'in', ids).execute()
    if (outgoing.length) await removeOutMessages(trx, outgoing)
    const asicKeys = incoming.length ? await removeInMessages(trx, incoming) : []
    await trx.deleteFrom('conversations').where('id', 'in', ids).execute()
    return { count: rows.length, outgoing, asicKeys }
  })
  for (const messageId of gone.outgoing) await deps.payloads.removeDir(outPayloadFolder(messageId))
  for (const key of gone.asicKeys) await removeIncomingPayload(deps.payloads, key)
  return gone.count
}

async function removeOutMessages(trx: Executor, messageIds: string[]): Promise<void> {
  const messages = trx.selectFrom('out_messages').select('id').where('message_id', 'in', messageIds)
  await trx.deleteFrom('out_files').where('message_fk', 'in', messages).execute()
  await trx.deleteFrom('out_messages').where('message_id', 'in', messageIds).execute()
}

async function removeInMessages(trx: Executor, messageIds: string[]): Promise<string[]> {
  const rows = await trx
    .deleteFrom('in_messages')
    .where('message_id', 'in', messageIds)
    .returning('asic_key')
    .execute()
  return rows.flatMap((r) => (r.asic_key ? [r.asic_key] : []))
}

/** One batch of DONE and FAILED jobs last updated before `cutoff`, through their index (migration 0005). */
async function removeFinishedJobs(db: Executor, cutoff: number, batch: number): Promise<number> {
  const r = await db
    .deleteFrom('jobs')
    .where('id', 'in', finishedJobsBatch(db, cutoff, batch))
    .executeTakeFirst()
  return Number(r.numDeletedRows)
}

/** Exported for the test that checks its query plan. */
export function finishedJobsBatch(db: Executor, cutoff: number, batch: number) {
  return db
    .selectFrom('jobs')
    .select('id')
    .where('state', 'in', ['DONE', 'FAILED'])
    .where('updated_at', '<', cutoff)
    .limit(batch)
}

/** One batch of `received` rows older than `cutoff`, found through its time index (migration 0005). */
async function removeReceived(db: Executor, cutoff: number, batch: number): Promise<number> {
  const pick = receivedBatch(db, cutoff, batch)
  const r = await db.deleteFrom('received').where('id', 'in', pick).executeTakeFirst()
  return Number(r.numDeletedRows)
}

/** Exported for the test that checks its query plan. */
export function receivedBatch(db: Executor, cutoff: number, batch: number) {
  return db.selectFrom('received').select('id').where('received_at', '<', cutoff).limit(batch)
}
