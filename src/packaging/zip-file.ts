// Opening a zip file with yauzl, reading its entries in 256 KiB pieces. yauzl's own file reader (its
// fd-slicer) reads with a stream's default high-water mark, 16 KiB, and takes no other: a 1 GiB entry
// is then 65,536 reads, each a fresh buffer for the garbage collector, which made up much of a large
// message's receive time. yauzl lets its caller bring the reader instead (a RandomAccessReader), so
// this one reads the ranges yauzl asks for with Node's own file streams and a larger high-water mark.
// It can also put a zip's first bytes in front of the file from memory (`prefix`): a download whose
// head was held back (`StoredAsicSplit` in the DPO channel) is read as the whole zip it was.

import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
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
 * As `yauzl.openPromise(path, options)`, reading entries in `READ_PIECE_BYTES` pieces; with `prefix`,
 * the zip is those bytes followed by the file's.
 */
export async function openZipFile(
  path: string,
  options: yauzl.Options,
  prefix: Buffer = Buffer.alloc(0),
): Promise<yauzl.ZipFile> {
  const { size } = await stat(path)
  return yauzl.fromRandomAccessReaderPromise(new FileRanges(path, prefix), prefix.length + size, options)
}
