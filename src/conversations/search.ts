import { type SelectQueryBuilder, sql } from 'kysely'
import type { Executor } from '../db/open.js'
import type { ConversationRow, Database, MessageStatusRow } from '../db/schema.js'
import { ApiError } from '../errors/api-error.js'
import type { Pageable, SortOrder } from '../http/paging.js'
import { bindError, bindQuery, type Query, type QueryParam } from '../http/query.js'
import { SERVICE_IDENTIFIERS } from '../sbd/types.js'
import { osloDayEdge, parseDateTime } from '../util/time.js'

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

const primary = 'a primary identifier: an organisation number without `0192:`, or a fødselsnummer'

/** The filters of `GET /api/conversations`, AND-combined; equality where a column is named. */
export const CONVERSATION_PARAMS = [
  { name: 'conversationId', kind: 'string', column: 'conversation_id', doc: 'The conversationId.' },
  { name: 'messageId', kind: 'string', column: 'message_id', doc: 'The messageId.' },
  { name: 'receiver', kind: 'string', column: 'receiver', doc: 'The full receiver, e.g. `0192:910075918`.' },
  {
    name: 'receiverIdentifier',
    kind: 'string',
    column: 'receiver_identifier',
    doc: `The receiver as ${primary}.`,
  },
  {
    name: 'sender',
    kind: 'string',
    column: 'sender',
    doc: 'The full sender, e.g. `0192:910077473:987654321`.',
  },
  {
    name: 'senderIdentifier',
    kind: 'string',
    column: 'sender_identifier',
    doc: 'The sender: the on-behalf-of organisation when there is one, else the primary organisation number.',
  },
  {
    name: 'serviceIdentifier',
    kind: 'enum',
    values: SERVICE_VALUES,
    javaType: 'ServiceIdentifier',
    column: 'service_identifier',
    doc: 'The service.',
  },
  { name: 'messageReference', kind: 'string', column: 'message_reference', doc: 'The message reference.' },
  { name: 'messageTitle', kind: 'string', column: 'message_title', doc: 'The message title.' },
  {
    name: 'direction',
    kind: 'enum',
    values: ['OUTGOING', 'INCOMING'],
    javaType: 'ConversationDirection',
    column: 'direction',
    doc: 'The direction.',
  },
  { name: 'pollable', kind: 'boolean', column: 'pollable', doc: 'Whether its status is still polled.' },
  { name: 'finished', kind: 'boolean', column: 'finished', doc: 'Whether it reached a final status.' },
  {
    name: 'lastUpdateFrom',
    kind: 'date',
    doc: 'Updated on or after this day (`yyyy-MM-dd`, Europe/Oslo, inclusive).',
  },
  {
    name: 'lastUpdateTo',
    kind: 'date',
    doc: 'Updated on or before this day (`yyyy-MM-dd`, Europe/Oslo, inclusive).',
  },
] as const satisfies readonly (QueryParam & { column?: keyof ConversationRow })[]

export function conversationFilter(query: Query): ConversationFilter {
  const values = bindQuery(query, CONVERSATION_PARAMS)
  const eq: [keyof ConversationRow, string | number][] = []
  for (const p of CONVERSATION_PARAMS) {
    const value = values[p.name]
    if ('column' in p && value !== undefined)
      eq.push([p.column, typeof value === 'boolean' ? Number(value) : value])
  }
  const from = localDay(values.lastUpdateFrom, 'lastUpdateFrom', 'start')
  const to = localDay(values.lastUpdateTo, 'lastUpdateTo', 'end')
  return <O>(q: ConvQuery<O>) => {
    for (const [column, value] of eq) q = q.where(column, '=', value)
    if (from !== undefined) q = q.where('last_update', '>=', from)
    if (to !== undefined) q = q.where('last_update', '<=', to)
    return q
  }
}

/** `yyyy-MM-dd` as a whole Europe/Oslo day, inclusive, as the reference. */
function localDay(v: string | undefined, name: string, edge: 'start' | 'end'): number | undefined {
  if (v === undefined) return undefined
  const at = osloDayEdge(v, edge)
  if (at === undefined) throw bindError(name, v, 'java.time.LocalDate')
  return at
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

/** The filters of `GET /api/statuses`, AND-combined. */
export const STATUS_PARAMS = [
  { name: 'id', kind: 'long', doc: 'The status id.' },
  { name: 'messageId', kind: 'string', doc: 'The messageId.' },
  { name: 'conversationId', kind: 'string', doc: 'The conversationId.' },
  { name: 'status', kind: 'string', doc: 'The status, exactly, e.g. `MOTTATT`.' },
  {
    name: 'fromDateTime',
    kind: 'date-time',
    doc: 'Updated at or after this time (ISO 8601); applies only together with `toDateTime`.',
  },
  {
    name: 'toDateTime',
    kind: 'date-time',
    doc: 'Updated at or before this time (ISO 8601); applies only together with `fromDateTime`.',
  },
] as const satisfies readonly QueryParam[]

export function statusFilter(query: Query) {
  const v = bindQuery(query, STATUS_PARAMS)
  const { id, messageId, conversationId, status } = v
  const fromRaw = v.fromDateTime
  const toRaw = v.toDateTime
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
