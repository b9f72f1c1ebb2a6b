import type { SelectQueryBuilder } from 'kysely'
import { batchesOf } from '../../db/batches.js'
import type { DialectCapabilities } from '../../db/capabilities.js'
import type { Executor } from '../../db/open.js'
import { pageOf } from '../../db/page-query.js'
import type { Database, InMessageRow, NewInMessage } from '../../db/schema.js'

/**
 * The incoming queue and the record of everything received. A message is locked while
 * `lock_timeout > now`; an expired lock needs no clean-up, it is simply no longer a lock.
 */

type InQuery<O> = SelectQueryBuilder<Database, 'in_messages', O>
export type InFilter = <O>(q: InQuery<O>) => InQuery<O>

export const noFilter: InFilter = (q) => q

export async function insertInMessage(db: Executor, values: NewInMessage): Promise<InMessageRow> {
  return db.insertInto('in_messages').values(values).returningAll().executeTakeFirstOrThrow()
}

export async function inMessageByMessageId(
  db: Executor,
  messageId: string,
): Promise<InMessageRow | undefined> {
  return db.selectFrom('in_messages').selectAll().where('message_id', '=', messageId).executeTakeFirst()
}

/** Deletes the row if it is still there; false when another request deleted it first. */
export async function deleteInMessage(db: Executor, id: number): Promise<boolean> {
  const r = await db.deleteFrom('in_messages').where('id', '=', id).executeTakeFirst()
  return Number(r.numDeletedRows) === 1
}

export function searchInMessages(
  db: Executor,
  filter: InFilter,
  sort: { column: string; direction: 'asc' | 'desc' }[],
  page: { limit: number; offset: number },
): Promise<{ rows: InMessageRow[]; total: number }> {
  return pageOf(db, 'in_messages', filter, sort, page)
}

/**
 * Locks the oldest unlocked message matching `filter` until `until`, in one statement: two peeks
 * never lock the same message (PostgreSQL skips rows another peek is locking; SQLite runs one
 * statement at a time). The lock does not touch `last_updated`, so a message whose lock runs out
 * keeps its place in the order.
 */
export async function lockNext(
  db: Executor,
  caps: DialectCapabilities,
  filter: InFilter,
  now: number,
  until: number,
): Promise<InMessageRow | undefined> {
  const next = filter(db.selectFrom('in_messages').select('id'))
    .where((eb) => eb.or([eb('lock_timeout', 'is', null), eb('lock_timeout', '<=', now)]))
    .orderBy('last_updated')
    .orderBy('id')
    .limit(1)
  return db
    .updateTable('in_messages')
    .set({ lock_timeout: until })
    .where('id', 'in', caps.skipLocked ? next.forUpdate().skipLocked() : next)
    .where((eb) => eb.or([eb('lock_timeout', 'is', null), eb('lock_timeout', '<=', now)]))
    .returningAll()
    .executeTakeFirst()
}

export async function unlockById(db: Executor, id: number): Promise<void> {
  await db.updateTable('in_messages').set({ lock_timeout: null }).where('id', '=', id).execute()
}

/** Unlocks the locked messages matching `filter` (and `messageIds` when given); returns how many. */
export async function unlockMatching(
  db: Executor,
  filter: InFilter,
  now: number,
  messageIds?: readonly string[],
): Promise<number> {
  let unlocked = 0
  const batches = messageIds ? batchesOf(messageIds, 500) : [null]
  for (const batch of batches) {
    let locked = filter(db.selectFrom('in_messages').select('id')).where('lock_timeout', '>', now)
    if (batch) locked = locked.where('message_id', 'in', batch)
    const r = await db
      .updateTable('in_messages')
      .set({ lock_timeout: null })
      .where('id', 'in', locked)
      .executeTakeFirst()
    unlocked += Number(r.numUpdatedRows)
  }
  return unlocked
}

/** Records a delivery as taken in; throws a unique violation when its key was taken in before. */
export async function insertReceived(
  db: Executor,
  values: {
    dedupeKey: string
    messageId: string
    serviceIdentifier: string
    transferRef: string | null
    now: number
  },
): Promise<void> {
  await db
    .insertInto('received')
    .values({
      dedupe_key: values.dedupeKey,
      message_id: values.messageId,
      service_identifier: values.serviceIdentifier,
      transfer_ref: values.transferRef,
      received_at: values.now,
    })
    .execute()
}

export async function isReceived(db: Executor, dedupeKey: string): Promise<boolean> {
  const row = await db
    .selectFrom('received')
    .select('id')
    .where('dedupe_key', '=', dedupeKey)
    .executeTakeFirst()
  return row !== undefined
}

export async function isTransferRefReceived(db: Executor, transferRef: string): Promise<boolean> {
  const row = await db
    .selectFrom('received')
    .select('id')
    .where('transfer_ref', '=', transferRef)
    .executeTakeFirst()
  return row !== undefined
}

/** Which of `keys` belong to a queued message, asked in batches under SQL's parameter limits. */
export async function knownAsicKeys(db: Executor, keys: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>()
  for (const batch of batchesOf(keys, 500)) {
    const rows = await db
      .selectFrom('in_messages')
      .select('asic_key')
      .where('asic_key', 'in', batch)
      .execute()
    for (const r of rows) if (r.asic_key) found.add(r.asic_key)
  }
  return found
}
