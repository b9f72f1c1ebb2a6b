// Where the parts of a multipart body go while they stream in: plain fields to memory (capped),
// files to their temp file (counted, hashed, fsynced at the end) or, within a request's budget, to memory.

import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { parseParameterizedHeader } from './content-disposition.js'
import { MultipartError } from './multipart-scanner.js'
import { SyncAhead } from './sync-ahead.js'

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

/** What a request's file parts may hold in memory together, in bytes (see MultipartOptions.inMemoryBytes). */
export interface MemoryBudget {
  left: number
}

/**
 * A file part, counted and hashed as it streams. While the request's memory budget allows, it is held in
 * memory and gets no temp file at all; past that it goes to its temp file (`open`, called at most once),
 * the bytes held so far first. With `retainBytes` > 0 a copy is kept in memory as long as the part stays
 * within that many bytes, temp file or not.
 */
export class FileSink implements PartSink {
  readonly #hash = createHash('sha256')
  #size = 0
  #handle: FileHandle | null = null
  /** a large part written back as it comes, so the fsync at its end has little left (sync-ahead.ts) */
  #ahead: SyncAhead | null = null
  #closed = false
  /** the part's bytes while it is held in memory alone */
  #held: Buffer[] | null
  #copy: Buffer[] | null

  constructor(
    private readonly open: () => Promise<FileHandle>,
    /** null: straight to the temp file */
    private readonly memory: MemoryBudget | null,
    private readonly maxBytes: number,
    private readonly tooLarge: () => Error,
    private readonly retainBytes: number,
    /** false where the bytes are made durable elsewhere before anyone relies on them (PayloadStore.tempFilesNeedSync) */
    private readonly sync: boolean,
    private readonly done: (size: number, sha256: string, bytes: Buffer | undefined, inFile: boolean) => void,
  ) {
    this.#held = memory ? [] : null
    this.#copy = retainBytes > 0 ? [] : null
  }

  async write(chunk: Buffer): Promise<void> {
    this.#size += chunk.length
    if (this.#size > this.maxBytes) throw this.tooLarge()
    this.#hash.update(chunk)
    if (this.#held && this.memory && chunk.length <= this.memory.left) {
      this.memory.left -= chunk.length
      this.#held.push(Buffer.from(chunk))
      return
    }
    if (this.#copy && this.#size > this.retainBytes) this.#copy = null
    await this.#spill()
    this.#copy?.push(Buffer.from(chunk))
    await this.#writeOut(chunk)
  }

  async end(): Promise<void> {
    if (this.#held) {
      // never left memory: no file, nothing to sync
      this.done(this.#size, this.#hash.digest('hex'), Buffer.concat(this.#held), false)
      return
    }
    await this.#spill()
    // fsynced here, so the caller may rename it into the payload store and answer 200 (principle 2)
    await this.#ahead?.settle()
    if (this.sync) await this.#handle!.sync()
    await this.#close()
    const copy = this.#copy ? Buffer.concat(this.#copy) : undefined
    this.done(this.#size, this.#hash.digest('hex'), copy, true)
  }

  async abort(): Promise<void> {
    await this.#close().catch(() => {})
  }

  /**
   * Opens the temp file unless it is open. A part held in memory moves there: what was held is written
   * first, and its share of the budget given back.
   */
  async #spill(): Promise<void> {
    if (this.#handle) return
    const held = this.#held ?? []
    this.#held = null
    this.#handle = await this.open()
    if (this.sync) this.#ahead = new SyncAhead(this.#handle)
    if (this.memory) for (const piece of held) this.memory.left += piece.length
    if (this.#copy) this.#copy = [...held]
    for (const piece of held) await this.#writeOut(piece)
  }

  async #writeOut(chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length; ) {
      const { bytesWritten } = await this.#handle!.write(chunk, offset, chunk.length - offset)
      offset += bytesWritten
    }
    this.#ahead?.wrote(chunk.length)
  }

  async #close(): Promise<void> {
    if (!this.#handle || this.#closed) return
    this.#closed = true
    // not while a writeback still uses the descriptor
    await this.#ahead?.settle().catch(() => {})
    await this.#handle.close()
  }
}
