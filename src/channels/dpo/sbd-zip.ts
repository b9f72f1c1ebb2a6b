// The "Altinn zip" DPO puts on the broker (the reference's AltinnPackage,
// felleslosninger/efm-integrasjonspunkt): `sbd.json`, the SBD as the API shows it, and `asic.zip`, the
// CMS-encrypted ASiC-E, only when there are files. Written as a stream (the CMS blob goes through the zip
// writer as it is made) and read from a spooled file, since a zip's directory is at its end.

import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough, pipeline, type Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline as pipelineAsync } from 'node:stream/promises'
import type yauzl from 'yauzl'
import { ByteBudget, byteLimit } from '../../files/byte-budget.js'
import { syncingWriteStream } from '../../files/sync-ahead.js'
import { openZipFile } from '../../packaging/zip-file.js'
import { type ZipEntry, zipStream } from '../../packaging/zip-writer.js'

export const SBD_ENTRY = 'sbd.json'
export const ASIC_ENTRY = 'asic.zip'
/** an SBD is a few kilobytes; more than this is not one */
const MAX_SBD_BYTES = 4 * 1024 * 1024

export class SbdZipError extends Error {
  override name = 'SbdZipError'
  /** the SBD, when it was read before the delivery was refused: its sender can be told */
  sbdJson: string | null = null
}

/**
 * `sbd.zip` as a stream. `asic` (the CMS blob) is opened when the writer reaches it; an error in it ends
 * the zip stream with that error.
 *
 * The CMS is stored (encrypted bytes do not compress) with its size and CRC-32 in a data descriptor
 * after it, as yazl wrote it before: they are known only once the CMS has been made, and a first pass
 * to learn them would mean making or spooling the whole CMS twice. The reference reads `sbd.zip` with
 * java.util.zip.ZipFile, through the central directory, which takes such an entry (as yauzl here does);
 * Java's streaming ZipInputStream would not.
 */
export function writeSbdZip(sbdJson: string, asic: (() => Readable) | null): Readable {
  const sbd: ZipEntry = { name: SBD_ENTRY, data: Buffer.from(sbdJson, 'utf8'), method: 'deflate' }
  return zipStream(
    function* () {
      yield sbd
      if (asic) yield { name: ASIC_ENTRY, open: asic, method: 'store', trailingSizes: true }
    },
    { mtime: new Date() },
  )
}

/** the most of a download's head held in memory while looking for where `asic.zip`'s bytes begin */
const MAX_HEAD_BYTES = MAX_SBD_BYTES + 64 * 1024

/**
 * Splits a downloaded `sbd.zip` where the bytes of a stored `asic.zip` begin, so that the file it is
 * written to can become the CMS itself (cut to the entry's size by `readSbdZip`) instead of the CMS
 * being copied out of it: one write of the whole message less. The head (the local headers and any
 * entries before `asic.zip`, such as `sbd.json`) is held back in `head`; what follows passes on.
 *
 * Found by walking the local headers from the start; anything that makes that unsure (an entry before
 * it whose size only a data descriptor gives, zip64 sizes, more than MAX_HEAD_BYTES, no such entry, a
 * deflated `asic.zip`, as the reference writes it) gives up: `head` stays empty and every byte passes
 * on, so the file is the whole zip and is read as before. Either way `readSbdZip` reads the zip's
 * central directory and checks every entry; this only says where the file starts.
 */
export class StoredAsicSplit extends Transform {
  /** the zip's bytes before the file's first byte (empty when no split was made) */
  head: Buffer = Buffer.alloc(0)
  #held: Buffer[] = []
  #decided = false

  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    if (this.#decided) {
      done(null, chunk)
      return
    }
    this.#held.push(chunk)
    const all = Buffer.concat(this.#held)
    this.#held = [all]
    const at = storedAsicStart(all)
    if (at === 'more' && all.length <= MAX_HEAD_BYTES) {
      done()
      return
    }
    this.#decided = true
    this.#held = []
    if (typeof at === 'number') this.head = all.subarray(0, at)
    done(null, all.subarray(this.head.length))
  }

  override _flush(done: TransformCallback): void {
    if (!this.#decided && this.#held.length > 0) this.push(Buffer.concat(this.#held))
    this.#held = []
    done()
  }
}

/** Where a stored `asic.zip`'s data begins in `b`, the start of a zip; 'more' when `b` is too short to say. */
function storedAsicStart(b: Buffer): number | 'more' | 'no' {
  let p = 0
  for (;;) {
    if (b.length < p + 30) return 'more'
    if (b.readUInt32LE(p) !== 0x04034b50) return 'no'
    const [flags, method, size] = [b.readUInt16LE(p + 6), b.readUInt16LE(p + 8), b.readUInt32LE(p + 18)]
    const [nameLength, extraLength] = [b.readUInt16LE(p + 26), b.readUInt16LE(p + 28)]
    const dataStart = p + 30 + nameLength + extraLength
    if (b.length < dataStart) return 'more'
    const name = b.subarray(p + 30, p + 30 + nameLength).toString('utf8')
    if (name === ASIC_ENTRY) return method === 0 ? dataStart : 'no'
    // the next header is found only when this entry's size is in its header
    if (flags & 8 || size === 0xffffffff) return 'no'
    p = dataStart + size
    if (p > MAX_HEAD_BYTES) return 'no'
  }
}

export interface ReadSbdZip {
  sbdJson: string
  /** the CMS blob in a file in `tempDir` (the zip's own file when it was split there); the caller adopts or removes it */
  asic: { tempPath: string; size: number } | null
}

export interface ReadSbdZipOptions {
  tempDir: string
  maxAsicBytes: number
  /** what an entry over 1 MiB, or the whole zip, may inflate to per compressed byte */
  maxRatio: number
  newName: () => string
  /**
   * fsync the extracted CMS before resolving (PayloadStore.tempFilesNeedSync), or whether to for a CMS of
   * `size` bytes (one the intake stores in its transaction needs none: packageInTransaction)
   */
  sync?: boolean | ((size: number) => boolean)
  /**
   * The zip's first bytes, held back from the file by StoredAsicSplit: the zip is these and then the
   * file's. When the file then starts with a stored `asic.zip`'s bytes, the file becomes the CMS
   * (`asic.tempPath` is `zipPath`, cut to the entry's size) instead of the CMS being copied out.
   */
  head?: Buffer
  /**
   * A pass-through for the CMS on its way to its own file, when it is copied out of the zip (not when
   * the file is the CMS itself): an ArrivalScan's tap (receiver.ts)
   */
  copying?: () => Transform | null
}

/** Under this, an entry's ratio is not looked at: a page of JSON compresses well by nature. */
const RATIO_FLOOR = 1024 * 1024

/**
 * Reads a spooled `sbd.zip`: the SBD into memory (bounded), `asic.zip` to a file (bounded by
 * `maxAsicBytes` and `maxRatio`), anything else skipped as the reference does. No `sbd.json` is an
 * error. The bounds hold for the bytes that actually inflate, counted before they are written: the
 * sizes a zip declares are the sender's word (a zip bomb declares them honestly and small ones lie).
 */
export async function readSbdZip(zipPath: string, opts: ReadSbdZipOptions): Promise<ReadSbdZip> {
  const head = opts.head ?? Buffer.alloc(0)
  let zip: yauzl.ZipFile
  try {
    zip = await openZipFile(zipPath, { lazyEntries: true, validateEntrySizes: true }, head)
  } catch (cause) {
    throw new SbdZipError(`the delivery is not a readable zip: ${(cause as Error).message}`, { cause })
  }
  let sbdJson: string | null = null
  let asic: ReadSbdZip['asic'] = null
  /** the CMS is the file itself, from its first byte: the file is cut to this size once read */
  let cutTo: number | null = null
  // entries may share compressed bytes (an overlapping zip bomb): all together keep to the ratio too
  const counter = new ByteBudget(
    opts.maxRatio * Math.max(RATIO_FLOOR, zip.fileSize),
    (max) => new SbdZipError(`the delivery inflates to more than ${max} bytes (a zip bomb?)`),
  )
  try {
    for (;;) {
      const entry = await nextEntry(zip)
      if (!entry) break
      if (entry.fileName === SBD_ENTRY) {
        if (sbdJson !== null) throw new SbdZipError('the delivery holds sbd.json twice')
        if (entry.uncompressedSize > MAX_SBD_BYTES)
          throw new SbdZipError(`sbd.json is ${entry.uncompressedSize} bytes, more than an SBD can be`)
        const stream = pipeline(await zip.openReadStreamPromise(entry), counter.tap(), () => {})
        sbdJson = (await readAll(stream, MAX_SBD_BYTES)).toString('utf8')
      } else if (entry.fileName === ASIC_ENTRY) {
        if (asic) throw new SbdZipError('the delivery holds asic.zip twice')
        checkAsicEntry(entry, opts)
        if (head.length > 0 && (await inPlace(zip, entry, head))) {
          asic = { tempPath: zipPath, size: entry.compressedSize }
          cutTo = entry.compressedSize
          continue
        }
        const tempPath = join(opts.tempDir, opts.newName())
        const sync = mustSync(opts, entry.uncompressedSize)
        try {
          const inflated = await zip.openReadStreamPromise(entry)
          await pipelineAsync(
            inflated,
            byteLimit(
              opts.maxAsicBytes,
              (max) => new SbdZipError(`asic.zip inflates to more than ${max} bytes`),
            ),
            counter.tap(),
            opts.copying?.() ?? new PassThrough(),
            // fsynced before it resolves where the intake's adoption is a rename (a file store):
            // the transfer is confirmed to the broker once it is adopted, and the broker may then drop it
            syncingWriteStream(tempPath, { flush: sync, ahead: sync }),
          )
        } catch (error) {
          await rm(tempPath, { force: true })
          throw error
        }
        asic = { tempPath, size: entry.uncompressedSize }
      }
    }
  } catch (error) {
    if (asic) await rm(asic.tempPath, { force: true })
    const refused =
      error instanceof SbdZipError
        ? error
        : new SbdZipError(`the delivery's zip is broken: ${(error as Error).message}`, { cause: error })
    refused.sbdJson = sbdJson
    throw refused
  } finally {
    zip.close()
  }
  if (sbdJson === null) {
    if (asic) await rm(asic.tempPath, { force: true })
    throw new SbdZipError('the delivery has no sbd.json')
  }
  if (cutTo !== null) await cutAndSync(zipPath, cutTo, mustSync(opts, cutTo))
  return { sbdJson, asic }
}

function mustSync(opts: ReadSbdZipOptions, size: number): boolean {
  return typeof opts.sync === 'function' ? opts.sync(size) : opts.sync === true
}

/** Whether `entry` is a stored one whose bytes begin at the file's first byte, right after `head`. */
async function inPlace(zip: yauzl.ZipFile, entry: yauzl.Entry, head: Buffer): Promise<boolean> {
  if (entry.compressionMethod !== 0) return false
  if (entry.uncompressedSize !== entry.compressedSize)
    throw new SbdZipError(
      `asic.zip is stored but declares ${entry.compressedSize} bytes stored and ${entry.uncompressedSize} read`,
    )
  const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true })
  return fileDataStart === head.length
}

/** Cuts what follows the CMS (the zip's directory) off the file, and fsyncs it when asked. */
async function cutAndSync(path: string, size: number, sync: boolean): Promise<void> {
  const file = await open(path, 'r+')
  try {
    await file.truncate(size)
    if (sync) await file.sync()
  } finally {
    await file.close()
  }
}

function checkAsicEntry(entry: yauzl.Entry, opts: ReadSbdZipOptions): void {
  const size = entry.uncompressedSize
  if (size > opts.maxAsicBytes)
    throw new SbdZipError(`asic.zip is ${size} bytes, more than ${opts.maxAsicBytes}`)
  if (size > RATIO_FLOOR && size > opts.maxRatio * Math.max(1, entry.compressedSize))
    throw new SbdZipError(
      `asic.zip inflates from ${entry.compressedSize} to ${size} bytes, more than ${opts.maxRatio}:1 (a zip bomb?)`,
    )
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = () => zip.off('entry', onEntry).off('end', onEnd).off('error', onError)
    const onEntry = (e: yauzl.Entry) => {
      cleanup()
      resolve(e)
    }
    const onEnd = () => {
      cleanup()
      resolve(null)
    }
    const onError = (err: Error) => {
      cleanup()
      reject(err)
    }
    zip.on('entry', onEntry).on('end', onEnd).on('error', onError)
    zip.readEntry()
  })
}

async function readAll(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    size += (chunk as Buffer).length
    if (size > max) {
      stream.destroy()
      throw new SbdZipError(`an entry is larger than ${max} bytes`)
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}
