import type { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { MESSAGE_SORT } from '../../db/page-query.js'
import { ApiError } from '../../errors/api-error.js'
import type { AppDeps } from '../../http/app-deps.js'
import { parsePageable, toPage } from '../../http/paging.js'
import { bindQuery, type Query, type QueryParam } from '../../http/query.js'
import { sendEmpty, sendJson } from '../../http/reply.js'
import { serializeSbd } from '../../sbd/parse.js'
import { SERVICE_IDENTIFIERS } from '../../sbd/types.js'
import { persistMessage, prepareMessage } from './create.js'
import { deleteMessage } from './delete.js'
import { createAndSend } from './multipart-send.js'
import { type OutFilter, searchOutMessages } from './repository.js'
import { sendMessage } from './send.js'
import { findOutMessageLoosely } from './stored.js'
import { uploadFile } from './upload.js'

/** Equality filters of `GET /api/messages/out`, AND-combined. */
export const OUT_FILTER_PARAMS = [
  { name: 'conversationId', kind: 'string', column: 'conversation_id', doc: 'The conversationId.' },
  { name: 'messageId', kind: 'string', column: 'message_id', doc: 'The messageId.' },
  { name: 'processIdentifier', kind: 'string', column: 'process_identifier', doc: 'The process URN.' },
  {
    name: 'receiverIdentifier',
    kind: 'string',
    column: 'receiver_identifier',
    doc: 'The receiver as a primary identifier: an organisation number without `0192:`, or a fødselsnummer.',
  },
  {
    name: 'senderIdentifier',
    kind: 'string',
    column: 'sender_identifier',
    doc: 'The sender (the on-behalf-of organisation when there is one) without `0192:`.',
  },
  {
    name: 'serviceIdentifier',
    kind: 'enum',
    values: [...SERVICE_IDENTIFIERS, 'UNKNOWN'],
    javaType: 'ServiceIdentifier',
    column: 'service_identifier',
    doc: 'The service the message goes by.',
  },
] as const satisfies readonly (QueryParam & { column: string })[]

export const UPLOAD_PARAMS = [
  {
    name: 'title',
    kind: 'string',
    doc: "The attachment's title; overrides the `name` of the Content-Disposition header.",
  },
] as const satisfies readonly QueryParam[]

/** The sending side of the NextMove API, `/api/messages/out`. */
export async function registerMessageOutRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const db = deps.db.kysely

  const create = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!isJson(req.headers['content-type']))
      throw new ApiError('UnsupportedMediaType', [req.headers['content-type'] ?? ''])
    const prepared = await prepareMessage(deps, req.body, 'json')
    await db
      .transaction()
      .execute((trx) => persistMessage(trx, prepared, 'CREATED', deps.clock.now().getTime()))
    return sendJson(reply, serializeSbd(prepared.sbd))
  }
  app.post('/api/messages/out', create)
  // alias from the seed design: create a (large) message
  app.post('/api/messages', create)

  app.post('/api/messages/out/multipart', async (req, reply) => {
    const sbd = await refusingUnreadBody(req, reply, () =>
      createAndSend(deps, { headers: req.headers, stream: req.raw }),
    )
    return sendJson(reply, sbd)
  })

  app.get('/api/messages/out', async (req, reply) => {
    const query = req.query as Query
    const pageable = parsePageable(query, { sortable: Object.keys(MESSAGE_SORT), defaultSort: [] })
    const filter = outFilter(query)
    const { rows, total } = await searchOutMessages(
      db,
      filter,
      pageable.sort.map((s) => ({ column: MESSAGE_SORT[s.property]!, direction: s.direction })),
      { limit: pageable.size, offset: pageable.page * pageable.size },
    )
    return sendJson(
      reply,
      toPage(
        rows.map((r) => JSON.parse(r.sbd)),
        pageable,
        total,
      ),
    )
  })

  app.get<{ Params: { messageId: string } }>('/api/messages/out/:messageId', async (req, reply) => {
    const row = await findOutMessageLoosely(db, req.params.messageId)
    return sendJson(reply, JSON.parse(row.sbd))
  })

  app.delete<{ Params: { messageId: string } }>('/api/messages/out/:messageId', async (req, reply) => {
    await deleteMessage(deps, req.params.messageId)
    return sendEmpty(reply)
  })

  app.post<{ Params: { messageId: string } }>('/api/messages/out/:messageId', async (req, reply) => {
    await sendMessage(deps, req.params.messageId)
    return sendEmpty(reply)
  })

  // The upload takes any Content-Type as raw bytes, JSON included, so it gets a scope whose only body
  // parser hands the unread stream to the handler.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload))
    scope.put<{ Params: { messageId: string }; Querystring: Query }>(
      '/api/messages/out/:messageId',
      async (req, reply) => {
        await refusingUnreadBody(req, reply, () =>
          uploadFile(deps, {
            messageId: req.params.messageId,
            contentType: header(req, 'content-type'),
            contentDisposition: header(req, 'content-disposition'),
            contentLength: header(req, 'content-length'),
            title: bindQuery(req.query, UPLOAD_PARAMS).title,
            body: (req.body as Readable | undefined) ?? req.raw,
          }),
        )
        return sendEmpty(reply)
      },
    )
  })
}

/**
 * When an upload is refused before its body was read to the end (a limit passed mid-stream, a bad
 * header), the rest is discarded and the connection closed after the answer: the client gets its
 * 4xx at once instead of stalling on a body nobody reads.
 */
async function refusingUnreadBody<T>(
  req: FastifyRequest,
  reply: FastifyReply,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (!req.raw.complete) {
      reply.header('connection', 'close')
      req.raw.resume()
    }
    throw error
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

function isJson(contentType: string | undefined): boolean {
  return !!contentType && /^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(contentType)
}

function outFilter(query: Query): OutFilter {
  const values = bindQuery(query, OUT_FILTER_PARAMS)
  const eq = OUT_FILTER_PARAMS.map((p) => [p.column, values[p.name]] as const)
  return (q) => {
    for (const [column, value] of eq) {
      // biome-ignore lint/suspicious/noExplicitAny: columns come from the fixed list above
      if (value !== undefined) q = q.where(column as any, '=', value)
    }
    return q
  }
}
