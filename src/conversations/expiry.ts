import type { Db } from '../db/open.js'
import type { PayloadStore } from '../files/payload-store.js'
import { dropQueuedMessage, removeIncomingPayload } from '../messages/in/queue.js'
import type { Clock } from '../util/time.js'
import { expiredOpenConversations, registerStatus } from './repository.js'

/**
 * The reference's expiry job: open conversations whose expiry has passed get LEVETID_UTLOPT,
 * and an incoming one loses its queued message in the same transaction (its payload file is removed
 * after the commit; without `payloads`, or after a crash, the orphan sweep removes it).
 * One batch a tick; the row state is the only memory, so a restart just carries on.
 */
export async function expireConversations(
  db: Db,
  clock: Clock,
  batch = 100,
  payloads?: PayloadStore,
): Promise<number> {
  const now = clock.now().getTime()
  const expired = await expiredOpenConversations(db.kysely, now, batch)
  for (const conversation of expired) {
    const dropped = await db.kysely.transaction().execute(async (trx) => {
      await registerStatus(trx, conversation, { status: 'LEVETID_UTLOPT' }, now)
      return conversation.direction === 'INCOMING'
        ? dropQueuedMessage(trx, conversation.message_id)
        : undefined
    })
    if (dropped && payloads) await removeIncomingPayload(payloads, dropped.asicKey)
  }
  return expired.length
}
