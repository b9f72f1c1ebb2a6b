import { resolve } from 'node:path'
import { Readable } from 'node:stream'
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
  const files = createLocalPayloadStore(filedir, clock)
  if (payloadStoreKind(o.config, o.db.caps.name) === 'database')
    return withEarlierFiles(createDbPayloadStore(o.db, { filedir, ...clock }), files)
  if (!smallSendsInDatabase(o.config, o.db.caps.name)) return files
  return withSmallSendsInDatabase(createDbPayloadStore(o.db, { filedir, ...clock }), files)
}

/**
 * Left at its default on SQLite, the file store still takes the small files of a one-step send into the
 * database: those the multipart reader held in memory (IN_MEMORY_PART_BYTES in
 * messages/out/multipart-send.ts), inserted in the transaction that stores their message. Such a send then
 * makes no file-system call at all, where files cost about two dozen (temp files, renames, folder fsyncs,
 * the folder's removal after the send), each a round trip to libuv's thread pool: 1.7 times the requests
 * per second (bench/README.md). Set explicitly to false, every payload is a file.
 */
export function smallSendsInDatabase(
  config: Pick<Config, 'nextmove'>,
  datasourceKind: Db['caps']['name'],
): boolean {
  return config.nextmove.useDbPersistence === null && datasourceKind === 'sqlite'
}

/**
 * The file store, with `insertInTransaction` into the database; reads, removals and sweeps cover both,
 * the database first (as withEarlierFiles).
 */
export function withSmallSendsInDatabase(database: PayloadStore, files: PayloadStore): PayloadStore {
  return {
    ...withEarlierFiles(database, files),
    tempFilesNeedSync: files.tempFilesNeedSync,
    write: files.write,
    adopt: files.adopt,
    adoptAll: files.adoptAll,
  }
}

/**
 * The database store over the payload folder an earlier start kept files in (before the upgrade that
 * made the database the default on PostgreSQL, or with use-db-persistence=false): new payloads go to the
 * database; a key the database does not have is read from the folder, and removals and sweeps cover
 * both, so messages stored before the switch are still sent, popped and removed. With nothing left in
 * the folder, a miss costs one failed open.
 */
export function withEarlierFiles(database: PayloadStore, files: PayloadStore): PayloadStore {
  return {
    ...database,
    read(key) {
      async function* either(): AsyncGenerator<Buffer> {
        let started = false
        try {
          for await (const chunk of database.read(key)) {
            started = true
            yield chunk as Buffer
          }
          return
        } catch (error) {
          if (started || (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
        }
        yield* files.read(key)
      }
      return Readable.from(either(), { objectMode: false })
    },
    exists: async (key) => (await database.exists(key)) || files.exists(key),
    async missing(keys) {
      const notInDatabase = await database.missing(keys)
      return notInDatabase.length ? files.missing(notInDatabase) : []
    },
    async remove(key) {
      await Promise.all([database.remove(key), files.remove(key)])
    },
    async removeDir(prefix) {
      await Promise.all([database.removeDir(prefix), files.removeDir(prefix)])
    },
    ...(database.removeDirInStatement && {
      removeDirInStatement(prefix: string) {
        const inDatabase = database.removeDirInStatement!(prefix)
        return {
          clause: inDatabase.clause,
          async after() {
            await inDatabase.after()
            await files.removeDir(prefix)
          },
        }
      },
    }),
    async list(prefix, opts) {
      const [a, b] = await Promise.all([database.list(prefix, opts), files.list(prefix, opts)])
      return [...new Set([...a, ...b])].sort()
    },
  }
}
