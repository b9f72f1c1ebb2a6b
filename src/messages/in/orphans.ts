import { createHash } from 'node:crypto'
import type { Db } from '../../db/open.js'
import type { PayloadStore } from '../../files/payload-store.js'
import { knownAsicKeys } from './repository.js'

/**
 * Incoming payloads live under `in/<messageId>/<uuid>`: unique per delivery, so two intakes of the
 * same message racing each other never write over one another's file. A messageId that is not a safe
 * folder name (it comes from another organisation) is replaced by its hash.
 */
export function inPayloadKey(messageId: string, uuid: string): string {
  return `${inPayloadFolder(messageId)}/${uuid}`
}

export function inPayloadFolder(messageId: string): string {
  const safe = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(messageId)
  return `in/${safe ? messageId : `h-${createHash('sha256').update(messageId).digest('hex').slice(0, 40)}`}`
}

/** The folder of a stored key (`in/<folder>/<uuid>` → `in/<folder>`). */
export function folderOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/'))
}

/**
 * removes payload files under `in/` that have no in_messages row (a crash between adopt and commit)
 *
 * Files written within `graceMs` are left alone: an intake adopts its file a moment before its row
 * commits. A folder goes too when nothing else is in it.
 */
export async function sweepIncomingOrphans(db: Db, payloads: PayloadStore, graceMs: number): Promise<number> {
  const aged = await payloads.list('in', { olderThanMs: graceMs })
  if (!aged.length) return 0
  const known = await knownAsicKeys(db.kysely, aged)
  const orphans = aged.filter((k) => !known.has(k))
  for (const key of orphans) await payloads.remove(key)
  const left = new Set((await payloads.list('in')).map(folderOf))
  for (const folder of new Set(orphans.map(folderOf))) {
    if (!left.has(folder)) await payloads.removeDir(folder)
  }
  return orphans.length
}
