import type { Db } from '../db/open.js'
import type { Clock } from '../util/time.js'
import { expiredOpenConversations, registerStatus } from './repository.js'

/**
 * The reference's expiry job (§7.2): open conversations whose expiry has passed get LEVETID_UTLOPT.
 * One batch a tick; the row state is the only memory, so a restart just carries on.
 */
export async function expireConversations(db: Db, clock: Clock, batch = 100): Promise<number> {
  const now = clock.now().getTime()
  const expired = await expiredOpenConversations(db.kysely, now, batch)
  for (const conversation of expired) {
    await db.kysely
      .transaction()
      .execute((trx) => registerStatus(trx, conversation, { status: 'LEVETID_UTLOPT' }, now))
  }
  return expired.length
}
