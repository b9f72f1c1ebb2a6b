// Payloads in the database (difi.move.nextmove.use-db-persistence), so every integration point on one
// PostgreSQL reads what another stored. The same promises as the file store (payload-store.ts): bytes
// stream in chunks with the limit enforced while streaming, and a payload becomes visible under its key
// in one transaction, so no reader sees it half written. Each chunk is its own short query: a 5 GiB
// payload never pins a pooled connection for the minutes it takes to stream.

import { open, rm } from 'node:fs/promises'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { sql } from 'kysely'
import { batchesOf } from '../db/batches.js'
import type { Db, Executor } from '../db/open.js'
import { type Clock, systemClock } from '../util/time.js'
import {
  checkKey,
  createLocalPayloadStore,
  LimitAndHash,
  type PayloadStore,
  readUntilAborted,
  type SmallPayload,
  type WriteResult,
} from './payload-store.js'

/** Big enough that a 5 GiB payload is a few thousand queries, small enough to cost nothing in memory. */
export const CHUNK_BYTES = 1024 * 1024

/** Rows per multi-row insert: at 5 columns, far under SQLite's 32,766 parameters and PostgreSQL's 65,535. */
const ROWS_PER_INSERT = 1000

/** `data` cut into pieces of `size` bytes (the last may be shorter; none for no bytes), as the chunks store it. */
function chunksOf(data: Buffer, size: number): Buffer[] {
  const parts: Buffer[] = []
  for (let at = 0; at < data.length; at += size) parts.push(data.subarray(at, at + size))
  return parts
}

/** The row of a payload inserted whole with the caller's rows (insertInTransaction, withInserted). */
function smallPayloadRow({ key, data, sha256 }: SmallPayload, at: number) {
  return { key, size: data.length, sha256, created_at: at, written_at: at }
}

/** How often a writer marks its staged payload as still alive, so the temp sweep leaves it alone. */
const HEARTBEAT_MS = 60 * 1000

export interface DbPayloadStoreOptions {
  /** difi.move.nextmove.filedir: its `.tmp` folder still holds the local temp files (multipart parts) */
  filedir: string
  clock?: Clock
  /** for tests */
  chunkBytes?: number
}

export function createDbPayloadStore(db: Db, options: DbPayloadStoreOptions): PayloadStore {
  const clock = options.clock ?? systemClock
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES
  // the temp folder and its sweep are the file store's: multipart parts and received zips stay local
  const local = createLocalPayloadStore(options.filedir, { clock })
  const k = () => db.kysely
  const now = () => clock.now().getTime()

  async function stage(): Promise<number> {
    const at = now()
    const row = await k()
      .insertInto('payloads')
      .values({ key: null, size: 0, sha256: '', created_at: at, written_at: at })
      .returning('id')
      .executeTakeFirstOrThrow()
    return row.id
  }

  function chunkWriter(): (id: number, seq: number, data: Buffer) => Promise<void> {
    let touched = now()
    return async (id, seq, data) => {
      await k().insertInto('payload_chunks').values({ payload_fk: id, seq, data }).execute()
      if (now() - touched < HEARTBEAT_MS) return
      touched = now()
      await k().updateTable('payloads').set({ written_at: touched }).where('id', '=', id).execute()
    }
  }

  /**
   * Gives the staged payload its key and takes the key from an earlier payload in one transaction;
   * the earlier one is removed after the commit (marked staged and old first, so the sweep removes it
   * if this process dies in between). Two writers of one key race on the unique index: the loser tries
   * again, and the last to commit wins, as with the file store's rename.
   */
  async function publish(id: number, key: string, result: WriteResult): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const replaced = await k()
          .transaction()
          .execute(async (trx) => {
            const old = await trx
              .updateTable('payloads')
              .set({ key: null, written_at: 0 })
              .where('key', '=', key)
              .returning('id')
              .execute()
            const done = await trx
              .updateTable('payloads')
              .set({ key, size: result.size, sha256: result.sha256, written_at: now() })
              .where('id', '=', id)
              .where('key', 'is', null)
              .executeTakeFirst()
            if (Number(done.numUpdatedRows) !== 1)
              throw new Error(
                `the staged payload for ${JSON.stringify(key)} was swept before it was complete`,
              )
            return old.map((r) => r.id)
          })
        for (const old of replaced) await discard(old)
        return
      } catch (err) {
        if (attempt < 5 && isUniqueViolation(err)) continue
        throw err
      }
    }
  }

  async function discard(id: number): Promise<void> {
    await k().deleteFrom('payloads').where('id', '=', id).execute()
  }

  /**
   * The keys under `prefix/`: those that start with it, and only those, sort from it up to the same
   * with its '/' made '0' (the next character), in byte order: a range the key's index serves, where a
   * substr() or LIKE would read the whole table for every message removed.
   */
  const underPrefix = (prefix: string) => {
    const key = db.caps.byBytes('key')
    return sql<boolean>`(${key} >= ${`${prefix}/`} and ${key} < ${`${prefix}0`})`
  }

  async function adoptOne(key: string, tempPath: string): Promise<void> {
    // opened first, so a missing file rejects here rather than as an 'error' nobody listens to yet
    const file = (await open(tempPath, 'r')).createReadStream()
    try {
      await store.write(key, file, {
        maxBytes: Number.POSITIVE_INFINITY,
        onLimit: () => new Error('unreachable'),
      })
    } finally {
      // write leaves its source open on failure (see PayloadStore.write); this one is ours
      file.destroy()
    }
    await rm(tempPath, { force: true })
  }

  const store: PayloadStore = {
    tempDir: local.tempDir,
    // a temp file's bytes are copied into the database before anything answers 200: its commit is the fsync
    tempFilesNeedSync: false,
    async insertInTransaction(trx, payloads) {
      if (payloads.length === 0) return
      const at = now()
      for (const { key } of payloads) checkKey(key)
      // one multi-row insert of the payloads and one of their chunks (up to a thousand rows each), where
      // a statement per row would be a round trip each on PostgreSQL; keyed at once: the payloads are
      // visible only when the caller's transaction commits
      const rows: { id: number; key: string | null }[] = []
      for (const batch of batchesOf(payloads, ROWS_PER_INSERT)) {
        const values = batch.map((p) => smallPayloadRow(p, at))
        rows.push(...(await trx.insertInto('payloads').values(values).returning(['id', 'key']).execute()))
      }
      // RETURNING's order is not promised: matched by key, which is unique
      const idOf = new Map(rows.map((r) => [r.key, r.id]))
      const chunks: { payload_fk: number; seq: number; data: Buffer }[] = []
      for (const { key, data } of payloads) {
        const id = idOf.get(key)
        if (id === undefined) throw new Error(`payload ${key} was not inserted`)
        chunks.push(...chunksOf(data, chunkBytes).map((part, seq) => ({ payload_fk: id, seq, data: part })))
      }
      for (const batch of batchesOf(chunks, ROWS_PER_INSERT))
        await trx.insertInto('payload_chunks').values(batch).execute()
    },
    withInserted(qc, payloads) {
      if (payloads.length === 0) return qc
      const at = now()
      for (const { key } of payloads) checkKey(key)
      const chunks = payloads.flatMap(({ key, data }) =>
        chunksOf(data, chunkBytes).map((part, seq) => ({ key, seq, part })),
      )
      const inserted = qc.with('inserted_payloads', (q) =>
        q
          .insertInto('payloads')
          .values(payloads.map((p) => smallPayloadRow(p, at)))
          .returning(['id', 'key']),
      )
      // the clauses' own names are not for the caller's statement to refer to: it gets the executor's type
      if (chunks.length === 0) return inserted as unknown as Executor
      // the chunks find their payload's id by key (unique) in the rows the first clause inserted
      return inserted.with('inserted_payload_chunks', (q) =>
        q.insertInto('payload_chunks').values((eb) =>
          chunks.map(({ key, seq, part }) => ({
            payload_fk: eb
              .selectFrom('inserted_payloads')
              .select('inserted_payloads.id')
              .where('inserted_payloads.key', '=', key),
            seq,
            data: part,
          })),
        ),
      ) as unknown as Executor
    },
    async write(key, source, opts) {
      checkKey(key)
      // the sink stages the row as it starts, after the pipeline has taken `source` in hand: no error
      // of `source` goes unheard while the database answers
      const sink = new ChunkSink(chunkBytes, stage, chunkWriter())
      try {
        const counter = new LimitAndHash(opts.maxBytes, opts.onLimit)
        const input = readUntilAborted(source, opts.signal)
        await pipeline(input, counter, sink, opts.signal ? { signal: opts.signal } : {})
        const result = { size: counter.size, sha256: counter.digest(), crc32: counter.crc32 }
        await publish(sink.id!, key, result)
        return result
      } catch (err) {
        await sink.settled()
        // when the database itself failed, sweepTemp removes the staged row later
        if (sink.id !== undefined) await discard(sink.id).catch(() => {})
        throw err
      }
    },
    read(key) {
      checkKey(key)
      return new PayloadReader(db, key)
    },
    async remove(key) {
      checkKey(key)
      await k().deleteFrom('payloads').where('key', '=', key).execute()
    },
    async removeDir(prefix) {
      checkKey(prefix)
      await k()
        .deleteFrom('payloads')
        .where((eb) => eb.or([eb('key', '=', prefix), underPrefix(prefix)]))
        .execute()
    },
    async exists(key) {
      checkKey(key)
      return (
        (await k().selectFrom('payloads').select('id').where('key', '=', key).executeTakeFirst()) !==
        undefined
      )
    },
    removeDirInStatement(prefix) {
      checkKey(prefix)
      return {
        clause: (when) =>
          sql`delete from payloads where (key = ${prefix} or ${underPrefix(prefix)}) and ${when}`,
        after: async () => {},
      }
    },
    async missing(keys) {
      for (const key of keys) checkKey(key)
      if (keys.length === 0) return []
      // one statement for a message's files: on PostgreSQL each is a round trip
      const found = await k().selectFrom('payloads').select('key').where('key', 'in', keys).execute()
      const have = new Set(found.map((r) => r.key))
      return keys.filter((key) => !have.has(key))
    },
    adopt: (key, tempPath) => store.adoptAll([{ key, tempPath }]),
    async adoptAll(files) {
      // one after the other, and every file tried before a failure is reported, so the caller's
      // clean-up by key never races an adoption still under way
      let failure: { error: unknown } | undefined
      for (const { key, tempPath } of files) {
        await adoptOne(key, tempPath).catch((error) => {
          failure ??= { error }
        })
      }
      if (failure) throw failure.error
    },
    async sweepTemp(olderThanMs) {
      const files = await local.sweepTemp(olderThanMs)
      const swept = await k()
        .deleteFrom('payloads')
        .where('key', 'is', null)
        .where('written_at', '<', now() - olderThanMs)
        .executeTakeFirst()
      return files + Number(swept.numDeletedRows)
    },
    async list(prefix, opts = {}) {
      if (prefix !== '') checkKey(prefix)
      let query = k().selectFrom('payloads').select('key').where('key', 'is not', null)
      if (prefix !== '') query = query.where(underPrefix(prefix))
      if (opts.olderThanMs !== undefined) query = query.where('written_at', '<', now() - opts.olderThanMs)
      const keys = (await query.execute()).map((r) => r.key as string)
      // sorted here, not by SQL: PostgreSQL's collation would order them unlike the file store
      return keys.sort()
    },
  }
  return store
}

/**
 * Cuts the bytes into chunks of `chunkBytes` (the last may be shorter) and stores each before taking
 * more, so the pipeline waits on the database (backpressure) and memory stays at about one chunk,
 * however the source happens to slice its bytes.
 */
class ChunkSink extends Writable {
  /** the staged payload's row, once `_construct` has made it */
  id: number | undefined
  #parts: Buffer[] = []
  #length = 0
  #seq = 0
  #inFlight: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly chunkBytes: number,
    private readonly stage: () => Promise<number>,
    private readonly storeChunk: (id: number, seq: number, data: Buffer) => Promise<void>,
  ) {
    super()
  }

  // writes wait for this (Writable buffers them), so every chunk has its row
  override _construct(callback: (error?: Error | null) => void): void {
    const staging = this.stage().then((id) => {
      this.id = id
    })
    this.#inFlight = staging
    staging.then(() => callback(), callback)
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#parts.push(chunk)
    this.#length += chunk.length
    this.#storeFull().then(() => callback(), callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    const last = this.#length > 0 ? this.#store(this.#take(this.#length)) : Promise.resolve()
    last.then(() => callback(), callback)
  }

  /** resolves once nothing is being staged or stored, so the row is removed after its last chunk, not before */
  settled(): Promise<void> {
    return this.#inFlight.then(
      () => {},
      () => {},
    )
  }

  async #storeFull(): Promise<void> {
    while (this.#length >= this.chunkBytes) await this.#store(this.#take(this.chunkBytes))
  }

  #store(data: Buffer): Promise<void> {
    const storing = this.storeChunk(this.id!, this.#seq++, data)
    this.#inFlight = storing
    return storing
  }

  #take(n: number): Buffer {
    const all = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#length)
    const rest = all.subarray(n)
    this.#parts = rest.length > 0 ? [rest] : []
    this.#length = rest.length
    return all.subarray(0, n)
  }
}

/**
 * Reads a payload one chunk per query, fetching the next only when the consumer wants it. The first
 * query finds the payload and its first chunk together, so a missing key errors with ENOENT, as a
 * missing file does. A payload removed or replaced while it is read errors rather than end short.
 */
class PayloadReader extends Readable {
  #payload: { id: number; size: number } | undefined
  #seq = 0
  #sent = 0

  constructor(
    private readonly db: Db,
    private readonly key: string,
  ) {
    // one chunk read ahead at most: a chunk is far above the default high-water mark
    super()
  }

  override _read(): void {
    this.#next().then(
      (chunk) => {
        if (!this.destroyed) this.push(chunk)
      },
      (err: Error) => this.destroy(err),
    )
  }

  async #next(): Promise<Buffer | null> {
    if (this.#payload && this.#sent >= this.#payload.size) return null
    const data = this.#payload ? await this.#chunk(this.#payload.id) : await this.#first()
    const size = this.#payload?.size ?? 0
    if (data === undefined) {
      if (this.#sent === 0 && size > 0) throw missing(this.key)
      if (this.#sent < size)
        throw new Error(`payload ${JSON.stringify(this.key)} was removed while it was read`)
      return null
    }
    this.#seq++
    this.#sent += data.length
    if (this.#sent > size)
      throw new Error(`payload ${JSON.stringify(this.key)} was replaced while it was read`)
    return data
  }

  async #first(): Promise<Buffer | undefined> {
    const row = await this.db.kysely
      .selectFrom('payloads as p')
      .leftJoin('payload_chunks as c', (join) => join.onRef('c.payload_fk', '=', 'p.id').on('c.seq', '=', 0))
      .select(['p.id', 'p.size', 'c.data'])
      .where('p.key', '=', this.key)
      .executeTakeFirst()
    if (!row) throw missing(this.key)
    this.#payload = { id: row.id, size: row.size }
    return row.data ?? undefined
  }

  async #chunk(id: number): Promise<Buffer | undefined> {
    const row = await this.db.kysely
      .selectFrom('payload_chunks')
      .select('data')
      .where('payload_fk', '=', id)
      .where('seq', '=', this.#seq)
      .executeTakeFirst()
    return row?.data
  }
}

function missing(key: string): NodeJS.ErrnoException {
  // callers tell a missing payload by this code, as with a missing file
  return Object.assign(new Error(`ENOENT: no payload stored under ${JSON.stringify(key)}`), {
    code: 'ENOENT',
  })
}

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE'
}
