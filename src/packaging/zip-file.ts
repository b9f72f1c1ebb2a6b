// Opening a zip file with yauzl, reading its entries in 1 MiB pieces. yauzl's own file reader (its
// fd-slicer) reads with a stream's default high-water mark, 16 KiB, and takes no other: a 1 GiB entry
// is then 65,536 reads, each a fresh buffer for the garbage collector, which made up much of a large
// message's receive time. yauzl lets its caller bring the reader instead (a RandomAccessReader), so
// this one reads the ranges yauzl asks for with Node's own file streams and a larger high-water mark.

import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { Readable } from 'node:stream'
import yauzl from 'yauzl'

/** the piece each read of an entry's bytes takes */
export const ZIP_READ_CHUNK = 256 * 1024

class FileRanges extends yauzl.RandomAccessReader {
  constructor(private readonly path: string) {
    super()
  }
  // yauzl's `end` is exclusive, Node's inclusive
  override _readStreamForRange(start: number, end: number): Readable {
    if (end <= start) return Readable.from([])
    return createReadStream(this.path, { start, end: end - 1, highWaterMark: ZIP_READ_CHUNK })
  }
}

/** As `yauzl.openPromise(path, options)`, reading entries in `ZIP_READ_CHUNK` pieces. */
export async function openZipFile(path: string, options: yauzl.Options): Promise<yauzl.ZipFile> {
  const { size } = await stat(path)
  return yauzl.fromRandomAccessReaderPromise(new FileRanges(path), size, options)
}
