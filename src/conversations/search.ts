import { type SelectQueryBuilder, sql } from 'kysely'
import type { Executor } from '../db/open.js'
import type { ConversationRow, Database, MessageStatusRow } from '../db/schema.js'
import { ApiError } from '../errors/api-error.js'
import type { Pageable, SortOrder } from '../http/paging.js'
import { bindError, bool, int, oneOf, type Query, str } from '../http/query.js'
import { SERVICE_IDENTIFIERS } from '../sbd/types.js'
import { OSLO, parseDateTime, parseLocalDate } from '../util/time.js'

const SERVICE_VALUES = [...SERVICE_IDENTIFIERS, 'UNKNOWN'] as const

/** Sort properties (the reference's entity field names) and their columns. */
export const CONVERSATION_SORT: Record<string, keyof ConversationRow> = {
  id: 'id',
  conversationId: 'conversation_id',
  messageId: 'message_id',
  sender: 'sender',
  senderIdentifier: 'sender_identifier',
  receiver: 'receiver',
  receiverIdentifier: 'receiver_identifier',
  processIdentifier: 'process_identifier',
  documentIdentifier: 'document_identifier',
  messageReference: 'message_reference',
  messageTitle: 'message_title',
  lastUpdate: 'last_update',
  // the reference's own docs sort by `lastUpdated`, which its server rejects; we honour it
  lastUpdated: 'last_update',
  finished: 'finished',
  expiry: 'expiry',
  direction: 'direction',
  serviceIdentifier: 'service_identifier',
  pollable: 'pollable',
}

export const STATUS_SORT: Record<string, keyof MessageStatusRow> = {
  id: 'id',
  lastUpdate: 'last_update',
  lastUpdated: 'last_update',
  status: 'status',
  description: 'description',
}

type ConvQuery<O> = SelectQueryBuilder<Database, 'conversations', O>
export type ConversationFilter = <O>(q: ConvQuery<O>) => ConvQuery<O>

export function conversationFilter(query: Query): ConversationFilter {
  const eq: [keyof ConversationRow, string | undefined][] = [
    ['conversation_id', str(query, 'conversationId')],
    ['message_id', str(query, 'messageId')],
    ['receiver', str(query, 'receiver')],
    ['receiver_identifier', str(query, 'receiverIdentifier')],
    ['sender', str(query, 'sender')],
    ['sender_identifier', str(query, 'senderIdentifier')],
    ['service_identifier', oneOf(query, 'serviceIdentifier', SERVICE_VALUES, 'ServiceIdentifier')],
    ['message_reference', str(query, 'messageReference')],
    ['message_title', str(query, 'messageTitle')],
    ['direction', oneOf(query, 'direction', ['OUTGOING', 'INCOMING'] as const, 'ConversationDirection')],
  ]
  const pollable = bool(query, 'pollable')
  const finished = bool(query, 'finished')
  const from = localDay(query, 'lastUpdateFrom', 'start')
  const to = localDay(query, 'lastUpdateTo', 'end')
  return <O>(q: ConvQuery<O>) => {
    for (const [column, value] of eq) if (value !== undefined) q = q.where(column, '=', value)
    if (pollable !== undefined) q = q.where('pollable', '=', pollable ? 1 : 0)
    if (finished !== undefined) q = q.where('finished', '=', finished ? 1 : 0)
    if (from !== undefined) q = q.where('last_update', '>=', from)
    if (to !== undefined) q = q.where('last_update', '<=', to)
    return q
  }
}

/** `yyyy-MM-dd` as a whole Europe/Oslo day, inclusive, as the reference. */
function localDay(query: Query, name: string, edge: 'start' | 'end'): number | undefined {
  const v = str(query, name)
  if (v === undefined) return undefined
  const day = parseLocalDate(v)
  if (!day) throw bindError(name, v, 'java.time.LocalDate')
  const dt = edge === 'start' ? day.startOf('day') : day.endOf('day')
  return dt.setZone(OSLO, { keepLocalTime: true }).toMillis()
}

export async function searchConversations(
  db: Executor,
  filter: ConversationFilter,
  pageable: Pageable,
): Promise<{ rows: ConversationRow[]; total: number }> {
  const base = filter(db.selectFrom('conversations').selectAll())
  const countRow = await filter(
    db.selectFrom('conversations').select(sql<number>`count(*)`.as('n')),
  ).executeTakeFirst()
  let q = base
  q = applySort(q, pageable.sort, CONVERSATION_SORT)
  const rows = await q
    .limit(pageable.size)
    .offset(pageable.page * pageable.size)
    .execute()
  return { rows, total: Number(countRow?.n ?? 0) }
}

// biome-ignore lint/suspicious/noExplicitAny: one sort helper for every table's builder
function applySort<Q extends SelectQueryBuilder<any, any, any>>(
  q: Q,
  sort: SortOrder[],
  columns: Record<string, string>,
): Q {
  for (const order of sort) {
    const column = columns[order.property]
    if (!column)
      throw new ApiError('IllegalArgument', [], { message: `No property '${order.property}' found` })
    q = q.orderBy(sql.ref(column), order.direction) as Q
  }
  // a stable order under equal keys, so pages never repeat or skip a row
  return q.orderBy(sql.ref('id'), sort[0]?.direction ?? 'asc') as Q
}

export interface StatusWithConversation extends MessageStatusRow {
  conversation_id: string
  message_id: string
}

export function statusFilter(query: Query) {
  const id = int(query, 'id')
  const messageId = str(query, 'messageId')
  const conversationId = str(query, 'conversationId')
  const status = str(query, 'status')
  const fromRaw = str(query, 'fromDateTime')
  const toRaw = str(query, 'toDateTime')
  const from = fromRaw === undefined ? undefined : parseDateTime(fromRaw)
  const to = toRaw === undefined ? undefined : parseDateTime(toRaw)
  if (fromRaw !== undefined && !from) throw bindError('fromDateTime', fromRaw, 'java.time.OffsetDateTime')
  if (toRaw !== undefined && !to) throw bindError('toDateTime', toRaw, 'java.time.OffsetDateTime')
  return { id, messageId, conversationId, status, from: from?.instant, to: to?.instant }
}

export async function searchStatuses(
  db: Executor,
  f: ReturnType<typeof statusFilter>,
  pageable: Pageable,
): Promise<{ rows: StatusWithConversation[]; total: number }> {
  const build = () => {
    let q = db
      .selectFrom('message_statuses as s')
      .innerJoin('conversations as c', 'c.id', 's.conversation_fk')
    if (f.id !== undefined) q = q.where('s.id', '=', f.id)
    if (f.messageId !== undefined) q = q.where('c.message_id', '=', f.messageId)
    if (f.conversationId !== undefined) q = q.where('c.conversation_id', '=', f.conversationId)
    if (f.status !== undefined) q = q.where('s.status', '=', f.status)
    // as the reference: the time range applies only when both ends are given
    if (f.from !== undefined && f.to !== undefined) {
      q = q.where('s.last_update', '>=', f.from).where('s.last_update', '<=', f.to)
    }
    return q
  }
  const countRow = await build().select(sql<number>`count(*)`.as('n')).executeTakeFirst()
  const columns = Object.fromEntries(Object.entries(STATUS_SORT).map(([k, v]) => [k, `s.${v}`]))
  let q = build().selectAll('s').select(['c.conversation_id', 'c.message_id'])
  for (const order of pageable.sort) q = q.orderBy(sql.ref(columns[order.property]!), order.direction)
  const rows = await q
    .orderBy('s.id', pageable.sort[0]?.direction ?? 'asc')
    .limit(pageable.size)
    .offset(pageable.page * pageable.size)
    .execute()
  return { rows, total: Number(countRow?.n ?? 0) }
}
