import type { FastifyInstance } from 'fastify'
import type { Config } from '../config/types.js'
import type { Db, Executor } from '../db/open.js'
import type { ConversationRow, MessageStatusRow } from '../db/schema.js'
import { ApiError } from '../errors/api-error.js'
import { sendEmpty, sendJson } from '../http/reply.js'
import { toApiStatus } from './mapper.js'

/**
 * The status queue (docs/webhooks.md, "The status queue"): every newly registered status gets an entry,
 * committed with it; the client takes them oldest first with `GET /api/statuses/peek` (which does not
 * consume) and removes each with `DELETE /api/statuses/{statusId}`. Only statuses of the services in
 * `difi.move.feature.statusQueueIncludes` are shown (ours: all services by default, the reference: none). An
 * entry goes with its conversation when that is deleted.
 */

/** Called by registerStatus for every new status, inside its transaction. */
export async function enqueueStatusEntry(
  db: Executor,
  conversation: Pick<ConversationRow, 'service_identifier'>,
  status: Pick<MessageStatusRow, 'id'>,
  now: number,
): Promise<void> {
  await db
    .insertInto('status_queue')
    .values({ status_fk: status.id, service_identifier: conversation.service_identifier, created_at: now })
    .onConflict((oc) => oc.column('status_fk').doNothing())
    .execute()
}

/** The oldest entry of the included services, with what its JSON needs. */
export async function peekStatusEntry(db: Executor, includes: readonly string[]) {
  if (includes.length === 0) return undefined
  return db
    .selectFrom('status_queue as q')
    .innerJoin('message_statuses as s', 's.id', 'q.status_fk')
    .innerJoin('conversations as c', 'c.id', 's.conversation_fk')
    .selectAll('s')
    .select(['c.conversation_id', 'c.message_id'])
    .where('q.service_identifier', 'in', includes)
    .orderBy('q.id')
    .limit(1)
    .executeTakeFirst()
}

/** Removes the entry of a status; false when there is none (or its service is not included). */
export async function deleteStatusEntry(db: Executor, statusId: number, includes: readonly string[]) {
  if (includes.length === 0) return false
  const r = await db
    .deleteFrom('status_queue')
    .where('status_fk', '=', statusId)
    .where('service_identifier', 'in', includes)
    .executeTakeFirst()
  return Number(r.numDeletedRows) === 1
}

/** `GET /api/statuses/peek` and `DELETE /api/statuses/{id}`; `peek` wins over `/api/statuses/{messageId}`. */
export function registerStatusQueueRoutes(app: FastifyInstance, deps: { db: Db; config: Config }): void {
  const db = deps.db.kysely
  const includes = deps.config.features.statusQueueIncludes

  app.get('/api/statuses/peek', async (_req, reply) => {
    const row = await peekStatusEntry(db, includes)
    // as the reference: NoContentException, answered as 204 without a body
    if (!row) throw new ApiError('NoContent')
    return sendJson(reply, toApiStatus(row, { ...row, id: row.conversation_fk }))
  })

  app.delete<{ Params: { id: string } }>('/api/statuses/:id', async (req, reply) => {
    const id = numericId(req.params.id)
    if (await deleteStatusEntry(db, id, includes)) return sendEmpty(reply)
    // as the reference: 404 with an empty body
    return reply.code(404).send()
  })
}

function numericId(value: string): number {
  if (/^\d{1,15}$/.test(value)) return Number(value)
  throw new ApiError('ArgumentTypeMismatch', [
    `Method parameter 'id': Failed to convert value of type 'java.lang.String' to required type 'java.lang.Long'; For input string: "${value}"`,
  ])
}
