/**
 * Writing a popped ASiC-E to disk and unpacking its documents. Every file is written beside its final
 * name and renamed into place, so a reader never sees half a file. Entry names come from the sender:
 * only plain relative names are written (no `..`, no absolute path, no drive, no backslash).
 */

import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import yauzl, { type Entry, type ZipFile } from 'yauzl'
import { UnsafePackageError } from './errors.js'

/** Streams `stream` to `path` through a temporary file in the same folder, then renames it. */
export async function writeAtomically(
  stream: ReadableStream<Uint8Array> | Readable,
  path: string,
): Promise<void> {
  const target = resolve(path)
  await mkdir(dirname(target), { recursive: true })
  const tmp = join(dirname(target), `.${randomUUID()}.part`)
  const source =
    stream instanceof Readable ? stream : Readable.fromWeb(stream as import('node:stream/web').ReadableStream)
  const out = createWriteStream(tmp, { flags: 'wx' })
  try {
    await pipeline(source, out)
    await rename(tmp, target)
  } catch (error) {
    // the pipeline may fail before the file is even opened, which then happens after: wait until the
    // stream has let go of it, or the removal comes first and the opened file stays behind
    if (!out.closed) await new Promise<void>((done) => out.once('close', () => done()))
    await rm(tmp, { force: true })
    throw error
  }
}

/** The ASiC-E members that are not documents: the container's own files and eFormidling's manifest. */
export function isDocumentEntry(name: string): boolean {
  return (
    name !== 'mimetype' && name !== 'manifest.xml' && !name.startsWith('META-INF/') && !name.endsWith('/')
  )
}

/** Whether a zip entry name is a plain relative path that stays inside the folder it is unpacked to. */
export function isSafeEntryName(name: string): boolean {
  if (name === '' || name.includes('\\') || name.includes('\0')) return false
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || isAbsolute(name)) return false
  return name.split('/').every((segment) => segment !== '..' && segment !== '.')
}

/**
 * Unpacks the documents of the ASiC-E at `zipPath` into `dir`; returns their paths in the
 * container's order. Any unsafe name refuses the whole container before a file is written.
 */
export async function extractDocuments(zipPath: string, dir: string): Promise<string[]> {
  const zip = await openZip(zipPath)
  try {
    const entries = (await listEntries(zip)).filter((e) => isDocumentEntry(e.fileName))
    const target = resolve(dir)
    for (const entry of entries) {
      const out = resolve(target, entry.fileName)
      if (!isSafeEntryName(entry.fileName) || relative(target, out).startsWith('..'))
        throw new UnsafePackageError(`The ASiC-E has an unsafe entry name: ${JSON.stringify(entry.fileName)}`)
    }
    checkInflation(entries, (await stat(zipPath)).size)
    const written: string[] = []
    for (const entry of entries) {
      const out = resolve(target, entry.fileName)
      await writeAtomically(await openEntry(zip, entry), out).catch((error: NodeJS.ErrnoException) => {
        // the disk's errors (ENOSPC, EACCES) are ours; the rest (bad deflate data, more or fewer bytes
        // than the entry declares) are the container's
        if (error.code?.startsWith('E')) throw error
        throw asZipError(error)
      })
      written.push(out)
    }
    return written
  } finally {
    zip.close()
  }
}

/**
 * A zip bomb would fill the disk, and the next run would meet it again: more than this many bytes
 * written per byte received refuses the container before a file is written. yauzl checks while reading
 * that no entry inflates to more than it declares, so the declared sizes can be trusted here.
 */
export const MAX_INFLATION_RATIO = 1000

function checkInflation(entries: Entry[], zipSize: number): void {
  const total = entries.reduce((sum, e) => sum + e.uncompressedSize, 0)
  if (total > Math.max(zipSize, 1) * MAX_INFLATION_RATIO)
    throw new UnsafePackageError(
      `The ASiC-E is too large: its documents would inflate to ${total} bytes from ${zipSize} (more than ${MAX_INFLATION_RATIO} to 1)`,
    )
}

// yauzl speaks callbacks; these wrap the three calls used. strictFileNames keeps a backslash in a
// name as it is (so isSafeEntryName refuses it) instead of turning it into a folder separator.
function openZip(path: string): Promise<ZipFile> {
  return new Promise((done, fail) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false, strictFileNames: true }, (error, zip) =>
      error ? fail(asZipError(error)) : done(zip),
    )
  })
}

function listEntries(zip: ZipFile): Promise<Entry[]> {
  return new Promise((done, fail) => {
    const entries: Entry[] = []
    zip.on('entry', (entry: Entry) => {
      entries.push(entry)
      zip.readEntry()
    })
    zip.once('end', () => done(entries))
    zip.once('error', (error: Error) => fail(asZipError(error)))
    zip.readEntry()
  })
}

function openEntry(zip: ZipFile, entry: Entry): Promise<Readable> {
  return new Promise((done, fail) => {
    zip.openReadStream(entry, (error, stream) => (error ? fail(asZipError(error)) : done(stream)))
  })
}

function asZipError(error: Error): UnsafePackageError {
  return new UnsafePackageError(`The ASiC-E could not be read: ${error.message}`, { cause: error })
}
