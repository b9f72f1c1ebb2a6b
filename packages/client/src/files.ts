/**
 * The attachments of a send: files streamed from disk (never read whole) or bytes in memory, with
 * their sizes known before the first byte goes, and progress counted as the bytes are handed to the
 * connection.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { mimeTypeOf } from './content-disposition.js'
import { IntegrasjonspunktError } from './errors.js'

export type OutgoingFile =
  /** streamed from disk; `filename` defaults to the path's last segment */
  | { path: string; filename?: string; title?: string; mimeType?: string }
  | { data: Uint8Array | string; filename: string; title?: string; mimeType?: string }

export interface ProgressEvent {
  filename: string
  fileBytes: number
  fileSent: number
  totalBytes: number
  totalSent: number
}

export type ProgressCallback = (p: ProgressEvent) => void

export interface PreparedFile {
  filename: string
  /** the attachment title: the multipart part name, or the upload's Content-Disposition `name` */
  title: string
  mimeType: string
  size: number
  /** the bytes, read anew on each call (each attempt of a request) */
  chunks(): AsyncIterable<Uint8Array>
}

const CHUNK = 64 * 1024

/** Checks and sizes every file before anything is sent: a missing file or a repeated name fails here. */
export async function prepareFiles(files: readonly OutgoingFile[]): Promise<PreparedFile[]> {
  const prepared = await Promise.all(files.map(prepareFile))
  const seen = new Set<string>()
  for (const f of prepared) {
    if (seen.has(f.filename))
      throw new IntegrasjonspunktError(`Two attachments are named ${f.filename}: filenames must be unique`)
    seen.add(f.filename)
  }
  return prepared
}

async function prepareFile(file: OutgoingFile): Promise<PreparedFile> {
  if ('path' in file) {
    const info = await stat(file.path).catch((error: unknown) => {
      throw new IntegrasjonspunktError(
        `Cannot read the attachment ${file.path}: ${(error as Error).message}`,
        {
          cause: error,
        },
      )
    })
    if (!info.isFile()) throw new IntegrasjonspunktError(`The attachment ${file.path} is not a file`)
    const filename = file.filename ?? basename(file.path)
    return described(file, filename, info.size, () => fromDisk(file.path, info.size))
  }
  const bytes = typeof file.data === 'string' ? Buffer.from(file.data, 'utf8') : file.data
  return described(file, file.filename, bytes.byteLength, () => inSlices(bytes))
}

function described(
  file: OutgoingFile,
  filename: string,
  size: number,
  chunks: () => AsyncIterable<Uint8Array>,
): PreparedFile {
  if (!filename) throw new IntegrasjonspunktError('An attachment has an empty filename')
  return {
    filename,
    title: file.title ?? filename,
    mimeType: file.mimeType ?? mimeTypeOf(filename),
    size,
    chunks,
  }
}

async function* fromDisk(path: string, size: number): AsyncIterable<Uint8Array> {
  let read = 0
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
    read += (chunk as Buffer).length
    if (read > size) break
    yield chunk as Buffer
  }
  // the length was promised in Content-Length: a file that changed while it was sent must fail
  if (read !== size)
    throw new IntegrasjonspunktError(
      `${path} changed while it was sent (${size} bytes expected, ${read} read)`,
    )
}

async function* inSlices(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += CHUNK) yield bytes.subarray(i, i + CHUNK)
}

/** Progress over all files; a file sent again (a retried request) counts from zero again. */
export class Progress {
  readonly #callback: ProgressCallback | undefined
  readonly #sent = new Map<string, number>()
  readonly #totalBytes: number

  constructor(files: readonly PreparedFile[], callback: ProgressCallback | undefined) {
    this.#callback = callback
    this.#totalBytes = files.reduce((sum, f) => sum + f.size, 0)
  }

  /** The bytes of `file`, reported as they pass. */
  async *count(file: PreparedFile): AsyncIterable<Uint8Array> {
    this.#report(file, 0, file.size === 0)
    for await (const chunk of file.chunks()) {
      this.#report(file, (this.#sent.get(file.filename) ?? 0) + chunk.byteLength, true)
      yield chunk
    }
  }

  /** A new attempt at a request carrying several files: they all count from zero again. */
  restart(): void {
    this.#sent.clear()
  }

  /** The file went through (perhaps by an earlier attempt): reports it complete unless that was said. */
  done(file: PreparedFile): void {
    if (this.#sent.get(file.filename) !== file.size) this.#report(file, file.size, true)
  }

  #report(file: PreparedFile, sent: number, emit: boolean): void {
    this.#sent.set(file.filename, sent)
    if (!emit || !this.#callback) return
    let totalSent = 0
    for (const n of this.#sent.values()) totalSent += n
    this.#callback({
      filename: file.filename,
      fileBytes: file.size,
      fileSent: sent,
      totalBytes: this.#totalBytes,
      totalSent,
    })
  }
}

/** A web stream pulling from `source` only as fast as the connection takes it. */
export function streamOf(source: () => AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  let iterator: AsyncIterator<Uint8Array> | undefined
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        iterator ??= source()[Symbol.asyncIterator]()
        const { value, done } = await iterator.next()
        if (done) controller.close()
        else controller.enqueue(value)
      },
      async cancel() {
        await iterator?.return?.()
      },
    },
    { highWaterMark: 0 },
  )
}
