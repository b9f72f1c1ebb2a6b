import type { FastifyInstance } from 'fastify'
import type { Executor } from '../db/open.js'
import type { ConversationRow } from '../db/schema.js'
import { ApiError } from '../errors/api-error.js'
import type { AppDeps } from '../http/app-deps.js'
import { parsePageable, toPage } from '../http/paging.js'
import type { Query } from '../http/query.js'
import { sendEmpty, sendJson } from '../http/reply.js'
import { toApiConversation, toApiStatus } from './mapper.js'
import {
  conversationById,
  conversationsByConversationId,
  conversationsByMessageId,
  deleteConversation,
  deleteConversationsByMessageId,
  statusesOf,
} from './repository.js'
import {
  CONVERSATION_SORT,
  conversationFilter,
  STATUS_SORT,
  searchConversations,
  searchStatuses,
  statusFilter,
} from './search.js'

const BY_LAST_UPDATE_DESC = [{ property: 'lastUpdate', direction: 'desc' as const }]
const BY_ID_ASC = [{ property: 'id', direction: 'asc' as const }]

/** `/api/conversations` and `/api/statuses`. */
export function registerConversationRoutes(app: FastifyInstance, deps: AppDeps): void {
  const db = deps.db.kysely

  app.get('/api/conversations', async (req, reply) => {
    const query = req.query as Query
    const filter = conversationFilter(query)
    const pageable = parsePageable(query, {
      sortable: Object.keys(CONVERSATION_SORT),
      defaultSort: BY_LAST_UPDATE_DESC,
    })
    const { rows, total } = await searchConversations(db, filter, pageable)
    return sendJson(reply, toPage(await withStatuses(db, rows), pageable, total))
  })

  app.get('/api/conversations/queue', async (req, reply) => {
    const query = req.query as Query
    const pageable = parsePageable(query, {
      sortable: Object.keys(CONVERSATION_SORT),
      defaultSort: BY_LAST_UPDATE_DESC,
    })
    const { rows, total } = await searchConversations(db, (q) => q.where('pollable', '=', 1), pageable)
    return sendJson(reply, toPage(await withStatuses(db, rows), pageable, total))
  })

  // as the reference, the single lookups show OUTGOING conversations only
  app.get<{ Params: { id: string } }>('/api/conversations/:id', async (req, reply) => {
    const row = await conversationById(db, numericId(req.params.id))
    if (row?.direction !== 'OUTGOING') throw new ApiError('ConversationNotFound', ['id', req.params.id])
    return sendJson(reply, (await withStatuses(db, [row]))[0])
  })

  app.get<{ Params: { messageId: string } }>(
    '/api/conversations/messageId/:messageId',
    async (req, reply) => {
      const { messageId } = req.params
      let rows = await conversationsByMessageId(db, messageId, 'OUTGOING')
      if (!rows.length) rows = await conversationsByConversationId(db, messageId, 'OUTGOING')
      if (!rows.length) throw new ApiError('MessageNotFound', ['messageId', messageId])
      return sendJson(reply, (await withStatuses(db, rows.slice(0, 1)))[0])
    },
  )

  app.delete<{ Params: { id: string } }>('/api/conversations/:id', async (req, reply) => {
    await deleteConversation(db, numericId(req.params.id))
    return sendEmpty(reply)
  })

  app.delete<{ Params: { messageId: string } }>(
    '/api/conversations/messageId/:messageId',
    async (req, reply) => {
      await deleteConversationsByMessageId(db, req.params.messageId)
      return sendEmpty(reply)
    },
  )

  app.get('/api/statuses', async (req, reply) => {
    const query = req.query as Query
    const filter = statusFilter(query)
    const pageable = parsePageable(query, { sortable: Object.keys(STATUS_SORT), defaultSort: BY_ID_ASC })
    const { rows, total } = await searchStatuses(db, filter, pageable)
    return sendJson(
      reply,
      toPage(
        rows.map((r) => toApiStatus(r, { ...r, id: r.conversation_fk })),
        pageable,
        total,
      ),
    )
  })

  const statusesOfMessage = async (
    req: { params: { messageId: string }; query: unknown },
    reply: import('fastify').FastifyReply,
  ) => {
    const query = req.query as Query
    const pageable = parsePageable(query, { sortable: Object.keys(STATUS_SORT), defaultSort: BY_ID_ASC })
    const { messageId } = req.params
    let page = await searchStatuses(db, { ...statusFilter({}), messageId }, pageable)
    // the seed design sometimes names a message by its conversationId: fall back to that
    if (page.total === 0)
      page = await searchStatuses(db, { ...statusFilter({}), conversationId: messageId }, pageable)
    const content = page.rows.map((r) => toApiStatus(r, { ...r, id: r.conversation_fk }))
    // as the reference, this one endpoint declares its charset
    return sendJson(reply, toPage(content, pageable, page.total), 'application/json;charset=UTF-8')
  }
  app.get<{ Params: { messageId: string } }>('/api/statuses/:messageId', statusesOfMessage)
  // alias from the seed design
  app.get<{ Params: { messageId: string } }>('/api/messages/status/:messageId', statusesOfMessage)
}

async function withStatuses(db: Executor, rows: ConversationRow[]) {
  const statuses = await statusesOf(
    db,
    rows.map((r) => r.id),
  )
  return rows.map((row) =>
    toApiConversation(
      row,
      statuses.filter((s) => s.conversation_fk === row.id),
    ),
  )
}

/** The reference binds `{id}` to a Long: anything else is a 400 type mismatch. */
function numericId(value: string): number {
  if (/^\d{1,15}$/.test(value)) return Number(value)
  throw new ApiError('ArgumentTypeMismatch', [
    `Method parameter 'id': Failed to convert value of type 'java.lang.String' to required type 'java.lang.Long'; For input string: "${value}"`,
  ])
}
