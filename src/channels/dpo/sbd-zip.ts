// The "Altinn zip" DPO puts on the broker (the reference's AltinnPackage,
// felleslosninger/efm-integrasjonspunkt): `sbd.json`, the SBD as the API shows it, and `asic.zip`, the
// CMS-encrypted ASiC-E, only when there are files. Written as a stream (the CMS blob goes through the zip
// writer as it is made) and read from a spooled file, since a zip's directory is at its end.

import { createWriteStream } from 'node:fs'
import { rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline, type Readable } from 'node:stream'
import { pipeline as pipelineAsync } from 'node:stream/promises'
import type yauzl from 'yauzl'
import { ByteBudget, byteLimit } from '../../files/byte-budget.js'
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

export interface ReadSbdZip {
  sbdJson: string
  /** the CMS blob extracted to a file in `tempDir`; the caller adopts or removes it */
  asic: { tempPath: string; size: number } | null
}

export interface ReadSbdZipOptions {
  tempDir: string
  maxAsicBytes: number
  /** what an entry over 1 MiB, or the whole zip, may inflate to per compressed byte */
  maxRatio: number
  newName: () => string
  /** fsync the extracted CMS before resolving (PayloadStore.tempFilesNeedSync) */
  sync?: boolean
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
  let zip: yauzl.ZipFile
  try {
    zip = await openZipFile(zipPath, { lazyEntries: true, validateEntrySizes: true })
  } catch (cause) {
    throw new SbdZipError(`the delivery is not a readable zip: ${(cause as Error).message}`, { cause })
  }
  let sbdJson: string | null = null
  let asic: ReadSbdZip['asic'] = null
  // entries may share compressed bytes (an overlapping zip bomb): all together keep to the ratio too
  const counter = new ByteBudget(
    opts.maxRatio * Math.max(RATIO_FLOOR, (await stat(zipPath)).size),
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
        const tempPath = join(opts.tempDir, opts.newName())
        try {
          const inflated = await zip.openReadStreamPromise(entry)
          await pipelineAsync(
            inflated,
            byteLimit(
              opts.maxAsicBytes,
              (max) => new SbdZipError(`asic.zip inflates to more than ${max} bytes`),
            ),
            counter.tap(),
            // fsynced before it resolves where the intake's adoption is a rename (a file store):
            // the transfer is confirmed to the broker once it is adopted, and the broker may then drop it
            createWriteStream(tempPath, { flush: opts.sync === true }),
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
  return { sbdJson, asic }
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
