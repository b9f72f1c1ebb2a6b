import type { Executor } from '../db/open.js'
import type { NewWebhookSubscription, WebhookSubscriptionRow } from '../db/schema.js'
import type { Pageable } from '../http/paging.js'

/** Subscriptions as rows: a flat list of small queries, executor first (style rule 2). */

/** API property -> column, for `sort=` (the reference sorts by its entity's fields). */
export const SUBSCRIPTION_SORT = {
  id: 'id',
  name: 'name',
  pushEndpoint: 'push_endpoint',
  resource: 'resource',
  event: 'event',
  filter: 'filter',
} as const

export async function insertSubscription(
  db: Executor,
  values: NewWebhookSubscription,
): Promise<WebhookSubscriptionRow> {
  return db.insertInto('webhook_subscriptions').values(values).returningAll().executeTakeFirstOrThrow()
}

export async function subscriptionById(
  db: Executor,
  id: number,
): Promise<WebhookSubscriptionRow | undefined> {
  return db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirst()
}

/** Another subscription with this name and push endpoint (the reference's conflict rule). */
export async function sameNameAndEndpoint(
  db: Executor,
  name: string,
  pushEndpoint: string,
  exceptId?: number,
): Promise<boolean> {
  let q = db
    .selectFrom('webhook_subscriptions')
    .select('id')
    .where('name', '=', name)
    .where('push_endpoint', '=', pushEndpoint)
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId)
  return (await q.executeTakeFirst()) !== undefined
}

export async function pageOfSubscriptions(
  db: Executor,
  pageable: Pageable,
): Promise<{ rows: WebhookSubscriptionRow[]; total: number }> {
  const { total } = await db
    .selectFrom('webhook_subscriptions')
    .select((eb) => eb.fn.countAll<number>().as('total'))
    .executeTakeFirstOrThrow()
  let q = db.selectFrom('webhook_subscriptions').selectAll()
  for (const s of pageable.sort)
    q = q.orderBy(SUBSCRIPTION_SORT[s.property as keyof typeof SUBSCRIPTION_SORT], s.direction)
  // unsorted as the reference, but paged in a stable order
  const rows = await q
    .orderBy('id')
    .limit(pageable.size)
    .offset(pageable.page * pageable.size)
    .execute()
  return { rows, total: Number(total) }
}

/** What deciding whether an event goes to a subscription needs. */
export async function subscriptionsForEvents(
  db: Executor,
): Promise<Pick<WebhookSubscriptionRow, 'id' | 'resource' | 'event' | 'filter'>[]> {
  return db
    .selectFrom('webhook_subscriptions')
    .select(['id', 'resource', 'event', 'filter'])
    .orderBy('id')
    .execute()
}

export async function updateSubscription(
  db: Executor,
  id: number,
  values: Partial<
    Pick<WebhookSubscriptionRow, 'name' | 'push_endpoint' | 'resource' | 'event' | 'filter' | 'secret'>
  >,
): Promise<void> {
  if (Object.keys(values).length === 0) return
  await db.updateTable('webhook_subscriptions').set(values).where('id', '=', id).execute()
}

export async function deleteSubscription(db: Executor, id: number): Promise<boolean> {
  const r = await db.deleteFrom('webhook_subscriptions').where('id', '=', id).executeTakeFirst()
  return Number(r.numDeletedRows) === 1
}

export async function deleteAllSubscriptions(db: Executor): Promise<void> {
  await db.deleteFrom('webhook_subscriptions').execute()
}

/** A delivery arrived: the subscription is healthy again. */
export async function recordDelivered(db: Executor, id: number, now: number): Promise<void> {
  await db
    .updateTable('webhook_subscriptions')
    .set({ failing_since: null, last_delivered_at: now })
    .where('id', '=', id)
    .execute()
}

/** A delivery failed (it will be tried again, or `givenUp`). */
export async function recordFailure(
  db: Executor,
  id: number,
  error: string,
  now: number,
  givenUp: boolean,
): Promise<void> {
  await db
    .updateTable('webhook_subscriptions')
    .set((eb) => ({
      failing_since: eb.fn.coalesce('failing_since', eb.val(now)),
      last_error: error.slice(0, 2000),
      last_error_at: now,
      ...(givenUp ? { given_up: eb('given_up', '+', 1) } : {}),
    }))
    .where('id', '=', id)
    .execute()
}
