import type { Logger } from 'pino'
import { handoverOf } from '../../channels/handovers.js'
import type { Db, Executor } from '../../db/open.js'
import { ApiError } from '../../errors/api-error.js'
import type { PayloadStore } from '../../files/payload-store.js'
import { cancelJobsForMessage } from '../../jobs/outbox.js'
import type { Clock } from '../../util/time.js'
import { outPayloadFolder } from './orphans.js'
import { deleteOutMessage } from './repository.js'
import { sendJobKind } from './send.js'
import { lockMessage } from './upload-lease.js'

/** What deleting an outgoing message needs (the routes pass their AppDeps, a superset). */
export interface DeleteDeps {
  db: Db
  clock: Clock
  payloads: PayloadStore
  logger: Logger
}

/**
 * `DELETE /api/messages/out/{messageId}`: 200, as the reference, when the message is gone or
 * nothing is sending it yet. Unlike the reference, which answers 200 and delivers anyway, a message
 * whose send has started (a worker holds its job, or an attempt may have reached the service) is not
 * deleted: 409, and it is delivered. A file upload still streaming to the message is cancelled: its
 * lease goes with the message, and at its next lease renewal (or the end of its body) it finds the
 * message gone, answers 404 and removes its file. The rows (files cascade) and the pending send job go in one transaction, then the payload
 * folder; a crash in between leaves only files that the start-up sweep removes. Conversations and
 * statuses stay, as the reference.
 */
export async function deleteMessage(deps: DeleteDeps, messageId: string): Promise<void> {
  await deps.db.kysely.transaction().execute(async (trx) => {
    const now = deps.clock.now().getTime()
    const row = await lockMessage(trx, messageId)
    if (row) {
      if (row.state === 'SENDING' && !(await stopSend(trx, messageId, now)))
        throw new ApiError('MessageBeingSent', ['messageId', messageId])
      await deleteOutMessage(trx, row.id)
      await cancelJobsForMessage(trx, messageId, [sendJobKind(row.service_identifier)])
    }
  })
  // the delete is committed; a file a cancelled upload renames in meanwhile can make this fail, and the
  // payload sweep removes what is left of a message that is gone
  await deps.payloads.removeDir(outPayloadFolder(messageId)).catch((err) => {
    deps.logger.warn({ err, messageId }, 'could not remove the files of a deleted message; the sweep will')
  })
}

/**
 * Removes the message's send job if no worker holds it and no attempt can have handed the message over
 * (the channel records a transfer before it uploads, under the job's purpose); false when the send can
 * no longer be stopped. One conditional statement, so a worker claiming the job at the same moment
 * either finds it gone or makes this fail.
 */
async function stopSend(trx: Executor, messageId: string, now: number): Promise<boolean> {
  const purpose = `send:${messageId}`
  if (await handoverOf(trx, purpose)) return false
  const removed = await trx
    .deleteFrom('jobs')
    .where('dedupe_key', '=', purpose)
    .where('state', '=', 'PENDING')
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
    .executeTakeFirst()
  if (Number(removed.numDeletedRows) > 0) return true
  // no job left to run it (given up, or never made): nothing will send it
  const job = await trx
    .selectFrom('jobs')
    .select('state')
    .where('dedupe_key', '=', purpose)
    .executeTakeFirst()
  return job?.state !== 'PENDING'
}
