import { batchesOf } from '../../db/batches.js'
import type { Db } from '../../db/open.js'
import type { PayloadStore } from '../../files/payload-store.js'

/** Outgoing payloads live under `out/<messageId>/`. */
export function outPayloadKey(messageId: string, fileId: string): string {
  return `out/${messageId}/${fileId}`
}

export function outPayloadFolder(messageId: string): string {
  return `out/${messageId}`
}

/**
 * How long a payload file without a row is left alone. A file is renamed into place a moment before
 * its row commits; with SQLite one process owns the store and nothing is between those two steps at
 * start, with PostgreSQL another instance may be.
 */
export function orphanGraceMs(db: Db): number {
  return db.caps.name === 'sqlite' ? 0 : 10 * 60 * 1000
}

/**
 * Removes payload files that no row refers to: left by a crash between the file's rename and its
 * commit, or between a delete's commit and the folder's removal. Files written within `graceMs` are
 * left for a later sweep.
 */
export async function sweepOrphanPayloads(db: Db, payloads: PayloadStore, graceMs: number): Promise<number> {
  const keys = await payloads.list('out', { olderThanMs: graceMs })
  const knownKeys = await known(keys, async (batch) =>
    (
      await db.kysely
        .selectFrom('out_files')
        .select('storage_key')
        .where('storage_key', 'in', batch)
        .execute()
    ).map((r) => r.storage_key),
  )
  const orphans = keys.filter((k) => !knownKeys.has(k))
  for (const key of orphans) await payloads.remove(key)
  // and the (now empty) folders of messages that are gone
  const ids = [...new Set(keys.map((k) => k.split('/')[1]!).filter(Boolean))]
  const liveIds = await known(ids, async (batch) =>
    (
      await db.kysely
        .selectFrom('out_messages')
        .select('message_id')
        .where('message_id', 'in', batch)
        .execute()
    ).map((r) => r.message_id),
  )
  for (const id of ids) if (!liveIds.has(id)) await payloads.removeDir(outPayloadFolder(id))
  return orphans.length
}

/** Which of `values` the database knows, asked in batches that stay under SQL's parameter limits. */
async function known(values: string[], lookup: (batch: string[]) => Promise<string[]>): Promise<Set<string>> {
  const found = new Set<string>()
  for (const batch of batchesOf(values, 500)) for (const v of await lookup(batch)) found.add(v)
  return found
}
