// The zip level of reading an ASiC-E that came from outside: entries one at a time, names that cannot
// reach the filesystem, and sizes bounded as the bytes inflate. The sizes a zip declares are the
// sender's word: a zip bomb declares them honestly and large, or lies small, so the declared sizes are
// checked before a byte is inflated and the real ones while it streams.

import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type yauzl from 'yauzl'
import { ByteBudget, byteLimit } from '../files/byte-budget.js'
import type { ReadAsicOptions } from './asic-reader.js'
import { NotInStreamOrder, openZipFile, type StreamedZip, StreamedZipSourceError } from './zip-file.js'
import { takeScanned } from './zip-scan.js'

export type AsicErrorReason = 'malformed' | 'limit' | 'unsafe-name' | 'duplicate' | 'digest'

export class AsicError extends Error {
  override name = 'AsicError'
  constructor(
    readonly reason: AsicErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Small entries compress well by nature (a page of XML); the ratio only matters for large ones. */
export const RATIO_FLOOR = 1024 * 1024

/**
 * Opened for reading entry by entry, from a file or from memory; yauzl checks each entry's real size
 * against its declared one.
 */
export async function openZip(source: string | Buffer | StreamedZip): Promise<yauzl.ZipFile> {
  try {
    return await openZipFile(source, {
      lazyEntries: true,
      decodeStrings: false,
      validateEntrySizes: true,
    })
  } catch (cause) {
    throw (
      streamFault(cause) ??
      new AsicError('malformed', `not a readable zip: ${(cause as Error).message}`, { cause })
    )
  }
}

/**
 * A streamed zip's fault that is no fault of the zip (zip-file.ts): read it another way, or try again.
 * yauzl passes a reader's errors on as they are; they are looked for among the causes all the same.
 */
function streamFault(e: unknown): NotInStreamOrder | StreamedZipSourceError | null {
  for (let at = e, depth = 0; at instanceof Error && depth < 8; at = at.cause, depth++) {
    if (at instanceof NotInStreamOrder || at instanceof StreamedZipSourceError) return at
  }
  return null
}

export async function* entries(zip: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  for (;;) {
    const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
      const cleanup = (): void => {
        zip.off('entry', onEntry).off('end', onEnd).off('error', onError)
      }
      const onEntry = (e: yauzl.Entry): void => {
        cleanup()
        resolve(e)
      }
      const onEnd = (): void => {
        cleanup()
        resolve(null)
      }
      const onError = (err: Error): void => {
        cleanup()
        reject(err)
      }
      zip.on('entry', onEntry).on('end', onEnd).on('error', onError)
      zip.readEntry()
    })
    if (!entry) return
    yield entry
  }
}

/** Entry names are relative paths with forward slashes; nothing may climb out or be absolute. */
export function checkName(raw: Buffer, flags: number): string {
  const name = raw.toString((flags & 0x800) !== 0 ? 'utf8' : 'latin1')
  const unsafe =
    name.length === 0 ||
    name.includes('\\') ||
    name.includes('\0') ||
    name.startsWith('/') ||
    /^[a-zA-Z]:/.test(name) ||
    name.split('/').some((part) => part === '..' || part === '.')
  if (unsafe)
    throw new AsicError('unsafe-name', `unsafe entry name in the container: ${JSON.stringify(name)}`)
  return name
}

export function checkSizes(
  name: string,
  e: yauzl.Entry,
  opts: Pick<ReadAsicOptions, 'maxEntryBytes' | 'maxTotalBytes' | 'maxRatio'>,
  total: number,
): void {
  if (e.uncompressedSize > opts.maxEntryBytes) {
    throw new AsicError('limit', `${name} is ${e.uncompressedSize} bytes, more than ${opts.maxEntryBytes}`)
  }
  if (total > opts.maxTotalBytes)
    throw new AsicError('limit', `the container unpacks to more than ${opts.maxTotalBytes} bytes`)
  if (
    e.uncompressedSize > RATIO_FLOOR &&
    e.uncompressedSize > opts.maxRatio * Math.max(1, e.compressedSize)
  ) {
    throw new AsicError('limit', `${name} compresses more than ${opts.maxRatio}:1 (a zip bomb?)`)
  }
}

/** The entries the checks read; everything else is a document. */
export function isMeta(name: string): boolean {
  return name === 'mimetype' || name === 'manifest.xml' || name.startsWith('META-INF/')
}

/** Fails a stream past `max` bytes, while it streams. */
export function limit(max: number, what: string): Transform {
  return byteLimit(max, () => new AsicError('limit', `${what} is larger than ${max} bytes`))
}

/** What every entry of one container may inflate to together, counted as the bytes come. */
export function inflationBudget(max: number): ByteBudget {
  return new ByteBudget(
    max,
    () => new AsicError('limit', `the container inflates to more than ${max} bytes (a zip bomb?)`),
  )
}

/**
 * Inflates one entry through a SHA-256, at most `max` bytes (and no more than it declares), into
 * `path`, into memory (`data`) when `path` is 'memory', or nowhere when `path` is null (only checked).
 */
export async function inflateEntry(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  o: { name: string; max: number; path: string | null | 'memory'; budget: ByteBudget },
): Promise<{ size: number; sha256: Buffer; data: Buffer | null }> {
  const hash = createHash('sha256')
  let size = 0
  const tap = new Transform({
    transform(chunk: Buffer, _e, done) {
      hash.update(chunk)
      size += chunk.length
      done(o.budget.spend(chunk.length), chunk)
    },
  })
  const held: Buffer[] = []
  const sink =
    o.path === 'memory'
      ? new Writable({
          write: (chunk: Buffer, _e, done) => {
            held.push(chunk)
            done()
          },
        })
      : o.path
        ? createWriteStream(o.path)
        : new Writable({ write: (_c, _e, done) => done() })
  const stream = await zip.openReadStreamPromise(entry)
  await pipeline(stream, limit(Math.min(o.max, entry.uncompressedSize), o.name), tap, sink)
  return { size, sha256: hash.digest(), data: o.path === 'memory' ? Buffer.concat(held) : null }
}

/**
 * An entry as extracted: its name, where it was written (`''` when only hashed or held), its bytes when
 * held in memory, its size and digest.
 */
export interface ExtractedEntry {
  name: string
  path: string
  data: Buffer | null
  size: number
  sha256: Buffer
  /** its place among the file entries, from 0 */
  order: number
}

export interface ExtractOptions extends Omit<ReadAsicOptions, 'tempDir' | 'discardData'> {
  /**
   * where entry `order` is written, 'memory' to hold its bytes (`data`; its size is bounded by `maxFor`
   * and what it declares, `entry.uncompressedSize`), or null to hash and count it only
   */
  pathFor(name: string, order: number, entry: yauzl.Entry): string | null | 'memory'
  /** what one entry may inflate to (default maxEntryBytes) */
  maxFor?(name: string): number
  /** a check of each entry before it inflates (`order` counts the entries before it) */
  inspect?(name: string, entry: yauzl.Entry, order: number): void
}

/**
 * Every entry of the zip at `source` (a file, the zip's bytes, or a StreamedZip), checked and inflated one at a time:
 * the entry count, each name, no name twice, the declared sizes and ratio before a byte is inflated,
 * and the real bytes of all the entries together against the ratio to the zip's real size (entries may
 * share their compressed bytes: an overlapping zip bomb). With `scanned`, each entry's bytes are what a
 * pass over the zip read at its offset (zip-scan.ts), or `NotInStreamOrder`. A zip that cannot be read is an AsicError `malformed`; what `inspect` throws
 * passes as it is, as do a streamed zip's `NotInStreamOrder` and `StreamedZipSourceError`.
 */
export async function extractEntries(
  source: string | Buffer | StreamedZip,
  o: ExtractOptions,
): Promise<Map<string, ExtractedEntry>> {
  const zip = await openZip(source)
  const found = new Map<string, ExtractedEntry>()
  let total = 0
  // what `inspect` threw, which passes as it is
  let inspected: unknown
  const budget = inflationBudget(Math.min(o.maxTotalBytes, o.maxRatio * Math.max(RATIO_FLOOR, zip.fileSize)))
  try {
    if (zip.entryCount > o.maxEntries) {
      throw new AsicError('limit', `the container has ${zip.entryCount} entries, more than ${o.maxEntries}`)
    }
    for await (const entry of entries(zip)) {
      const name = checkName(entry.fileName as unknown as Buffer, entry.generalPurposeBitFlag)
      try {
        o.inspect?.(name, entry, found.size)
      } catch (e) {
        inspected = e
        throw e
      }
      if (found.has(name)) throw new AsicError('duplicate', `the container holds ${name} twice`)
      total += entry.uncompressedSize
      checkSizes(name, entry, o, total)
      if (name.endsWith('/')) continue
      const path = o.pathFor(name, found.size, entry)
      const max = o.maxFor?.(name) ?? o.maxEntryBytes
      const { size, sha256, data } = o.scanned
        ? takeScanned(o.scanned, entry, { name, max, path, budget })
        : await inflateEntry(zip, entry, { name, max, path, budget })
      const at = path === 'memory' ? '' : (path ?? '')
      found.set(name, { name, path: at, data, size, sha256, order: found.size })
    }
  } catch (e) {
    if (e instanceof AsicError || e === inspected) throw e
    throw streamFault(e) ?? new AsicError('malformed', `broken zip: ${(e as Error).message}`, { cause: e })
  } finally {
    zip.close()
  }
  return found
}
