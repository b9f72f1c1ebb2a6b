// Payload files on local disk (difi.move.nextmove.filedir). Design principle 2 and 4, style rule 13:
// bytes stream from the client to a temp file with the size limit enforced while streaming, the file
// is fsynced, renamed atomically into place and its directory fsynced, so a 200 that follows `write`
// survives a power cut and no reader ever sees a half-written payload under its key.

import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, lstatSync } from 'node:fs'
import { lstat, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { type Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { crc32 } from 'node:zlib'
import type { RawBuilder } from 'kysely'
import type { Executor } from '../db/open.js'
import { type Clock, systemClock } from '../util/time.js'
import { syncingWriteStream } from './sync-ahead.js'

/**
 * The pieces a whole message's bytes are read in: payloads here, zip entries and a CMS in packaging/, the
 * broker stand-in's transfers. Node's default (64 KiB, 16 KiB for yauzl's reader) makes 16,384 reads and
 * buffers per GiB or more.
 */
export const READ_PIECE_BYTES = 256 * 1024

/** Folder under the root for files being written; on the same filesystem, so rename is atomic. */
export const TEMP_DIR = '.tmp'

export interface WriteOptions {
  maxBytes: number
  onLimit: (bytesSeen: number) => Error
  signal?: AbortSignal
}

export interface WriteResult {
  size: number
  sha256: string
  /** CRC-32 of the bytes (unsigned): a send stores a document with it in the zip's local header without reading it first */
  crc32: number
}

export interface PayloadStore {
  /**
   * <root>/.tmp, where `write` stages its files. Put other temp files (multipart parts) here too: it is
   * on the store's filesystem, so `adopt` is a rename, and `sweepTemp` clears what a crash leaves.
   */
  readonly tempDir: string
  /**
   * Streams `source` to a temp file under <root>/.tmp, fsyncs, then renames atomically to <root>/<key>
   * (replacing an earlier file with that key). Enforces maxBytes WHILE streaming: past the limit it stops
   * reading, removes the temp file and rejects with the error `onLimit(bytesSeen)` returns. Resolves
   * with the byte count and SHA-256 (hex). On any failure (client abort, disk error) the temp file is
   * removed. `source` is never destroyed here: after a failure it is left paused with the unread rest,
   * so the HTTP layer can still answer (and decide whether to drain it or drop the connection).
   */
  write(key: string, source: Readable, opts: WriteOptions): Promise<WriteResult>
  /** the stored bytes; the stream errors with ENOENT when the key does not exist */
  read(key: string): Readable
  /** idempotent */
  remove(key: string): Promise<void>
  /** removes <root>/<prefix>/ (a message's folder), idempotent */
  removeDir(prefix: string): Promise<void>
  /** whether a stored file exists under `key` */
  exists(key: string): Promise<boolean>
  /** the keys of `keys` with no stored file, in their order: a message's files asked about at once */
  missing(keys: readonly string[]): Promise<string[]>
  /**
   * Moves a complete, already fsynced file (such as a multipart temp file) to <root>/<key> with the same
   * atomic rename and directory fsync as `write`; copies when it sits on another filesystem.
   */
  adopt(key: string, tempPath: string): Promise<void>
  /**
   * `adopt` for several files at once (a message's attachments): one mkdir and one directory fsync per
   * target folder instead of one per file. When it fails some files may be in place already; the
   * caller removes the keys (and its remaining temp files).
   */
  adoptAll(files: readonly { key: string; tempPath: string }[]): Promise<void>
  /**
   * Whether a temp file must be fsynced before it is adopted: true for the file store, whose adoption
   * renames it; false where adopting copies its bytes into the database, whose commit makes them durable.
   */
  readonly tempFilesNeedSync: boolean
  /**
   * Present where payloads live in the database: stores small payloads, whole in memory (the caller
   * bounds their total), under new keys within the caller's transaction, so they commit in the same
   * commit as the rows that refer to them.
   */
  insertInTransaction?(trx: Executor, payloads: readonly SmallPayload[]): Promise<void>
  /**
   * PostgreSQL only, where insertInTransaction is: the same inserts as data-modifying `WITH` clauses added
   * to the caller's statement (`qc`), so the payloads commit with the rows that statement writes, in one
   * round trip. The statement's parameters (PostgreSQL takes 65,535) bound how many.
   */
  withInserted?(qc: Executor, payloads: readonly SmallPayload[]): Executor
  /**
   * PostgreSQL only, where insertInTransaction is: removeDir(prefix) as a `delete` for a data-modifying
   * `WITH` clause of the caller's statement, removing only where `when` holds, and `after`, what is left to
   * remove once that statement has committed (payloads kept outside the database, withEarlierFiles').
   */
  removeDirInStatement?(prefix: string): DirRemoval
  /** deletes temp files older than `olderThanMs` (left by a crash) and returns how many it removed */
  sweepTemp(olderThanMs: number): Promise<number>
  /** lists keys under a prefix, sorted ('' lists every key), for the orphan sweep; `olderThanMs` keeps only files last written before then */
  list(prefix: string, opts?: { olderThanMs?: number }): Promise<string[]>
}

/** A folder's removal within a caller's statement (PayloadStore.removeDirInStatement). */
export interface DirRemoval {
  clause(when: RawBuilder<boolean>): RawBuilder<unknown>
  after(): Promise<void>
}

/** Those of `files` whose stored payload is missing, in their order (one question to the store for all). */
export async function missingFiles<F extends { storage_key: string }>(
  payloads: Pick<PayloadStore, 'missing'>,
  files: readonly F[],
): Promise<F[]> {
  const gone = new Set(await payloads.missing(files.map((f) => f.storage_key)))
  return files.filter((f) => gone.has(f.storage_key))
}

/**
 * A received package (a CMS) up to this size is stored with its message, in the intake's transaction,
 * where the store takes small payloads so (`insertInTransaction`).
 */
export const IN_TRANSACTION_PACKAGE_BYTES = 1024 * 1024

/**
 * Whether the intake stores a received package of `size` bytes in its transaction: then its temp file is
 * read back and removed, and needs no fsync of its own (the commit makes the bytes durable).
 */
export function packageInTransaction(
  store: Pick<PayloadStore, 'insertInTransaction'>,
  size: number,
): boolean {
  return store.insertInTransaction !== undefined && size <= IN_TRANSACTION_PACKAGE_BYTES
}

/**
 * Whether a transport must fsync the temp file of a received package of `size` bytes before the intake takes
 * it: where the intake adopts it by a rename (a file store), but not one it stores in its transaction.
 */
export function packageNeedsSync(
  store: Pick<PayloadStore, 'insertInTransaction' | 'tempFilesNeedSync'>,
  size: number,
): boolean {
  return store.tempFilesNeedSync && !packageInTransaction(store, size)
}

/** A payload for `insertInTransaction`, with the SHA-256 (hex) its writer counted. */
export interface SmallPayload {
  key: string
  data: Buffer
  sha256: string
}

export interface LocalPayloadStoreOptions {
  /** for sweepTemp's age test */
  clock?: Clock
}

export function createLocalPayloadStore(root: string, options: LocalPayloadStoreOptions = {}): PayloadStore {
  const base = resolve(root)
  const tmpDir = join(base, TEMP_DIR)
  const clock = options.clock ?? systemClock
  const pathOf = (key: string): string => keyPath(base, key)

  const store: PayloadStore = {
    tempDir: tmpDir,
    tempFilesNeedSync: true,
    async write(key, source, opts) {
      const target = pathOf(key)
      await mkdir(tmpDir, { recursive: true })
      const tmp = join(tmpDir, `${randomUUID()}.part`)
      try {
        const result = await streamToFile(source, tmp, opts)
        await moveIntoPlace(tmp, target)
        return result
      } catch (err) {
        await rm(tmp, { force: true })
        throw err
      }
    },
    read: (key) => createReadStream(pathOf(key), { highWaterMark: READ_PIECE_BYTES }),
    remove: async (key) => rm(pathOf(key), { force: true }),
    async removeDir(prefix) {
      const dir = pathOf(prefix)
      // Most messages have no folder here (a small send kept in the database, payloads in the database
      // on PostgreSQL): a synchronous look at its entry costs a couple of µs, where fs.rm's first
      // asynchronous lstat is a round trip to libuv's thread pool costing this process 30-100 µs of CPU
      // on a small VM. Only a folder that is there is removed, asynchronously.
      if (!lstatSync(dir, { throwIfNoEntry: false })) return
      await rm(dir, { recursive: true, force: true })
    },
    async exists(key) {
      const target = pathOf(key)
      const info = await stat(target).catch(ignoreMissing)
      return info?.isFile() ?? false
    },
    async missing(keys) {
      const found = await Promise.all(keys.map((key) => store.exists(key)))
      return keys.filter((_, i) => !found[i])
    },
    adopt: (key, tempPath) => store.adoptAll([{ key, tempPath }]),
    async adoptAll(files) {
      const byDir = new Map<string, { key: string; from: string; target: string }[]>()
      for (const { key, tempPath } of files) {
        const target = pathOf(key)
        const moves = byDir.get(dirname(target)) ?? []
        moves.push({ key, from: tempPath, target })
        byDir.set(dirname(target), moves)
      }
      for (const [dir, moves] of byDir) {
        const created = await mkdir(dir, { recursive: true })
        // side by side, but all settled before a failure is reported, so the caller's clean-up
        // never races a rename still under way
        const renamed = await Promise.allSettled(
          moves.map(({ key, from, target }) =>
            rename(from, target).catch((err) => copyAcross(err, key, from)),
          ),
        )
        const failed = renamed.find((r) => r.status === 'rejected')
        if (failed) throw failed.reason
        await syncNewEntries(dir, created)
      }
    },
    async sweepTemp(olderThanMs) {
      const names = await readdir(tmpDir).catch(ignoreMissing)
      let removed = 0
      for (const name of names ?? []) {
        const path = join(tmpDir, name)
        const info = await lstat(path).catch(ignoreMissing)
        if (info && clock.now().getTime() - info.mtimeMs > olderThanMs) {
          await rm(path, { recursive: true, force: true })
          removed++
        }
      }
      return removed
    },
    async list(prefix, opts = {}) {
      const start = prefix === '' ? base : pathOf(prefix)
      let files: string[] = []
      await collectFiles(start, files)
      if (opts.olderThanMs !== undefined) {
        const cutoff = clock.now().getTime() - opts.olderThanMs
        const aged = await Promise.all(
          files.map(async (f) => ((await lstat(f).catch(ignoreMissing))?.mtimeMs ?? cutoff) < cutoff),
        )
        files = files.filter((_, i) => aged[i])
      }
      return files
        .map((file) => relative(base, file).split(sep).join('/'))
        .filter((key) => key.split('/')[0] !== TEMP_DIR)
        .sort()
    },
  }
  /** a temp file on another filesystem cannot be renamed: copied instead (write fsyncs it in place) */
  async function copyAcross(err: unknown, key: string, tempPath: string): Promise<void> {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
    const noLimit = { maxBytes: Number.POSITIVE_INFINITY, onLimit: () => new Error('unreachable') }
    await store.write(key, createReadStream(tempPath, { highWaterMark: READ_PIECE_BYTES }), noLimit)
    await rm(tempPath, { force: true })
  }

  return store
}

/**
 * Resolves a key such as `<messageId>/<n>-<uuid>` under the root. Keys are made by us, but a messageId
 * comes from a client, so anything that could leave the root or hide in the temp area is refused.
 */
export function keyPath(root: string, key: string): string {
  const segments = checkKey(key)
  const path = resolve(root, ...segments)
  if (!path.startsWith(root + sep))
    throw new Error(`Payload key ${JSON.stringify(key)} leaves the payload folder`)
  return path
}

/** The segments of a valid key; throws for a key no store may take (see keyPath). */
export function checkKey(key: string): string[] {
  const refuse = (why: string) => new Error(`Payload key ${JSON.stringify(key)} ${why}`)
  if (typeof key !== 'string' || key === '') throw new Error('Payload key is empty')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\u0000-\u001f\u007f]/.test(key)) throw refuse('has control characters')
  if (key.includes('\\')) throw refuse('has a backslash')
  if (isAbsolute(key) || /^[A-Za-z]:/.test(key)) throw refuse('is absolute')
  const segments = key.split('/')
  if (segments.some((s) => s === '' || s === '.' || s === '..'))
    throw refuse("has an empty, '.' or '..' segment")
  if (segments[0] === TEMP_DIR) throw refuse('is inside the temp folder')
  return segments
}

/** Counts and hashes (SHA-256, CRC-32) the bytes passing through; errors as soon as the count passes `maxBytes`. */
export class LimitAndHash extends Transform {
  size = 0
  crc32 = 0
  readonly #hash = createHash('sha256')

  constructor(
    private readonly maxBytes: number,
    private readonly onLimit: (bytesSeen: number) => Error,
  ) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length
    if (this.size > this.maxBytes) {
      callback(this.onLimit(this.size))
      return
    }
    this.#hash.update(chunk)
    this.crc32 = crc32(chunk, this.crc32)
    callback(null, chunk)
  }

  digest(): string {
    return this.#hash.digest('hex')
  }
}

async function streamToFile(source: Readable, path: string, opts: WriteOptions): Promise<WriteResult> {
  const file = await open(path, 'wx', 0o600)
  try {
    const counter = new LimitAndHash(opts.maxBytes, opts.onLimit)
    const input = readUntilAborted(source, opts.signal)
    // flush: fsync before the stream closes `file`, so the pipeline resolves only once the bytes are on
    // disk; ahead: a large one written back as it comes, so that fsync has little left to do
    const output = syncingWriteStream(file, { flush: true, ahead: true })
    await pipeline(input, counter, output, opts.signal ? { signal: opts.signal } : {})
    return { size: counter.size, sha256: counter.digest(), crc32: counter.crc32 }
  } finally {
    // a no-op when the stream closed it; otherwise releases the descriptor before the caller removes the file
    await file.close()
  }
}

/**
 * The chunks of `source`, without destroying it when reading stops early (see PayloadStore.write), and
 * without waiting on it once `signal` aborts: a client that stalls mid-body leaves its next read pending
 * for good, and Node.js 22's pipeline waits for that read before it settles, where Node.js 20's did not.
 */
export async function* readUntilAborted(
  source: Readable,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  const chunks = source.iterator({ destroyOnReturn: false })
  try {
    for (;;) {
      const next = signal ? await unlessAborted(chunks.next(), signal) : await chunks.next()
      if (next.done) return
      yield next.value as Buffer
    }
  } finally {
    // a stalled read never settles: let go of the iterator without waiting for it
    void chunks.return?.().catch(() => {})
  }
}

/**
 * `step`, or the signal's reason once it aborts. Not a Promise.race with one promise kept for the whole
 * stream: each race leaves a reaction on that promise holding its result, so every chunk read would
 * stay alive until the upload ends (a 50 MB upload held 48 MB; test/dpi-memory.test.ts shows it).
 */
function unlessAborted<T>(step: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    step.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** Renames into place and makes the new directory entries durable. */
async function moveIntoPlace(from: string, target: string): Promise<void> {
  const dir = dirname(target)
  const created = await mkdir(dir, { recursive: true })
  await rename(from, target)
  await syncNewEntries(dir, created)
}

/**
 * Fsyncs `dir`, where files were just renamed in, and, when `mkdir` had to create folders (`created`
 * is the first one it made), each parent whose new entry must be made durable too.
 */
async function syncNewEntries(dir: string, created: string | undefined): Promise<void> {
  const stop = created === undefined ? dir : dirname(created)
  const dirs = [dir]
  for (let d = dir; d !== stop && d !== dirname(d); ) {
    d = dirname(d)
    dirs.push(d)
  }
  // independent of each other, and concurrent fsyncs share the filesystem's journal commits
  await Promise.all(dirs.map(fsyncDir))
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch (err) {
    // Windows cannot open or fsync a directory; its rename is durable by itself
    if (process.platform !== 'win32') throw err
  } finally {
    await handle?.close()
  }
}

async function collectFiles(dir: string, into: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(ignoreMissing)
  for (const entry of entries ?? []) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await collectFiles(path, into)
    else if (entry.isFile()) into.push(path)
  }
}

function ignoreMissing(err: unknown): undefined {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
  throw err
}
