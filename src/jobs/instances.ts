// The instances running on one database, each with a heartbeat row, so an instance can see the others:
// to refuse a start that cannot work with them (they keep payloads where this one cannot read them) and
// to warn about a setting that several instances cannot share (payload files on one machine's disk).

import { hostname } from 'node:os'
import type { Db } from '../db/open.js'
import type { InstanceRow } from '../db/schema.js'
import type { PayloadStoreKind } from '../files/choose-store.js'

export interface InstanceInfo {
  id: string
  url: string | null
  payloadStore: PayloadStoreKind
  services: readonly string[]
  version: string
}

/** An instance not seen for this many heartbeats is taken for dead. */
const MISSED_BEATS = 3

export async function beat(db: Db, me: InstanceInfo, now: number, startedAt: number): Promise<void> {
  const values = {
    id: me.id,
    host: hostname(),
    pid: process.pid,
    url: me.url,
    payload_store: me.payloadStore,
    services: JSON.stringify(me.services),
    version: me.version,
    started_at: startedAt,
    seen_at: now,
  }
  await db.kysely
    .insertInto('instances')
    .values(values)
    .onConflict((oc) => oc.column('id').doUpdateSet({ seen_at: now, url: me.url }))
    .execute()
}

/** The other instances seen within the last few heartbeats. */
export async function livePeers(db: Db, myId: string, now: number, beatMs: number): Promise<InstanceRow[]> {
  return db.kysely
    .selectFrom('instances')
    .selectAll()
    .where('id', '<>', myId)
    .where('seen_at', '>=', now - MISSED_BEATS * beatMs)
    .orderBy('started_at')
    .execute()
}

/** Removes this instance's row (a clean stop) and the rows of instances gone for a day. */
export async function leave(db: Db, myId: string, now: number): Promise<void> {
  await db.kysely
    .deleteFrom('instances')
    .where((eb) => eb.or([eb('id', '=', myId), eb('seen_at', '<', now - 86_400_000)]))
    .execute()
}

/**
 * Why this instance cannot run beside `peers`, or null: an instance keeping payloads in the database
 * and one keeping them in files cannot read each other's messages.
 */
export function incompatiblePeer(me: PayloadStoreKind, peers: readonly InstanceRow[]): string | null {
  const other = peers.find((p) => p.payload_store !== me)
  if (!other) return null
  return (
    `another integration point on this database (${other.host}, pid ${other.pid}${other.url ? `, ${other.url}` : ''}) ` +
    `keeps payloads in ${other.payload_store === 'database' ? 'the database' : 'files'} and this one in ` +
    `${me === 'database' ? 'the database' : 'files'}: they could not read each other's messages. Set ` +
    'difi.move.nextmove.use-db-persistence alike on every instance (true for several instances)'
  )
}
