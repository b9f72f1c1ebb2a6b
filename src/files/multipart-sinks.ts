// Where the parts of a multipart body go while they stream in: plain fields to memory (capped),
// files to their temp file (counted, hashed, fsynced at the end).

import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { parseParameterizedHeader } from './content-disposition.js'
import { MultipartError } from './multipart-scanner.js'

export interface PartSink {
  write(chunk: Buffer): Promise<void>
  end(): Promise<void>
  /** releases what the sink holds open after a failure */
  abort(): Promise<void>
}

/** A plain field, held in memory up to a cap and decoded with the part's charset (UTF-8 by default). */
export class TextSink implements PartSink {
  readonly #chunks: Buffer[] = []
  #size = 0

  constructor(
    private readonly label: string,
    private readonly maxBytes: number,
    private readonly contentType: string,
    private readonly done: (text: string) => void,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    this.#size += chunk.length
    if (this.#size > this.maxBytes)
      throw new MultipartError(`${this.label} is larger than ${this.maxBytes} bytes`)
    this.#chunks.push(Buffer.from(chunk))
  }

  async end(): Promise<void> {
    this.done(decoderFor(this.contentType).decode(Buffer.concat(this.#chunks)))
  }

  async abort(): Promise<void> {}
}

function decoderFor(contentType: string): TextDecoder {
  try {
    const charset = parseParameterizedHeader(contentType, 'Content-Type').params.find(
      (p) => p.name === 'charset',
    )
    if (charset) return new TextDecoder(charset.value)
  } catch {
    // no usable charset: the reference decodes request parameters as UTF-8
  }
  return new TextDecoder('utf-8')
}

/**
 * A file part streamed to its temp file, counted and hashed as it goes; with `retainBytes` > 0 a copy
 * is kept in memory as long as the part stays within that many bytes.
 */
export class FileSink implements PartSink {
  readonly #hash = createHash('sha256')
  #size = 0
  #open = true
  #copy: Buffer[] | null

  constructor(
    private readonly handle: FileHandle,
    private readonly maxBytes: number,
    private readonly tooLarge: () => Error,
    private readonly retainBytes: number,
    /** false where the bytes are made durable elsewhere before anyone relies on them (PayloadStore.tempFilesNeedSync) */
    private readonly sync: boolean,
    private readonly done: (size: number, sha256: string, bytes: Buffer | undefined) => void,
  ) {
    this.#copy = retainBytes > 0 ? [] : null
  }

  async write(chunk: Buffer): Promise<void> {
    this.#size += chunk.length
    if (this.#size > this.maxBytes) throw this.tooLarge()
    this.#hash.update(chunk)
    if (this.#copy && this.#size > this.retainBytes) this.#copy = null
    this.#copy?.push(Buffer.from(chunk))
    for (let offset = 0; offset < chunk.length; ) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset)
      offset += bytesWritten
    }
  }

  async end(): Promise<void> {
    // fsynced here, so the caller may rename it into the payload store and answer 200 (principle 2)
    if (this.sync) await this.handle.sync()
    await this.#close()
    this.done(this.#size, this.#hash.digest('hex'), this.#copy ? Buffer.concat(this.#copy) : undefined)
  }

  async abort(): Promise<void> {
    await this.#close().catch(() => {})
  }

  async #close(): Promise<void> {
    if (!this.#open) return
    this.#open = false
    await this.handle.close()
  }
}
