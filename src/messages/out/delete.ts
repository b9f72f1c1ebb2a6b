import type { AppDeps } from '../../http/app-deps.js'
import { cancelJobsForMessage } from '../../jobs/outbox.js'
import { outPayloadFolder } from './orphans.js'
import { deleteOutMessage, outMessageByMessageId } from './repository.js'
import { SEND_JOB } from './send.js'

/**
 * `DELETE /api/messages/out/{messageId}` (§2.7): always 200. The rows (files cascade) and any pending
 * send job go in one transaction, then the payload folder; a crash in between leaves only files that
 * the start-up sweep removes. Conversations and statuses stay, as the reference.
 */
export async function deleteMessage(deps: AppDeps, messageId: string): Promise<void> {
  await deps.db.kysely.transaction().execute(async (trx) => {
    const row = await outMessageByMessageId(trx, messageId)
    if (row) await deleteOutMessage(trx, row.id)
    await cancelJobsForMessage(trx, messageId, [SEND_JOB])
  })
  await deps.payloads.removeDir(outPayloadFolder(messageId))
}
