// Large files made durable in their stride. A file that is fsynced only at its end has all its bytes
// still to write back then: on this kind of machine a gigabyte's fsync takes 0.4-0.5 s, which a large
// upload's answer, or a download's confirmation, waits for. Asking the kernel to write back as the file
// grows (an fdatasync every few dozen MiB, one at a time, beside the writing) leaves the last fsync only
// the last stretch to write, and keeps the page cache from holding a gigabyte of dirty pages.
//
// Hand-written: Node.js's fs.WriteStream has `flush` (one fsync at its close) and nothing that syncs as
// it goes; Linux's sync_file_range, made for this, is not reachable from Node.js.

import type { FileHandle } from 'node:fs/promises'
import { open } from 'node:fs/promises'
import { Writable } from 'node:stream'

/** how many bytes written since the last one start the next fdatasync */
export const SYNC_AHEAD_BYTES = 32 * 1024 * 1024

/**
 * The early fdatasyncs of one file. `wrote` after each write starts one once `every` bytes have come
 * since the last began, unless one is still under way; `settle` waits for the one under way and
 * rethrows a failure (a failed writeback means the file's bytes may not be on disk: the writer fails).
 */
export class SyncAhead {
  #sinceLast = 0
  #running: Promise<void> | null = null
  #failure: Error | null = null

  constructor(
    private readonly file: FileHandle,
    private readonly every = SYNC_AHEAD_BYTES,
    /** asked before each writeback: none while it says no */
    private readonly wanted: () => boolean = () => true,
  ) {}

  /** the failure of an earlier fdatasync, if one failed */
  get failure(): Error | null {
    return this.#failure
  }

  wrote(bytes: number): void {
    this.#sinceLast += bytes
    if (this.#running || this.#failure || this.#sinceLast < this.every || !this.wanted()) return
    this.#sinceLast = 0
    this.#running = this.file.datasync().then(
      () => {
        this.#running = null
      },
      (error: Error) => {
        this.#failure ??= error
        this.#running = null
      },
    )
  }

  async settle(): Promise<void> {
    await this.#running
    if (this.#failure) throw this.#failure
  }
}

export interface SyncingWriteOptions {
  /**
   * fsync before the stream finishes, so a pipeline into it resolves once the bytes are on disk; a
   * function is asked at the end, for a file whose need is known only once it is whole (its size)
   */
  flush: boolean | (() => boolean)
  /**
   * write back as it goes (SyncAhead); for a file that is fsynced at its end, here or by the caller. A
   * function is asked before each writeback, for a file whose fate is known only once it has begun.
   */
  ahead: boolean | (() => boolean)
  /** for a path: how it is opened (default 'w', 0o666 as fs.createWriteStream) */
  flags?: string
  mode?: number
  /** SYNC_AHEAD_BYTES unless set (tests) */
  aheadBytes?: number
}

/**
 * A writable file stream, as fs.createWriteStream, that writes back as it goes (`ahead`) and fsyncs at
 * its end (`flush`). Given a FileHandle it writes from the handle's position and closes the handle when
 * it is done or destroyed, as a FileHandle's own write stream does; given a path it opens it first.
 */
export function syncingWriteStream(file: FileHandle | string, options: SyncingWriteOptions): Writable {
  return new SyncingWriteStream(file, options)
}

class SyncingWriteStream extends Writable {
  #handle: FileHandle | null = null
  #ahead: SyncAhead | null = null

  constructor(
    private readonly file: FileHandle | string,
    private readonly options: SyncingWriteOptions,
  ) {
    super()
  }

  override _construct(callback: (error?: Error | null) => void): void {
    const opened =
      typeof this.file === 'string'
        ? open(this.file, this.options.flags ?? 'w', this.options.mode ?? 0o666)
        : Promise.resolve(this.file)
    opened.then((handle) => {
      this.#handle = handle
      const { ahead } = this.options
      if (ahead)
        this.#ahead = new SyncAhead(handle, this.options.aheadBytes, ahead === true ? undefined : ahead)
      callback()
    }, callback)
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.#write(chunks.map((c) => c.chunk)).then(() => callback(), callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#finish().then(() => callback(), callback)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // the handle is closed only once no fdatasync uses its descriptor any longer
    const handle = this.#handle
    this.#handle = null
    Promise.resolve(this.#ahead?.settle())
      .catch(() => {})
      .then(() => handle?.close())
      .then(
        () => callback(error),
        (closeError: Error) => callback(error ?? closeError),
      )
  }

  async #write(buffers: Buffer[]): Promise<void> {
    const handle = this.#handle!
    if (this.#ahead?.failure) throw this.#ahead.failure
    let total = 0
    for (const b of buffers) total += b.length
    let { bytesWritten } = await handle.writev(buffers)
    // a short write (rare for a file, but allowed) goes on from where it stopped
    if (bytesWritten < total) {
      const rest = Buffer.concat(buffers).subarray(bytesWritten)
      for (let offset = 0; offset < rest.length; offset += bytesWritten)
        ({ bytesWritten } = await handle.write(rest, offset, rest.length - offset))
    }
    this.#ahead?.wrote(total)
  }

  async #finish(): Promise<void> {
    await this.#ahead?.settle()
    const { flush } = this.options
    if (flush === true || (typeof flush === 'function' && flush())) await this.#handle!.sync()
  }
}
