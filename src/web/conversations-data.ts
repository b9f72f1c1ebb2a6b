// The conversation list's query. Every filter has an index that keeps the chosen order (migration 0004),
// so a page reads its rows and stops; there is no total (a count over a million rows is the one thing
// that would not stop), the page asks for one row more to know whether a next page exists.

import type { SelectQueryBuilder } from 'kysely'
import type { Db } from '../db/open.js'
import type { ConversationRow, Database } from '../db/schema.js'
import { titleWords } from '../db/title-search.js'
import { RECEIPT_STATUSES } from '../sbd/business-schemas.js'
import { SERVICE_IDENTIFIERS } from '../sbd/types.js'
import { dayParam, intParam, oneOfParam, param, type Query, WebError } from './params.js'

export const SORTS = { lastUpdate: 'last_update', created: 'created_at' } as const
export const SERVICES = [...SERVICE_IDENTIFIERS, 'UNKNOWN'] as const
export const DIRECTIONS = ['OUTGOING', 'INCOMING'] as const
export const MAX_SIZE = 200
/**
 * How deep the list pages: skipping rows costs a read of each, and a search merges every branch's rows
 * up to the page, so the deepest page stays cheap. Beyond it, narrow the search or reverse the order.
 */
export const MAX_DEPTH = 10_000

export interface ListQuery {
  search?: string | undefined
  title?: string | undefined
  reference?: string | undefined
  service?: (typeof SERVICES)[number] | undefined
  status?: (typeof RECEIPT_STATUSES)[number] | undefined
  direction?: (typeof DIRECTIONS)[number] | undefined
  /** yyyy-MM-dd as given, and its first / last millisecond in Oslo */
  from?: string | undefined
  to?: string | undefined
  fromMs?: number | undefined
  toMs?: number | undefined
  /** 1-based */
  page: number
  size: number
  sort: keyof typeof SORTS
  dir: 'asc' | 'desc'
}

/** Reads the list's query string; anything it cannot use is a 400 naming the parameter. */
export function parseListQuery(query: Query): ListQuery {
  const title = param(query, 'title')
  if (title !== undefined && titleWords(title).length === 0)
    throw new WebError(400, 'title must contain at least one letter or digit')
  const q: ListQuery = {
    search: param(query, 'search'),
    title,
    reference: param(query, 'reference'),
    service: oneOfParam(query, 'service', SERVICES),
    status: oneOfParam(query, 'status', RECEIPT_STATUSES),
    direction: oneOfParam(query, 'direction', DIRECTIONS),
    from: param(query, 'from'),
    to: param(query, 'to'),
    fromMs: dayParam(query, 'from', 'start'),
    toMs: dayParam(query, 'to', 'end'),
    page: intParam(query, 'page', 1, MAX_DEPTH, 1),
    size: intParam(query, 'size', 1, MAX_SIZE, 50),
    ...parseSort(param(query, 'sort')),
  }
  if (q.page * q.size > MAX_DEPTH)
    throw new WebError(
      400,
      `The list goes ${MAX_DEPTH} rows deep (page × size); narrow the search or reverse the order instead`,
    )
  if (q.fromMs !== undefined && q.toMs !== undefined && q.fromMs > q.toMs)
    throw new WebError(400, `from (${q.from}) is after to (${q.to})`)
  return q
}

/** `lastUpdate,desc` (the API's form); the direction may be left out (descending). */
function parseSort(value: string | undefined): Pick<ListQuery, 'sort' | 'dir'> {
  if (value === undefined) return { sort: 'lastUpdate', dir: 'desc' }
  const [property, dir = 'desc'] = value.split(',').map((s) => s.trim())
  if (!property || !Object.hasOwn(SORTS, property) || (dir !== 'asc' && dir !== 'desc'))
    throw new WebError(
      400,
      `sort must be one of ${Object.keys(SORTS).join(', ')}, optionally with ,asc or ,desc; not “${value}”`,
    )
  return { sort: property as ListQuery['sort'], dir }
}

type ConvQuery = SelectQueryBuilder<Database, 'conversations', ConversationRow>

/** An identifier column and the spellings of the search term it may hold. */
export interface Branch {
  column: 'message_id' | 'conversation_id' | 'message_reference' | 'sender_identifier' | 'receiver_identifier'
  values: string[]
}

/**
 * What `search` may be, each an exact match on an indexed column: a messageId or conversationId (as
 * typed or lower-cased), a message reference, or a party: an organisation or person number, with or
 * without `0192:` (an on-behalf-of `0192:org:part` is the part, which is what the sender column holds).
 */
export function searchBranches(term: string): Branch[] {
  const ids = [...new Set([term, term.toLowerCase()])]
  const party = term
    .replace(/^0192:/i, '')
    .split(':')
    .pop()!
  return [
    { column: 'message_id', values: ids },
    { column: 'conversation_id', values: ids },
    { column: 'message_reference', values: [term] },
    { column: 'sender_identifier', values: [party] },
    { column: 'receiver_identifier', values: [party] },
  ]
}

async function filtered(db: Db, q: ListQuery): Promise<ConvQuery> {
  let b = db.kysely.selectFrom('conversations').selectAll() as ConvQuery
  if (q.title !== undefined)
    b = b.where(await db.caps.titleSearch.matches(db.kysely, 'conversations', titleWords(q.title)))
  if (q.reference !== undefined) b = b.where('message_reference', '=', q.reference)
  if (q.service !== undefined) b = b.where('service_identifier', '=', q.service)
  if (q.status !== undefined) b = b.where('latest_status', '=', q.status)
  if (q.direction !== undefined) b = b.where('direction', '=', q.direction)
  if (q.fromMs !== undefined) b = b.where('last_update', '>=', q.fromMs)
  if (q.toMs !== undefined) b = b.where('last_update', '<=', q.toMs)
  const column = SORTS[q.sort]
  return b.orderBy(column, q.dir).orderBy('id', q.dir)
}

export interface ListPage {
  rows: ConversationRow[]
  hasNext: boolean
}

/**
 * One page. With `search`, each identifier column is asked on its own (each through its index, in the
 * page's order, for as many rows as this page needs) and the answers are merged: one OR over five
 * columns would have to collect and sort every match before it could page.
 */
export async function listConversations(db: Db, q: ListQuery): Promise<ListPage> {
  const offset = (q.page - 1) * q.size
  const want = q.size + 1
  if (q.search === undefined) {
    const rows = await (await filtered(db, q)).limit(want).offset(offset).execute()
    return { rows: rows.slice(0, q.size), hasNext: rows.length > q.size }
  }
  const seen = new Map<number, ConversationRow>()
  const base = await filtered(db, q)
  for (const branch of searchBranches(q.search)) {
    const rows = await base
      .where(branch.column, 'in', branch.values)
      .limit(offset + want)
      .execute()
    for (const r of rows) seen.set(r.id, r)
  }
  const column = SORTS[q.sort]
  const sign = q.dir === 'asc' ? 1 : -1
  const merged = [...seen.values()].sort((a, b) => sign * (a[column] - b[column] || a.id - b.id))
  const rows = merged.slice(offset, offset + want)
  return { rows: rows.slice(0, q.size), hasNext: rows.length > q.size }
}
