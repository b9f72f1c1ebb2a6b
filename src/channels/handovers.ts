// What a channel handed to its service, by purpose (`send:<messageId>`, `status:<messageId>:<status>`):
// the service's own reference for it (DPO: the file transfer). A channel records it before or as it hands
// a message over, so a retry after a lost answer finds what it already made instead of making a second;
// a delete that finds one knows the message may be with the service already. Whatever the service.

import type { Executor } from '../db/open.js'

/** the service's reference recorded under `purpose`, or null */
export async function handoverOf(db: Executor, purpose: string): Promise<string | null> {
  const row = await db.selectFrom('handovers').select('ref').where('purpose', '=', purpose).executeTakeFirst()
  return row?.ref ?? null
}

/** records (or replaces) the reference under `purpose` */
export async function recordHandover(db: Executor, purpose: string, ref: string, now: number): Promise<void> {
  await db
    .insertInto('handovers')
    .values({ purpose, ref, created_at: now })
    .onConflict((oc) => oc.column('purpose').doUpdateSet({ ref, created_at: now }))
    .execute()
}

/** the record has done its job (the send finished) or must not be used again (the service lost it) */
export async function forgetHandover(db: Executor, purpose: string): Promise<void> {
  await db.deleteFrom('handovers').where('purpose', '=', purpose).execute()
}

/** removes up to `batch` records made before `cutoff` (retention); returns how many */
export async function pruneHandovers(db: Executor, cutoff: number, batch: number): Promise<number> {
  const pick = db
    .selectFrom('handovers')
    .select('id')
    .where('created_at', '<', cutoff)
    .orderBy('id')
    .limit(batch)
  const r = await db.deleteFrom('handovers').where('id', 'in', pick).executeTakeFirst()
  return Number(r.numDeletedRows)
}
