// The zip level of reading an ASiC-E that came from outside: entries one at a time, names that cannot
// reach the filesystem, and sizes bounded as the bytes inflate. The sizes a zip declares are the
// sender's word: a zip bomb declares them honestly and large, or lies small, so the declared sizes are
// checked before a byte is inflated and the real ones while it streams.

import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import yauzl from 'yauzl'
import { ByteBudget, byteLimit } from '../files/byte-budget.js'
import type { ReadAsicOptions } from './asic-reader.js'

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

/** Opened for reading entry by entry; yauzl checks each entry's real size against its declared one. */
export async function openZip(path: string): Promise<yauzl.ZipFile> {
  try {
    return await yauzl.openPromise(path, {
      lazyEntries: true,
      decodeStrings: false,
      validateEntrySizes: true,
    })
  } catch (cause) {
    throw new AsicError('malformed', `not a readable zip: ${(cause as Error).message}`, { cause })
  }
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

export function checkSizes(name: string, e: yauzl.Entry, opts: ReadAsicOptions, total: number): void {
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
 * `path`, or nowhere when `path` is null (only checked).
 */
export async function inflateEntry(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  o: { name: string; max: number; path: string | null; budget: ByteBudget },
): Promise<{ size: number; sha256: Buffer }> {
  const hash = createHash('sha256')
  let size = 0
  const tap = new Transform({
    transform(chunk: Buffer, _e, done) {
      hash.update(chunk)
      size += chunk.length
      done(o.budget.spend(chunk.length), chunk)
    },
  })
  const sink = o.path ? createWriteStream(o.path) : new Writable({ write: (_c, _e, done) => done() })
  const stream = await zip.openReadStreamPromise(entry)
  await pipeline(stream, limit(Math.min(o.max, entry.uncompressedSize), o.name), tap, sink)
  return { size, sha256: hash.digest() }
}
