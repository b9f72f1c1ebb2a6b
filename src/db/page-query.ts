import { type Selectable, type SelectQueryBuilder, sql } from 'kysely'
import type { Executor } from './open.js'
import type { Database } from './schema.js'

/** The tables the API pages over with caller-built filters. */
type PagedTable = 'in_messages' | 'out_messages'

/**
 * Sort properties of `GET /api/messages/in` and `GET /api/messages/out` (the reference's entity field
 * names) and their columns, which both message tables share.
 */
export const MESSAGE_SORT: Record<string, keyof Database['in_messages'] & keyof Database['out_messages']> = {
  id: 'id',
  lastUpdated: 'last_updated',
  messageId: 'message_id',
  conversationId: 'conversation_id',
  processIdentifier: 'process_identifier',
  receiverIdentifier: 'receiver_identifier',
  senderIdentifier: 'sender_identifier',
  serviceIdentifier: 'service_identifier',
}

export type TableQuery<TB extends PagedTable, O> = SelectQueryBuilder<Database, TB, O>
export type TableFilter<TB extends PagedTable> = <O>(q: TableQuery<TB, O>) => TableQuery<TB, O>

/**
 * One page of `table` under `filter`, in the requested order with `id` as the tie-break, and the count
 * of every matching row (Spring Page's `totalElements`).
 */
export async function pageOf<TB extends PagedTable>(
  db: Executor,
  table: TB,
  filter: TableFilter<TB>,
  sort: { column: string; direction: 'asc' | 'desc' }[],
  page: { limit: number; offset: number },
): Promise<{ rows: Selectable<Database[TB]>[]; total: number }> {
  const from = db.selectFrom(table as PagedTable) as unknown as TableQuery<TB, object>
  const count = await filter(from.select(sql<number>`count(*)`.as('n'))).executeTakeFirst()
  let q = filter(from.selectAll())
  for (const s of sort) q = q.orderBy(sql.ref(s.column), s.direction)
  const rows = await q
    .orderBy(sql.ref('id'), sort[0]?.direction ?? 'asc')
    .limit(page.limit)
    .offset(page.offset)
    .execute()
  // the generic table defeats Kysely's row type; each caller names its row type
  return {
    rows: rows as unknown as Selectable<Database[TB]>[],
    total: Number((count as { n?: unknown })?.n ?? 0),
  }
}
