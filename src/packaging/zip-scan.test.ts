import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { deflateRawSync } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import yazl from 'yazl'
import { AsicError, extractEntries, isMeta } from './asic-entries.js'
import { reverseDirectory } from './test-support.js'
import { NotInStreamOrder } from './zip-file.js'
import { scannedZip, type ZipScanLimits, ZipScanner } from './zip-scan.js'

// One pass over a zip as it streams (zip-scan.ts) records what each local header's entry inflates to;
// the directory, read afterwards by yauzl from the kept tail, must confirm every record it uses. Against
// the same zip read from memory by yauzl alone: the same entries, or the same refusal, or
// `NotInStreamOrder` (the caller then reads it the other way), whatever bytes are changed.

interface File {
  name: string
  data: Buffer
  compress: boolean
  /** added as a stream: sized by a data descriptor after its data */
  described?: boolean
  zip64?: boolean
}

async function zipOf(files: File[]): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const f of files) {
    const options = { compress: f.compress, forceZip64Format: f.zip64 ?? false }
    if (f.described) zip.addReadStream(Readable.from([f.data]), f.name, options)
    else zip.addBuffer(f.data, f.name, options)
  }
  zip.end()
  const parts: Buffer[] = []
  for await (const c of zip.outputStream as unknown as AsyncIterable<Buffer>) parts.push(c)
  return Buffer.concat(parts)
}

const LIMITS: ZipScanLimits = {
  maxEntries: 50,
  maxEntryBytes: 10_000_000,
  maxTotalBytes: 10_000_000,
  maxRatio: 100,
  ratioFloor: 1024 * 1024,
  hold: (name) => (isMeta(name) ? 1024 * 1024 : 0),
  maxHeldBytes: 8 * 1024 * 1024,
  tailBytes: 2 * 1024 * 1024,
}

async function scan(bytes: Buffer, piece: number, limits: Partial<ZipScanLimits> = {}) {
  const scanner = new ZipScanner({ ...LIMITS, ...limits })
  await pipeline(
    Readable.from(
      (function* () {
        for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece)
      })(),
    ),
    scanner,
  )
  return scanner.result()
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** every entry checked as the ASiC-E check reads them, meta entries held: their names, sizes, digests, held bytes */
async function outcome(bytes: Buffer, scanned?: { piece: number; limits?: Partial<ZipScanLimits> }) {
  try {
    const s = scanned ? await scan(bytes, scanned.piece, scanned.limits) : null
    const found = await extractEntries(s ? scannedZip(s) : bytes, {
      maxEntries: 50,
      maxEntryBytes: 10_000_000,
      maxTotalBytes: 10_000_000,
      maxRatio: 100,
      pathFor: (name) => (isMeta(name) ? 'memory' : null),
      scanned: s?.entries,
    })
    return {
      entries: [...found.values()].map((e) => [
        e.name,
        e.size,
        e.sha256.toString('hex'),
        e.data?.toString('hex'),
      ]),
    }
  } catch (error) {
    if (error instanceof AsicError) return { refused: error.reason }
    return { thrown: error }
  }
}

const files: File[] = [
  { name: 'mimetype', data: Buffer.from('application/vnd.etsi.asic-e+zip'), compress: false },
  { name: 'arkivmelding.xml', data: Buffer.from('<arkivmelding/>'.repeat(5000)), compress: true },
  { name: 'dokument.bin', data: randomBytes(300_000), compress: false },
  { name: 'vedlegg.bin', data: randomBytes(70_000), compress: true },
  { name: 'META-INF/manifest.xml', data: Buffer.from('<manifest/>'), compress: true },
]
const want = files.map((f) => [
  f.name,
  f.data.length,
  sha256(f.data),
  isMeta(f.name) ? f.data.toString('hex') : undefined,
])

describe('a zip read as it streams', () => {
  it('gives every entry, stored or deflated, as yauzl reads it, whatever its chunks', async () => {
    const bytes = await zipOf(files)
    expect(await outcome(bytes)).toEqual({ entries: want })
    for (const piece of [7, 4096, 65536, bytes.length])
      expect(await outcome(bytes, { piece })).toEqual({ entries: want })
    // byte by byte, a smaller zip
    const small = await zipOf(files.filter((f) => f.data.length < 70_000))
    expect(await outcome(small, { piece: 1 })).toEqual(await outcome(small))
    const s = await scan(bytes, 65536)
    expect(s.size).toBe(bytes.length)
    expect(s.tail).toEqual(bytes)
    expect(s.entries.size).toBe(files.length)
  })

  it('reads zip64 local headers, and entries whatever the order of their directory', async () => {
    const bytes = await zipOf(files.map((f) => ({ ...f, zip64: true })))
    expect(await outcome(bytes, { piece: 1000 })).toEqual({ entries: want })
    // the records are by offset: a directory in another order finds them all the same
    const reversed = reverseDirectory(await zipOf(files))
    expect(await outcome(reversed, { piece: 1000 })).toEqual(await outcome(reversed))
  })

  it('reads a deflated entry sized by a data descriptor to where its deflate stream ends, whatever the chunks', async () => {
    // as Java's ZipOutputStream writes every deflated entry
    const described = files.map((f) => ({ ...f, described: f.compress }))
    const bytes = await zipOf(described)
    expect(await outcome(bytes)).toEqual({ entries: want })
    const s = await scan(bytes, 4096)
    expect(s.entries.size).toBe(files.length)
    // chunks that end exactly where a deflate stream ends, or its descriptor, or a byte either side
    const ends = [...s.entries].filter(([, e]) => e.method === 8)
    for (const [offset, e] of ends) {
      const nameLength = bytes.readUInt16LE(offset + 26)
      const end = offset + 30 + nameLength + bytes.readUInt16LE(offset + 28) + e.compressedSize
      for (const cut of [end - 1, end, end + 1, end + 16, end + 17]) {
        const scanner = new ZipScanner(LIMITS)
        await pipeline(Readable.from([bytes.subarray(0, cut), bytes.subarray(cut)]), scanner)
        expect([...scanner.result().entries.keys()], `cut at ${cut - end} of ${offset}`).toEqual([
          ...s.entries.keys(),
        ])
      }
    }
    for (const piece of [1, 3, 16, 1000])
      expect(await outcome(await zipOf(described.filter((f) => f.data.length < 70_000)), { piece })).toEqual(
        await outcome(await zipOf(described.filter((f) => f.data.length < 70_000))),
      )
  })

  it('stops at a stored entry sized by a data descriptor: the entries from there are NotInStreamOrder', async () => {
    const bytes = await zipOf(files.map((f) => ({ ...f, described: f.name === 'dokument.bin' })))
    expect(await outcome(bytes)).toEqual({ entries: want })
    const s = await scan(bytes, 4096)
    expect(s.entries.size).toBe(2)
    expect((await outcome(bytes, { piece: 4096 })).thrown).toBeInstanceOf(NotInStreamOrder)
  })

  it('inflates no entry past what it declares, nor one whose declared ratio is a bomb', async () => {
    const zeros = Buffer.alloc(5 * 1024 * 1024)
    const bomb = await zipOf([{ name: 'bomb.bin', data: zeros, compress: true }])
    // declared honestly: above the ratio, not read; the directory's check refuses it either way
    expect((await scan(bomb, 65536)).entries.size).toBe(0)
    expect(await outcome(bomb, { piece: 65536 })).toEqual(await outcome(bomb))
    expect(await outcome(bomb)).toEqual({ refused: 'limit' })
    // declared small, in the local header and the directory alike: it stops at what it declared
    const lying = await zipOf([{ name: 'bomb.bin', data: deflateRawSync(zeros), compress: false }])
    const small = Buffer.from(lying)
    const compressed = deflateRawSync(zeros)
    // make the one stored entry a deflated one declaring 1000 bytes, in both headers
    for (const at of [0, lying.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))]) {
      const central = at > 0
      small.writeUInt16LE(8, at + (central ? 10 : 8))
      small.writeUInt32LE(1000, at + (central ? 24 : 22))
    }
    expect(compressed.length).toBeGreaterThan(1000)
    expect((await scan(small, 65536)).entries.size).toBe(0)
    expect((await outcome(small, { piece: 65536 })).thrown).toBeInstanceOf(NotInStreamOrder)
    expect(await outcome(small)).toHaveProperty('refused')
  })

  it('holds no more meta bytes than asked, and answers NotInStreamOrder for an entry not held', async () => {
    const bytes = await zipOf(files)
    const s = await scan(bytes, 65536, { maxHeldBytes: 40 })
    // mimetype (31 bytes) is held, the manifest no longer fits
    expect([...s.entries.values()].filter((e) => e.data !== null).map((e) => e.size)).toEqual([31])
    expect((await outcome(bytes, { piece: 65536, limits: { maxHeldBytes: 40 } })).thrown).toBeInstanceOf(
      NotInStreamOrder,
    )
  })

  it('answers NotInStreamOrder when the tail it kept does not reach the directory', async () => {
    const bytes = await zipOf(files)
    expect((await outcome(bytes, { piece: 65536, limits: { tailBytes: 100 } })).thrown).toBeInstanceOf(
      NotInStreamOrder,
    )
  })

  it('keeps no tail when asked for none, and still records every entry', async () => {
    const bytes = await zipOf(files)
    const full = await scan(bytes, 4096)
    const none = await scan(bytes, 4096, { tailBytes: 0 })
    expect(none.tail.length).toBe(0)
    expect(none.size).toBe(bytes.length)
    expect([...none.entries.keys()]).toEqual([...full.entries.keys()])
  })

  it('reads as the same zip from memory does, whatever bytes are changed: the same entries or refusal, or NotInStreamOrder', async () => {
    const base = await zipOf([
      { name: 'mimetype', data: Buffer.from('application/vnd.etsi.asic-e+zip'), compress: false },
      { name: 'a.xml', data: Buffer.from('<a>tekst</a>'.repeat(300)), compress: true },
      { name: 'b.bin', data: randomBytes(20_000), compress: false },
      { name: 'c.bin', data: randomBytes(3000), compress: true, zip64: true },
      { name: 'd.xml', data: Buffer.from('<d/>'.repeat(500)), compress: true, described: true },
      { name: 'META-INF/signature.p7s', data: randomBytes(700), compress: true, described: true },
    ])
    // mostly where the headers are: the first entries' and, at the end, the directory's
    const where = fc.oneof(
      fc.nat(400),
      fc.nat(1200).map((back) => base.length - 1 - back),
      fc.nat(base.length - 1),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(where, fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.integer({ min: 1, max: 5000 }),
        async (changes, piece) => {
          const bytes = Buffer.from(base)
          for (const [at, value] of changes) bytes[at] = value
          const fromMemory = await outcome(bytes)
          const scanned = await outcome(bytes, { piece })
          if ('thrown' in scanned) expect(scanned.thrown).toBeInstanceOf(NotInStreamOrder)
          else expect(scanned).toEqual(fromMemory)
        },
      ),
      { numRuns: 300 },
    )
  })
})
