// The body of `POST /api/messages/out/multipart` (the reference's NextMoveMessageOutController): an `sbd` part with the SBD JSON
// and any number of file parts (part name = attachment title, filename = name in the ASiC, part
// Content-Type = MIME type). File parts stream to their own temp files (or, for a caller that asks, are
// held in memory up to a budget) with the size limit enforced while streaming (principle 4); plain fields are small and kept as text. The reference picks up a
// part named `sbd` sent with a filename as an attachment too [quirk]; we never do: it is the SBD.

import { randomUUID } from 'node:crypto'
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises'
import type { IncomingHttpHeaders } from 'node:http'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import {
  ContentDispositionError,
  parseContentDisposition,
  parseParameterizedHeader,
} from './content-disposition.js'
import { MultipartError, MultipartScanner, type ScanEvent } from './multipart-scanner.js'
import { FileSink, type MemoryBudget, type PartSink, TextSink } from './multipart-sinks.js'

export { MultipartError }

/** `TempPath` is `string | null` where parts may be held in memory (`readMultipart` with `inMemoryBytes`). */
export interface MultipartFilePart<TempPath extends string | null = string> {
  /** the part's `name`: the attachment title */
  fieldName: string
  /** the part's `filename` (or decoded `filename*`), as the client sent it: check it with documentNameProblem */
  filename: string
  /** the part's Content-Type header verbatim, '' when absent */
  mimeType: string
  size: number
  /** null for a part held in memory alone (`MultipartOptions.inMemoryBytes`): its `bytes` are all there is */
  tempPath: TempPath
  sha256: string
  /** the bytes: of a part held in memory, and of the one file part named by `MultipartOptions.retain` */
  bytes?: Buffer
}

export interface MultipartResult<TempPath extends string | null = string> {
  fields: Map<string, string>
  sbdPart: string | null
  files: MultipartFilePart<TempPath>[]
}

export interface MultipartOptions {
  tempDir: string
  maxFileBytes: number
  onFileTooLarge: (fieldName: string, filename: string) => Error
  /** plain (non-file) parts, `sbd` included */
  maxFields: number
  /** per plain part, `sbd` included */
  maxFieldBytes: number
  maxParts: number
  /**
   * Also keeps in memory the bytes of file parts with this filename (besides their temp file), so
   * small metadata such as arkivmelding.xml need not be read back. Past `maxBytes` the part is still
   * streamed to disk but its copy is dropped (no `bytes`).
   */
  retain?: { filename: string; maxBytes: number }
  /** whether each file part is fsynced before the body counts as read (default true); see PayloadStore.tempFilesNeedSync */
  syncFiles?: boolean
  signal?: AbortSignal
}

export const SBD_PART = 'sbd'
const MAX_BOUNDARY_LENGTH = 200
const SCANNER_LIMITS = { maxPreambleBytes: 64 * 1024, maxHeaderBytes: 16 * 1024 }
const MAX_ENDING_PARTS = 4

/**
 * Reads a multipart/form-data body. On success the caller owns the temp files (rename them into the
 * payload store, or call discardMultipart). On any failure no temp file is left behind; a malformed
 * body rejects with MultipartError, a file over maxFileBytes with `onFileTooLarge(...)`. Reading
 * stops at the closing boundary or at the first error; `stream` is never destroyed here.
 */
export async function readMultipart(
  req: { headers: IncomingHttpHeaders; stream: Readable },
  opts: MultipartOptions,
): Promise<MultipartResult>
/**
 * The same, with file parts held in memory, with no temp file (`tempPath` null, the bytes in `bytes`),
 * while the request's held parts stay within `inMemoryBytes` together; a part that outgrows what is left
 * goes to its temp file from there on. For a caller that stores small files from memory anyway.
 */
export async function readMultipart(
  req: { headers: IncomingHttpHeaders; stream: Readable },
  opts: MultipartOptions & { inMemoryBytes: number },
): Promise<MultipartResult<string | null>>
export async function readMultipart(
  req: { headers: IncomingHttpHeaders; stream: Readable },
  opts: MultipartOptions & { inMemoryBytes?: number },
): Promise<MultipartResult<string | null>> {
  const boundary = boundaryOf(req.headers['content-type'])
  opts.signal?.throwIfAborted()
  const reader = new PartReader(opts)
  try {
    await reader.consume(req.stream, new MultipartScanner(boundary, SCANNER_LIMITS))
    return reader.result
  } catch (err) {
    await reader.cleanUp()
    throw err
  }
}

/** Removes the temp files of a result the caller does not keep. */
export async function discardMultipart(result: MultipartResult<string | null>): Promise<void> {
  await Promise.all(result.files.map((file) => file.tempPath !== null && rm(file.tempPath, { force: true })))
}

function boundaryOf(contentType: string | undefined): string {
  if (contentType === undefined || contentType.trim() === '') {
    throw new MultipartError('Content-Type multipart/form-data with a boundary is required')
  }
  let parsed: ReturnType<typeof parseParameterizedHeader>
  try {
    parsed = parseParameterizedHeader(contentType, 'Content-Type')
  } catch (err) {
    throw new MultipartError(`Malformed Content-Type: ${(err as Error).message}`, { cause: err })
  }
  if (parsed.type !== 'multipart/form-data') {
    throw new MultipartError(`Content-Type must be multipart/form-data, not ${parsed.type}`)
  }
  const boundary = parsed.params.find((p) => p.name === 'boundary')?.value
  if (boundary === undefined || boundary === '') {
    throw new MultipartError('Content-Type multipart/form-data has no boundary parameter')
  }
  if (boundary.length > MAX_BOUNDARY_LENGTH || /[^\x20-\x7e]/.test(boundary)) {
    throw new MultipartError(
      `The multipart boundary must be 1 to ${MAX_BOUNDARY_LENGTH} printable ASCII characters`,
    )
  }
  return boundary
}

class PartReader {
  readonly result: MultipartResult<string | null> = { fields: new Map(), sbdPart: null, files: [] }
  readonly #opts: MultipartOptions & { inMemoryBytes?: number }
  readonly #tempPaths: string[] = []
  readonly #memory: MemoryBudget | null
  #current: PartSink | null = null
  /** parts whose end (for a file: fsync and close) is still under way, oldest first */
  readonly #ending: Promise<void>[] = []
  /** file parts in the body's order, filled in as each one ends */
  readonly #files: (MultipartFilePart<string | null> | undefined)[] = []
  #parts = 0
  #fields = 0

  constructor(opts: MultipartOptions & { inMemoryBytes?: number }) {
    this.#opts = opts
    this.#memory = opts.inMemoryBytes ? { left: opts.inMemoryBytes } : null
  }

  async consume(stream: Readable, scanner: MultipartScanner): Promise<void> {
    const input = stream.iterator({ destroyOnReturn: false })
    let pending = false
    try {
      while (!scanner.done) {
        pending = true
        const next = await nextOrAbort(input, this.#opts.signal)
        pending = false
        if (next.done) break
        for (const event of scanner.push(toBuffer(next.value))) {
          await this.#handle(event)
        }
      }
      scanner.finish()
      // left in the list until all settled: after a failure cleanUp waits for the rest
      await Promise.all(this.#ending)
      this.#ending.length = 0
      this.result.files.push(...(this.#files as MultipartFilePart<string | null>[]))
    } finally {
      // after an abort a read is still pending: return() would wait for it, so do not await it then
      const closing = input.return?.()
      if (!pending) await closing
      else closing?.catch(() => {})
    }
  }

  async cleanUp(): Promise<void> {
    await Promise.allSettled(this.#ending.splice(0))
    await this.#current?.abort()
    this.#current = null
    await Promise.all(this.#tempPaths.map((path) => rm(path, { force: true })))
  }

  async #handle(event: ScanEvent): Promise<void> {
    this.#opts.signal?.throwIfAborted()
    if (event.kind === 'data') {
      await this.#current?.write(event.chunk)
      return
    }
    if (this.#current) await this.#endAside(this.#current)
    this.#current = null
    if (event.kind === 'part') this.#current = await this.#startPart(event.headers)
  }

  /**
   * Ends a part while the next one streams in: a file's fsync then overlaps the following part's
   * writes. A few at a time, so a body of many tiny files cannot hold many descriptors open.
   */
  async #endAside(sink: PartSink): Promise<void> {
    const ending = sink.end()
    ending.catch(() => {}) // reported when awaited below or at the end of the body
    this.#ending.push(ending)
    if (this.#ending.length > MAX_ENDING_PARTS) await this.#ending.shift()
  }

  async #startPart(headers: Map<string, string>): Promise<PartSink> {
    const n = ++this.#parts
    if (n > this.#opts.maxParts)
      throw new MultipartError(`Too many multipart parts: at most ${this.#opts.maxParts}`)
    const { name, filename } = partDisposition(headers, n)
    const mimeType = headers.get('content-type') ?? ''
    if (name !== SBD_PART && filename !== undefined) return this.#openFile(name, filename, mimeType)
    if (++this.#fields > this.#opts.maxFields) {
      throw new MultipartError(`Too many multipart fields: at most ${this.#opts.maxFields}`)
    }
    const taken = name === SBD_PART ? this.result.sbdPart !== null : this.result.fields.has(name)
    if (taken) throw new MultipartError(`The multipart part "${name}" is given more than once`)
    const label = name === SBD_PART ? `The multipart part "${SBD_PART}"` : `The multipart field "${name}"`
    return new TextSink(label, this.#opts.maxFieldBytes, mimeType, (text) => {
      if (name === SBD_PART) this.result.sbdPart = text
      else this.result.fields.set(name, text)
    })
  }

  #openFile(fieldName: string, filename: string, mimeType: string): PartSink {
    const tempPath = join(this.#opts.tempDir, `${randomUUID()}.part`)
    const openFile = () => {
      this.#tempPaths.push(tempPath)
      return openTemp(this.#opts.tempDir, tempPath)
    }
    const tooLarge = () => this.#opts.onFileTooLarge(fieldName, filename)
    const retain = this.#opts.retain?.filename === filename ? this.#opts.retain.maxBytes : 0
    const slot = this.#files.push(undefined) - 1
    const sync = this.#opts.syncFiles ?? true
    const done = (size: number, sha256: string, bytes: Buffer | undefined, inFile: boolean) => {
      this.#files[slot] = {
        fieldName,
        filename,
        mimeType,
        size,
        sha256,
        tempPath: inFile ? tempPath : null,
        ...(bytes ? { bytes } : {}),
      }
    }
    return new FileSink(openFile, this.#memory, this.#opts.maxFileBytes, tooLarge, retain, sync, done)
  }
}

/** Creates the temp folder only when it is missing: one system call less per part in the usual case. */
async function openTemp(dir: string, path: string): Promise<FileHandle> {
  try {
    return await open(path, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    await mkdir(dir, { recursive: true })
    return open(path, 'wx', 0o600)
  }
}

function partDisposition(
  headers: Map<string, string>,
  n: number,
): { name: string; filename: string | undefined } {
  const header = headers.get('content-disposition')
  if (header === undefined) throw new MultipartError(`Multipart part ${n} has no Content-Disposition header`)
  let parsed: ReturnType<typeof parseContentDisposition>
  try {
    parsed = parseContentDisposition(header)
  } catch (err) {
    if (!(err instanceof ContentDispositionError)) throw err
    throw new MultipartError(`Multipart part ${n}: ${err.message}`, { cause: err })
  }
  if (parsed.type !== 'form-data') {
    throw new MultipartError(`Multipart part ${n} has Content-Disposition ${parsed.type}, expected form-data`)
  }
  const name = parsed.params['name']
  if (name === undefined)
    throw new MultipartError(`Multipart part ${n} has no name in its Content-Disposition`)
  return { name, filename: parsed.params['filename'] }
}

function nextOrAbort<T>(
  input: AsyncIterator<T>,
  signal: AbortSignal | undefined,
): Promise<IteratorResult<T>> {
  if (!signal) return input.next()
  signal.throwIfAborted()
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    input
      .next()
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort))
  })
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  return Buffer.from(String(chunk))
}
