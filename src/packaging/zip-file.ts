// Opening a zip file with yauzl, reading its entries in 256 KiB pieces. yauzl's own file reader (its
// fd-slicer) reads with a stream's default high-water mark, 16 KiB, and takes no other: a 1 GiB entry
// is then 65,536 reads, each a fresh buffer for the garbage collector, which made up much of a large
// message's receive time. yauzl lets its caller bring the reader instead (a RandomAccessReader), so
// this one reads the ranges yauzl asks for with Node's own file streams and a larger high-water mark.
// It can also put a zip's first bytes in front of the file from memory (`prefix`): a download whose
// head was held back (`StoredAsicSplit` in the DPO channel) is read as the whole zip it was.
//
// A small zip is read into memory in one go instead: yauzl asks for a range for its directory and two
// for each entry (its local header, its data), and each range read from a file is a stream of its own
// (open, read, close), each step a round trip to libuv's thread pool that costs this process 30 to 100
// µs of CPU on a small VM: more than the reading itself for a message of a few kilobytes.

import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { Readable } from 'node:stream'
import yauzl from 'yauzl'
import { READ_PIECE_BYTES } from '../files/payload-store.js'

class FileRanges extends yauzl.RandomAccessReader {
  constructor(
    private readonly path: string,
    private readonly prefix: Buffer,
  ) {
    super()
  }
  // yauzl's `end` is exclusive, Node's inclusive
  override _readStreamForRange(start: number, end: number): Readable {
    const p = this.prefix.length
    const head = start < p ? this.prefix.subarray(start, Math.min(end, p)) : null
    if (end <= Math.max(start, p)) return Readable.from(head && head.length > 0 ? [head] : [])
    const file = createReadStream(this.path, {
      start: Math.max(start, p) - p,
      end: end - p - 1,
      highWaterMark: READ_PIECE_BYTES,
    })
    if (!head) return file
    return Readable.from(
      (async function* () {
        yield head
        yield* file
      })(),
    )
  }
}

/**
 * A zip that is never written out, read front to back from a stream that can be made again: the
 * decryption of a received CMS, say. An earlier pass over it learned its `size` and kept its last
 * bytes (`tail`), where the end of central directory and, in any ordinary zip, the central directory
 * itself lie. yauzl reads it as it reads any zip, through the central directory and its checks; the
 * ranges it asks for are served from the tail, or from the stream when they lie ahead of what the
 * stream has given so far. A range behind that (entries not in the order of their bytes, a directory
 * before the tail) cannot be served: it fails with `NotInStreamOrder`, and the caller reads the zip
 * another way. So the bytes yauzl gets are the zip's own at every offset, or it gets none.
 */
export interface StreamedZip {
  size: number
  /** the zip's last `tail.length` bytes */
  tail: Buffer
  /**
   * the zip's bytes from the first, each time it is called; without it, only the tail can be read
   * (a zip whose entries were read as it streamed, zip-scan.ts)
   */
  open?(): Readable
}

/** a range of a `StreamedZip` behind what its stream has given: the zip is to be read another way */
export class NotInStreamOrder extends Error {
  override name = 'NotInStreamOrder'
}

/** the stream of a `StreamedZip` failed (a disk fault, say): not a fault of the zip */
export class StreamedZipSourceError extends Error {
  override name = 'StreamedZipSourceError'
}

class ForwardRanges extends yauzl.RandomAccessReader {
  #pos = 0
  #source: Readable | null = null
  #chunks: AsyncIterator<Buffer> | null = null
  /** bytes taken from the source and not yet given, starting at #pos */
  #left: Buffer | null = null
  /** the end of the last range served from the stream: a range begun before it has all its bytes is in the way */
  #servedTo = 0

  constructor(private readonly zip: StreamedZip) {
    super()
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const tailStart = this.zip.size - this.zip.tail.length
    if (start >= tailStart) return Readable.from([this.zip.tail.subarray(start - tailStart, end - tailStart)])
    if (!this.zip.open || start < this.#pos || this.#pos < this.#servedTo) {
      const error = new NotInStreamOrder(
        `bytes ${start} to ${end} of the zip were asked for with the stream at ${this.#pos}`,
      )
      return new Readable({
        read() {
          this.destroy(error)
        },
      })
    }
    this.#servedTo = end
    return Readable.from(this.#range(start, end), { objectMode: false })
  }

  async *#range(start: number, end: number): AsyncGenerator<Buffer> {
    while (this.#pos < end) {
      const chunk = this.#left ?? (await this.#next())
      this.#left = null
      const from = Math.max(0, start - this.#pos)
      const to = Math.min(chunk.length, end - this.#pos)
      if (to < chunk.length) this.#left = chunk.subarray(to)
      this.#pos += to
      if (to > from) yield chunk.subarray(from, to)
    }
  }

  async #next(): Promise<Buffer> {
    if (!this.#chunks) {
      this.#source = this.zip.open!()
      this.#chunks = this.#source[Symbol.asyncIterator]()
    }
    let got: IteratorResult<Buffer>
    try {
      got = await this.#chunks.next()
    } catch (cause) {
      throw new StreamedZipSourceError(`the zip's stream failed: ${(cause as Error).message}`, { cause })
    }
    if (got.done)
      throw new StreamedZipSourceError(`the zip's stream ended at ${this.#pos} of ${this.zip.size} bytes`)
    return got.value
  }

  override close(callback: (err: Error | null) => void): void {
    this.#source?.destroy()
    setImmediate(() => callback(null))
  }
}

/** a zip file this small, or smaller, is read into memory whole */
export const SMALL_ZIP_BYTES = 1024 * 1024

/**
 * As `yauzl.openPromise(path, options)`, reading entries in `READ_PIECE_BYTES` pieces, or from memory
 * when the file is small or `source` is the zip's bytes already; with `prefix`, the zip is those bytes
 * followed by the source's. The zip's size is `zip.fileSize`.
 */
export async function openZipFile(
  source: string | Buffer | StreamedZip,
  options: yauzl.Options,
  prefix: Buffer = Buffer.alloc(0),
): Promise<yauzl.ZipFile> {
  if (isStreamedZip(source)) {
    if (prefix.length > 0) throw new Error('a streamed zip takes no prefix')
    return yauzl.fromRandomAccessReaderPromise(new ForwardRanges(source), source.size, options)
  }
  if (Buffer.isBuffer(source))
    return yauzl.fromBufferPromise(prefix.length > 0 ? Buffer.concat([prefix, source]) : source, options)
  const file = await readIfSmall(source)
  if (file.bytes) return yauzl.fromBufferPromise(Buffer.concat([prefix, file.bytes]), options)
  return yauzl.fromRandomAccessReaderPromise(
    new FileRanges(source, prefix),
    prefix.length + file.size,
    options,
  )
}

export function isStreamedZip(source: unknown): source is StreamedZip {
  return (
    typeof source === 'object' &&
    source !== null &&
    !Buffer.isBuffer(source) &&
    'tail' in source &&
    'size' in source
  )
}

/** the file's bytes when it is at most SMALL_ZIP_BYTES long, else its size */
async function readIfSmall(path: string): Promise<{ bytes: Buffer } | { bytes?: undefined; size: number }> {
  const file = await open(path, 'r')
  try {
    const { size } = await file.stat()
    if (size > SMALL_ZIP_BYTES) return { size }
    const bytes = Buffer.allocUnsafe(size)
    let at = 0
    while (at < size) {
      const { bytesRead } = await file.read(bytes, at, size - at, at)
      if (bytesRead === 0) break
      at += bytesRead
    }
    // a file that shrank as it was read is read as what was there
    return { bytes: bytes.subarray(0, at) }
  } finally {
    await file.close()
  }
}
