import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import yazl from 'yazl'
import { AsicError, extractEntries } from './asic-entries.js'
import { reverseDirectory } from './test-support.js'
import { NotInStreamOrder, openZipFile, type StreamedZip, StreamedZipSourceError } from './zip-file.js'

// A zip read front to back from a stream (zip-file.ts `StreamedZip`, how a received ASiC-E is checked as
// it decrypts) gives yauzl the zip's own bytes at every offset, or none: against the same zip read
// from memory, the same entries, or the same refusal, or `NotInStreamOrder` (the caller then reads it
// from a file).

async function zipOf(files: { name: string; data: Buffer; compress: boolean }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const f of files) zip.addBuffer(f.data, f.name, { compress: f.compress })
  zip.end()
  const parts: Buffer[] = []
  for await (const c of zip.outputStream as unknown as AsyncIterable<Buffer>) parts.push(c)
  return Buffer.concat(parts)
}

/** `bytes` as a StreamedZip: its last `tailBytes` kept, its stream in `piece`-byte chunks; counts its opens */
function streamed(bytes: Buffer, tailBytes: number, piece: number) {
  const opened = { count: 0 }
  const zip: StreamedZip = {
    size: bytes.length,
    tail: bytes.subarray(Math.max(0, bytes.length - tailBytes)),
    open: () => {
      opened.count++
      return Readable.from(
        (function* () {
          for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece)
        })(),
      )
    },
  }
  return { zip, opened }
}

/** what yauzl reads of a zip's end to find its end of central directory (a comment of up to 64 KiB, a zip64 locator) */
const END_READ = 20 + 22 + 65535

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** every entry checked and hashed, as the ASiC-E check reads them; an AsicError's reason, or what else was thrown */
async function outcome(source: Buffer | StreamedZip) {
  try {
    const found = await extractEntries(source, {
      maxEntries: 50,
      maxEntryBytes: 10_000_000,
      maxTotalBytes: 10_000_000,
      maxRatio: 100,
      pathFor: () => null,
    })
    return { entries: [...found.values()].map((e) => [e.name, e.size, e.sha256.toString('hex')]) }
  } catch (error) {
    if (error instanceof AsicError) return { refused: error.reason }
    return { thrown: error }
  }
}

describe('a StreamedZip', () => {
  const files = [
    { name: 'mimetype', data: Buffer.from('application/vnd.etsi.asic-e+zip'), compress: false },
    { name: 'arkivmelding.xml', data: Buffer.from('<arkivmelding/>'.repeat(5000)), compress: true },
    { name: 'dokument.bin', data: randomBytes(3 * 1024 * 1024 + 17), compress: false },
    { name: 'META-INF/manifest.xml', data: Buffer.from('<manifest/>'), compress: true },
  ]

  it('is read in one pass of its stream, whatever its chunks, with its end in the tail', async () => {
    const bytes = await zipOf(files)
    const want = files.map((f) => [f.name, f.data.length, sha256(f.data)])
    expect(await outcome(bytes)).toEqual({ entries: want })
    for (const [tail, piece] of [
      [END_READ, 7],
      [END_READ, 256 * 1024],
      [END_READ + 100_000, 65536],
      [bytes.length, 1000],
    ] as const) {
      const { zip, opened } = streamed(bytes, tail, piece)
      expect(await outcome(zip)).toEqual({ entries: want })
      expect(opened.count).toBeLessThanOrEqual(1)
    }
    // with byte-by-byte chunks, a smaller zip
    const small = await zipOf(files.filter((f) => f.name !== 'dokument.bin'))
    const { zip } = streamed(small, 2000, 1)
    expect(await outcome(zip)).toEqual(await outcome(small))
  })

  it('answers NotInStreamOrder, not a refusal, when its directory lists the entries against the order of their bytes', async () => {
    const bytes = reverseDirectory(await zipOf(files))
    // from memory the same zip reads, in its directory's order
    expect(await outcome(bytes)).toEqual({
      entries: [...files].reverse().map((f) => [f.name, f.data.length, sha256(f.data)]),
    })
    const { thrown } = (await outcome(streamed(bytes, END_READ, 65536).zip)) as { thrown: unknown }
    expect(thrown).toBeInstanceOf(NotInStreamOrder)
  })

  it('answers NotInStreamOrder when the tail it kept is shorter than the end yauzl reads', async () => {
    const bytes = await zipOf(files)
    const { thrown } = (await outcome(streamed(bytes, 100, 65536).zip)) as { thrown: unknown }
    expect(thrown).toBeInstanceOf(NotInStreamOrder)
  })

  it('passes a failing or short stream on as StreamedZipSourceError, never as a refusal of the zip', async () => {
    const bytes = await zipOf(files)
    const failing: StreamedZip = {
      size: bytes.length,
      tail: bytes.subarray(bytes.length - END_READ),
      open: () =>
        Readable.from(
          (async function* () {
            yield bytes.subarray(0, 1024 * 1024)
            throw new Error('EIO: the disk failed')
          })(),
        ),
    }
    const failed = (await outcome(failing)) as { thrown: Error }
    expect(failed.thrown).toBeInstanceOf(StreamedZipSourceError)
    expect((failed.thrown.cause as Error).message).toMatch(/EIO/)
    const short: StreamedZip = { ...failing, open: () => Readable.from([bytes.subarray(0, 2 * 1024 * 1024)]) }
    const ended = (await outcome(short)) as { thrown: Error }
    expect(ended.thrown).toBeInstanceOf(StreamedZipSourceError)
    expect(ended.thrown.message).toMatch(/ended at/)
  })

  it('takes no prefix', async () => {
    const { zip } = streamed(await zipOf(files.slice(0, 1)), 1000, 100)
    await expect(openZipFile(zip, {}, Buffer.from('x'))).rejects.toThrow(/no prefix/)
  })

  it('reads as the same zip from memory does, whatever bytes are changed: the same entries or refusal, or NotInStreamOrder', async () => {
    const base = await zipOf([
      { name: 'mimetype', data: Buffer.from('application/vnd.etsi.asic-e+zip'), compress: false },
      { name: 'a.xml', data: Buffer.from('<a>tekst</a>'.repeat(300)), compress: true },
      // larger than what yauzl reads of the end, so the stream serves the first entries
      { name: 'b.bin', data: randomBytes(200_000), compress: false },
      { name: 'META-INF/signature.p7s', data: randomBytes(700), compress: true },
    ])
    // mostly where the headers are: the first entries' and, at the end, the directory's
    const where = fc.oneof(
      fc.nat(400),
      fc.nat(800).map((back) => base.length - 1 - back),
      fc.nat(base.length - 1),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(where, fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.integer({ min: END_READ, max: base.length }),
        fc.integer({ min: 1, max: 3000 }),
        async (changes, tail, piece) => {
          const bytes = Buffer.from(base)
          for (const [at, value] of changes) bytes[at] = value
          const fromMemory = await outcome(bytes)
          const fromStream = await outcome(streamed(bytes, tail, piece).zip)
          if ('thrown' in fromStream) expect(fromStream.thrown).toBeInstanceOf(NotInStreamOrder)
          else expect(fromStream).toEqual(fromMemory)
        },
      ),
      { numRuns: 200 },
    )
  })
})
