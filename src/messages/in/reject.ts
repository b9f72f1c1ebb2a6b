import type { Logger } from 'pino'
import { conversationsByMessageId, registerStatus } from '../../conversations/repository.js'
import type { InMessageRow } from '../../db/schema.js'
import { ApiError } from '../../errors/api-error.js'
import { parseSbdJson } from '../../sbd/parse.js'
import type { ServiceIdentifier } from '../../sbd/types.js'
import { forMessage } from '../../util/log.js'
import { lockedMessage, type QueueDeps, removeIncomingPayload } from './queue.js'
import { deleteInMessage } from './repository.js'
import { enqueueStatusReply } from './status-reply.js'

export const MAX_REASON_LENGTH = 1000

/** The queue's dependencies, and a log for the rejection. */
export interface RejectDeps extends QueueDeps {
  logger: Logger
}

/**
 * `POST /api/messages/in/reject/{messageId}` (ours): the fagsystem says a message it peeked and popped
 * cannot be taken (a package it must refuse: unsafe file names, too large, unreadable) and why.
 *
 * The reference gives a fagsystem no way to say so: DELETE would record INNKOMMENDE_LEVERT and tell the
 * sender LEVERT, which is untrue, and leaving it locked or unlocked offers it again on every run. What
 * the reference does itself for a package it cannot read (on pop) is the model: the message leaves
 * the queue with FEIL on its conversation, here with the fagsystem's reason, and, as DELETE's LEVERT
 * would, a FEIL status goes back to the sender where `status-services` says so. A path of its own rather
 * than a parameter on DELETE, so that a reference integration point answers 404 instead of LEVERT.
 */
export async function rejectIncoming(
  deps: RejectDeps,
  messageId: string,
  reason: string,
): Promise<InMessageRow> {
  const now = deps.clock.now()
  const row = await lockedMessage(deps.db.kysely, messageId, now.getTime())
  const description = `Rejected by the receiving fagsystem: ${reason}`
  const deleted = await deps.db.kysely.transaction().execute(async (trx) => {
    if (!(await deleteInMessage(trx, row.id))) return false
    for (const c of await conversationsByMessageId(trx, messageId, 'INCOMING'))
      await registerStatus(trx, c, { status: 'FEIL', description }, now.getTime())
    const sbd = parseSbdJson(row.sbd)
    const si = row.service_identifier as ServiceIdentifier
    await enqueueStatusReply(trx, deps.config, sbd, si, 'FEIL', now, description)
    return true
  })
  // another request deleted it between our read and our delete
  if (!deleted) throw new ApiError('MessageNotFound', ['messageId', messageId])
  await removeIncomingPayload(deps.payloads, row.asic_key)
  forMessage(deps.logger, messageId).warn(
    { messageId, sender: row.sender_identifier, reason },
    `incoming message ${messageId} rejected by the fagsystem: ${reason}`,
  )
  deps.onSendJob?.()
  return row
}

/** The body, `{"reason": "…"}`: a reason is required, and kept short enough for a status description. */
export function rejectionReason(body: unknown): string {
  const reason = (body as { reason?: unknown } | undefined)?.reason
  const text = typeof reason === 'string' ? reason.trim() : ''
  if (!text || text.length > MAX_REASON_LENGTH) {
    throw new ApiError('IllegalArgument', [], {
      message: `The body must be {"reason": "…"}: why the message cannot be taken, 1-${MAX_REASON_LENGTH} characters`,
    })
  }
  return text
}
