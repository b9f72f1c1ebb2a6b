import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { MESSAGE_SORT } from '../../db/page-query.js'
import { ApiError } from '../../errors/api-error.js'
import type { AppDeps } from '../../http/app-deps.js'
import { MAX_PAGE_SIZE, parsePageable, toPage } from '../../http/paging.js'
import type { Query } from '../../http/query.js'
import { sendJson } from '../../http/reply.js'
import { inFilter } from './filter.js'
import { ASIC_FILENAME, pop } from './pop.js'
import { deleteIncoming, peek, toApiSbd, unlockMany, unlockOne } from './queue.js'
import { rejectIncoming, rejectionReason } from './reject.js'
import { searchInMessages } from './repository.js'

type ById = { Params: { messageId: string } }

/** The receiving side of the NextMove API, `/api/messages/in`, and unlock and reject (ours). */
export async function registerMessageInRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/api/messages/in', async (req, reply) => {
    const query = req.query as Query
    const pageable = parsePageable(query, { sortable: Object.keys(MESSAGE_SORT), defaultSort: [] })
    const { rows, total } = await searchInMessages(
      deps.db.kysely,
      inFilter(query),
      pageable.sort.map((s) => ({ column: MESSAGE_SORT[s.property]!, direction: s.direction })),
      { limit: pageable.size, offset: pageable.page * pageable.size },
    )
    return sendJson(reply, toPage(rows.map(toApiSbd), pageable, total))
  })

  app.get('/api/messages/in/peek', async (req, reply) => {
    const row = await peek(deps, inFilter(req.query as Query))
    // as the reference: 204 with no body when nothing is waiting
    if (!row) throw new ApiError('NoContent')
    return sendJson(reply, toApiSbd(row))
  })

  app.get<ById>('/api/messages/in/pop/:messageId', async (req, reply) => {
    const body = await pop(deps, req.params.messageId)
    if (!body) return reply.code(204).send()
    return reply
      .code(200)
      .header('content-type', 'application/vnd.etsi.asic-e+zip')
      .header('content-disposition', `attachment; filename=${ASIC_FILENAME}`)
      .send(body)
  })

  const remove = async (req: FastifyRequest<ById>, reply: FastifyReply) =>
    sendJson(reply, toApiSbd(await deleteIncoming(deps, req.params.messageId)))
  app.delete<ById>('/api/messages/in/:messageId', remove)
  // the seed design's name for the same
  app.delete<ById>('/api/in/messages/:messageId', remove)

  app.post<ById>('/api/messages/in/unlock/:messageId', async (req, reply) =>
    sendJson(reply, toApiSbd(await unlockOne(deps, req.params.messageId))),
  )

  app.post<ById>('/api/messages/in/reject/:messageId', async (req, reply) => {
    const reason = rejectionReason(req.body)
    return sendJson(reply, toApiSbd(await rejectIncoming(deps, req.params.messageId, reason)))
  })

  app.post('/api/messages/in/unlock', async (req, reply) => {
    const filter = inFilter(req.query as Query)
    const unlocked = await unlockMany(deps, filter, messageIdsOf(req))
    return sendJson(reply, { unlocked })
  })
}

/**
 * The body of the batch unlock: none (unlock by the query's filters) or `{"messageIds": [...]}` with at
 * most MAX_PAGE_SIZE ids.
 */
function messageIdsOf(req: FastifyRequest): string[] | undefined {
  const body = req.body
  if (body === undefined) return undefined
  if (body instanceof Readable) {
    body.resume()
    throw new ApiError('UnsupportedMediaType', [req.headers['content-type'] ?? ''])
  }
  const ids = (body as { messageIds?: unknown } | null)?.messageIds
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string') || ids.length > MAX_PAGE_SIZE) {
    throw new ApiError('IllegalArgument', [], {
      message: `Expected no body, or {"messageIds": ["…"]} with at most ${MAX_PAGE_SIZE} messageIds`,
    })
  }
  return ids
}
