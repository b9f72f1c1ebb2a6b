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
  let removed = 0
  for (let i = 0; i < keys.length; i += 500) {
    const batch = keys.slice(i, i + 500)
    const rows = await db.kysely
      .selectFrom('out_files')
      .select('storage_key')
      .where('storage_key', 'in', batch)
      .execute()
    const known = new Set(rows.map((r) => r.storage_key))
    for (const key of batch) {
      if (known.has(key)) continue
      await payloads.remove(key)
      removed++
    }
  }
  await removeFoldersOfDeletedMessages(db, payloads, keys)
  return removed
}

async function removeFoldersOfDeletedMessages(db: Db, payloads: PayloadStore, keys: string[]): Promise<void> {
  const ids = [...new Set(keys.map((k) => k.split('/')[1]!).filter(Boolean))]
  for (let i = 0; i < ids.length; i += 500) {
    const batch = ids.slice(i, i + 500)
    const rows = await db.kysely
      .selectFrom('out_messages')
      .select('message_id')
      .where('message_id', 'in', batch)
      .execute()
    const live = new Set(rows.map((r) => r.message_id))
    for (const id of batch) if (!live.has(id)) await payloads.removeDir(outPayloadFolder(id))
  }
}
