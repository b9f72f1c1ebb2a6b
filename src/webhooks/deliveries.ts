import { randomUUID } from 'node:crypto'
import type { Db, Executor } from '../db/open.js'
import type { ConversationRow, JobRow, MessageStatusRow } from '../db/schema.js'
import { enqueue } from '../jobs/outbox.js'
import { type StatusEvent, statusEvent, subscriptionTakes } from './events.js'
import { subscriptionsForEvents } from './repository.js'

/**
 * Deliveries are job rows of kind `webhook`, one per (event, subscription), enqueued in the transaction
 * that registers the status. Rows of one message and one subscription form a chain, delivered in the
 * order of their ids (the order the statuses were registered in): `message_id` holds the messageId and
 * `dedupe_key` is `webhook:<subscriptionId>:<eventId>`.
 *
 * A delivery enqueued behind an undelivered one is parked: it waits until the one before it is
 * delivered or given up, which wakes it at once ("promotes" it). Should a promotion be missed anyway,
 * the parked delivery wakes by itself after `PARK_MS` and looks again; the handler always checks that
 * nothing earlier is pending before it sends.
 */
export const WEBHOOK_JOB = 'webhook'
export const PARK_MS = 5_000

export interface WebhookJobPayload {
  subscriptionId: number
  /** the event exactly as it will be sent */
  event: StatusEvent
}

const chainPrefix = (subscriptionId: number) => `webhook:${subscriptionId}:`

/** Called by registerStatus for every new status, inside its transaction. */
export async function enqueueStatusEvents(
  db: Executor,
  conversation: ConversationRow,
  status: MessageStatusRow,
  now: number,
  /** the subscriptions, when the caller read them already in this transaction */
  read?: Awaited<ReturnType<typeof subscriptionsForEvents>>,
): Promise<number> {
  const subscriptions = read ?? (await subscriptionsForEvents(db))
  if (subscriptions.length === 0) return 0
  const event = statusEvent(conversation, status, randomUUID())
  let n = 0
  for (const sub of subscriptions) {
    if (!subscriptionTakes(sub, event)) continue
    const behind = await lockFirstPending(db, sub.id, event.messageId)
    const payload: WebhookJobPayload = { subscriptionId: sub.id, event }
    await enqueue(
      db,
      {
        kind: WEBHOOK_JOB,
        payload,
        messageId: event.messageId,
        dedupeKey: `${chainPrefix(sub.id)}${event.id}`,
        runAt: behind ? now + PARK_MS : now,
      },
      now,
    )
    n++
  }
  return n
}

function pendingInChain(db: Executor, subscriptionId: number, messageId: string) {
  return db
    .selectFrom('jobs')
    .select(['id', 'locked_until'])
    .where('kind', '=', WEBHOOK_JOB)
    .where('state', '=', 'PENDING')
    .where('message_id', '=', messageId)
    .where('dedupe_key', 'like', `${chainPrefix(subscriptionId)}%`)
}

/**
 * Whether the chain has an undelivered delivery, row-locking the first one until the caller commits.
 * The lock makes the end of that delivery (`finishDelivery` updates the same row) wait for our commit,
 * so it sees the delivery we park behind it and wakes it; or, had it ended first, we see that.
 */
async function lockFirstPending(db: Executor, subscriptionId: number, messageId: string): Promise<boolean> {
  for (let i = 0; i < 3; i++) {
    const first = await pendingInChain(db, subscriptionId, messageId)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst()
    if (!first) return false
    const locked = await db
      .updateTable('jobs')
      .set((eb) => ({ updated_at: eb.ref('updated_at') }))
      .where('id', '=', first.id)
      .where('state', '=', 'PENDING')
      .returning('id')
      .executeTakeFirst()
    if (locked) return true
  }
  // the chain keeps moving under us: do not park; the handler checks the order again anyway
  return false
}

/** The earliest undelivered delivery before this one in its chain, if any. */
export async function earlierPending(
  db: Executor,
  job: JobRow,
  subscriptionId: number,
): Promise<{ id: number; locked_until: number | null } | undefined> {
  return pendingInChain(db, subscriptionId, job.message_id ?? '')
    .where('id', '<', job.id)
    .orderBy('id')
    .limit(1)
    .executeTakeFirst()
}

/**
 * Ends a delivery (DONE or FAILED) and wakes the next one of its chain, in one transaction with
 * `also` (the subscription's bookkeeping). The runner records the same end again afterwards; marking
 * it here first means the woken delivery never finds this one still pending.
 */
export async function finishDelivery(
  db: Db,
  job: JobRow,
  subscriptionId: number,
  end: { state: 'DONE' | 'FAILED'; error: string | null },
  now: number,
  also: (trx: Executor) => Promise<void>,
): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    await trx
      .updateTable('jobs')
      .set({ state: end.state, last_error: end.error, updated_at: now })
      .where('id', '=', job.id)
      .where('locked_by', '=', job.locked_by ?? '')
      .execute()
    const next = await pendingInChain(trx, subscriptionId, job.message_id ?? '')
      .where('id', '>', job.id)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst()
    if (next) {
      await trx
        .updateTable('jobs')
        .set({ run_at: now, updated_at: now })
        .where('id', '=', next.id)
        .where('run_at', '>', now)
        .execute()
    }
    await also(trx)
  })
}

/** Drops the pending deliveries of one subscription, or of all. */
export async function cancelDeliveries(db: Executor, subscriptionId?: number): Promise<void> {
  let q = db.deleteFrom('jobs').where('kind', '=', WEBHOOK_JOB).where('state', '=', 'PENDING')
  if (subscriptionId !== undefined) q = q.where('dedupe_key', 'like', `${chainPrefix(subscriptionId)}%`)
  await q.execute()
}
