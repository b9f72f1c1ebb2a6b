import { resolve } from 'node:path'
import type { Config } from '../config/types.js'
import type { Db } from '../db/open.js'
import type { Clock } from '../util/time.js'
import { createDbPayloadStore } from './db-payload-store.js'
import { createLocalPayloadStore, type PayloadStore } from './payload-store.js'

export type PayloadStoreKind = 'database' | 'files'

/**
 * Where payloads live. An explicit difi.move.nextmove.use-db-persistence is honoured on either database.
 * Left at its default (the reference's `true`), it follows the database: on PostgreSQL several instances
 * may share it and must all read every payload, so the database; SQLite has one instance, which the
 * file store serves faster and without growing the database file.
 */
export function payloadStoreKind(
  config: Pick<Config, 'nextmove'>,
  datasourceKind: Db['caps']['name'],
): PayloadStoreKind {
  const chosen = config.nextmove.useDbPersistence ?? datasourceKind === 'postgres'
  return chosen ? 'database' : 'files'
}

export function createPayloadStore(o: {
  config: Pick<Config, 'nextmove'>
  db: Db
  cwd: string
  clock?: Clock
}): PayloadStore {
  const filedir = resolve(o.cwd, o.config.nextmove.filedir)
  const clock = o.clock ? { clock: o.clock } : {}
  return payloadStoreKind(o.config, o.db.caps.name) === 'database'
    ? createDbPayloadStore(o.db, { filedir, ...clock })
    : createLocalPayloadStore(filedir, clock)
}
