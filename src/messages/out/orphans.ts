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
 * Payload folders whose message row is gone (a crash between the file rename and the commit, or
 * between a delete's commit and the folder removal). Run at start, before requests are served, and
 * only on SQLite: with PostgreSQL another instance may be between its rename and its commit.
 */
export async function sweepOrphanPayloads(db: Db, payloads: PayloadStore): Promise<number> {
  if (db.caps.name !== 'sqlite') return 0
  const folders = new Set((await payloads.list('out')).map((key) => key.split('/')[1]!).filter(Boolean))
  if (!folders.size) return 0
  const known = new Set<string>()
  const ids = [...folders]
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.kysely
      .selectFrom('out_messages')
      .select('message_id')
      .where('message_id', 'in', ids.slice(i, i + 500))
      .execute()
    for (const r of rows) known.add(r.message_id)
  }
  let removed = 0
  for (const folder of folders) {
    if (known.has(folder)) continue
    await payloads.removeDir(outPayloadFolder(folder))
    removed++
  }
  return removed
}
