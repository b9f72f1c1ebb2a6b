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

/** a zip file this small, or smaller, is read into memory whole */
export const SMALL_ZIP_BYTES = 1024 * 1024

/**
 * As `yauzl.openPromise(path, options)`, reading entries in `READ_PIECE_BYTES` pieces, or from memory
 * when the file is small or `source` is the zip's bytes already; with `prefix`, the zip is those bytes
 * followed by the source's. The zip's size is `zip.fileSize`.
 */
export async function openZipFile(
  source: string | Buffer,
  options: yauzl.Options,
  prefix: Buffer = Buffer.alloc(0),
): Promise<yauzl.ZipFile> {
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
