import { execFileSync, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { crc32 } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import yauzl from 'yauzl'
import { makeTempDir } from './test-support.js'
import { type ZipEntry, ZipEntryMismatch, type ZipOptions, zipStream } from './zip-writer.js'
import { javaMissing, javaReadZip, javaReadZipFile, javaReadZipStream } from './zip-writer-java.js'

let tmp: ReturnType<typeof makeTempDir>
beforeAll(() => {
  tmp = makeTempDir('zip-writer-test-')
})
afterAll(() => tmp.cleanup())

const noJava = javaMissing()
if (noJava) console.warn(`zip-writer tests: the ZipInputStream checks are skipped: ${noJava}`)

const random = randomBytes(300_000)
const text = Buffer.from('<dokument>tekst som pakker seg godt</dokument>\n'.repeat(5000))
const mtime = new Date(2026, 11, 6, 10, 30, 42)

/** two chunks, so entries are streamed in more than one piece */
const chunked = (b: Buffer) => () => Readable.from([b.subarray(0, 1000), b.subarray(1000)])

function entries(): ZipEntry[] {
  return [
    { name: 'mimetype', data: Buffer.from('application/vnd.etsi.asic-e+zip'), method: 'store' },
    { name: 'manifest.xml', data: Buffer.from('<manifest/>'), method: 'deflate' },
    {
      name: 'tilfeldig.bin',
      open: chunked(random),
      method: 'store',
      size: random.length,
      crc32: crc32(random),
    },
    { name: 'særutskrift æøå.xml', open: chunked(text), method: 'deflate', comment: 'kommentar' },
    { name: 'tom.bin', open: () => Readable.from([]), method: 'store', size: 0, crc32: 0 },
    { name: 'sjekket.xml', open: chunked(text), method: 'deflate', size: text.length, crc32: crc32(text) },
  ]
}

const expected = [
  ['mimetype', 0, Buffer.from('application/vnd.etsi.asic-e+zip')],
  ['manifest.xml', 8, Buffer.from('<manifest/>')],
  ['tilfeldig.bin', 0, random],
  ['særutskrift æøå.xml', 8, text],
  ['tom.bin', 0, Buffer.alloc(0)],
  ['sjekket.xml', 8, text],
] as const

async function write(name: string, list: ZipEntry[], opts: Partial<ZipOptions> = {}): Promise<string> {
  const path = join(tmp.dir, name)
  await pipeline(
    zipStream(() => list, { mtime, comment: 'mimetype=application/vnd.etsi.asic-e+zip', ...opts }),
    createWriteStream(path),
  )
  return path
}

async function yauzlRead(path: string): Promise<Map<string, { entry: yauzl.Entry; data: Buffer }>> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true })
  const found = new Map<string, { entry: yauzl.Entry; data: Buffer }>()
  try {
    for (;;) {
      const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
        zip
          .once('entry', resolve)
          .once('end', () => resolve(null))
          .once('error', reject)
        zip.readEntry()
      })
      if (!entry) return found
      const parts: Buffer[] = []
      for await (const c of await zip.openReadStreamPromise(entry)) parts.push(c as Buffer)
      found.set(entry.fileName, { entry, data: Buffer.concat(parts) })
    }
  } finally {
    zip.close()
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe.each([false, true])('zipStream (forceZip64: %s)', (forceZip64) => {
  let path: string
  beforeAll(async () => {
    path = await write(`all-${forceZip64}.zip`, entries(), { forceZip64 })
  })

  it('is read by unzip -t and python3 -m zipfile -t', () => {
    expect(execFileSync('unzip', ['-t', path]).toString()).toMatch(/No errors detected/)
    const py = spawnSync('python3', ['-m', 'zipfile', '-t', path])
    expect(py.status, py.stderr.toString()).toBe(0)
    expect(py.stdout.toString()).toMatch(/Done testing/)
  })

  it('is read by yauzl: names, methods, bytes, comments, time', async () => {
    const found = await yauzlRead(path)
    expect([...found.keys()]).toEqual(expected.map(([n]) => n))
    for (const [name, method, data] of expected) {
      const e = found.get(name)!
      expect([e.entry.compressionMethod, e.data.equals(data)], name).toEqual([method, true])
    }
    expect(found.get('særutskrift æøå.xml')!.entry.fileComment).toBe('kommentar')
    expect(found.get('mimetype')!.entry.getLastModDate().getTime()).toBe(mtime.getTime())
    // zip64 extras where forced, and only there
    const extras = found.get('tilfeldig.bin')!.entry.extraFields.map((f) => f.id)
    expect(extras).toEqual(forceZip64 ? [1] : [])
  })

  it('stores streamed entries with sizes and CRC up front: no bit 3, no descriptor', () => {
    const bytes = readFileSync(path)
    const at = bytes.indexOf(Buffer.from('tilfeldig.bin')) - 30
    expect(bytes.readUInt32LE(at)).toBe(0x04034b50)
    expect(bytes.readUInt16LE(at + 6) & 8).toBe(0)
    expect(bytes.readUInt32LE(at + 14)).toBe(crc32(random))
    const sizes = forceZip64
      ? [0xffffffff, 0xffffffff, random.length, random.length] // and the zip64 extra after the name
      : [random.length, random.length]
    const extraAt = at + 30 + 'tilfeldig.bin'.length
    const found = [bytes.readUInt32LE(at + 18), bytes.readUInt32LE(at + 22)]
    if (forceZip64)
      found.push(Number(bytes.readBigUInt64LE(extraAt + 4)), Number(bytes.readBigUInt64LE(extraAt + 12)))
    expect(found).toEqual(sizes)
    // mimetype first, stored, no extra field, even when zip64 is forced
    expect([bytes.readUInt16LE(8), bytes.readUInt16LE(28)]).toEqual([0, 0])
    expect(bytes.subarray(30, 38).toString()).toBe('mimetype')
  })

  it.skipIf(noJava)("is read by Java's ZipInputStream, every size and CRC checked", () => {
    const read = javaReadZip(tmp.dir, path)
    expect(read).toEqual(
      expected.map(([name, method, data]) => ({ name, method, size: data.length, sha256: sha256(data) })),
    )
  })
})

describe('zipStream: stored entries with trailing sizes (bytes made on the fly)', () => {
  let path: string
  const list = (): ZipEntry[] => [
    { name: 'sbd.json', data: Buffer.from('{"a":1}'), method: 'deflate' },
    { name: 'asic.zip', open: chunked(random), method: 'store', trailingSizes: true },
    { name: 'tom.bin', open: () => Readable.from([]), method: 'store', trailingSizes: true },
  ]
  const want = [
    ['sbd.json', 8, Buffer.from('{"a":1}')],
    ['asic.zip', 0, random],
    ['tom.bin', 0, Buffer.alloc(0)],
  ] as const
  beforeAll(async () => {
    path = await write('trailed.zip', list())
  })

  it('sets bit 3 with zeros in the local header, and writes the descriptor after the data', () => {
    const bytes = readFileSync(path)
    const at = bytes.indexOf(Buffer.from('asic.zip')) - 30
    expect(bytes.readUInt32LE(at)).toBe(0x04034b50)
    expect([bytes.readUInt16LE(at + 6) & 8, bytes.readUInt16LE(at + 8)]).toEqual([8, 0])
    expect([bytes.readUInt32LE(at + 14), bytes.readUInt32LE(at + 18), bytes.readUInt32LE(at + 22)]).toEqual([
      0, 0, 0,
    ])
    const d = at + 30 + 'asic.zip'.length + random.length
    expect([bytes.readUInt32LE(d), bytes.readUInt32LE(d + 4), bytes.readUInt32LE(d + 8)]).toEqual([
      0x08074b50,
      crc32(random),
      random.length,
    ])
  })

  it('is read by unzip -t, python3 -m zipfile -t and yauzl', async () => {
    expect(execFileSync('unzip', ['-t', path]).toString()).toMatch(/No errors detected/)
    expect(spawnSync('python3', ['-m', 'zipfile', '-t', path]).status).toBe(0)
    const found = await yauzlRead(path)
    for (const [name, method, data] of want) {
      const e = found.get(name)!
      expect([e.entry.compressionMethod, e.entry.crc32, e.data.equals(data)], name).toEqual([
        method,
        crc32(data),
        true,
      ])
    }
  })

  it.skipIf(noJava)("is read by Java's ZipFile, which the reference reads sbd.zip with", () => {
    expect(javaReadZipFile(tmp.dir, path)).toEqual(
      want.map(([name, method, data]) => ({ name, method, size: data.length, sha256: sha256(data) })),
    )
  })

  it.skipIf(noJava)("is refused by Java's ZipInputStream, as the option's comment says", () => {
    expect(() => javaReadZip(tmp.dir, path)).toThrow(/only DEFLATED entries can have EXT descriptor/)
  })

  it('fails on a declared size or CRC that the bytes do not match', async () => {
    const bad: ZipEntry[] = [
      { name: 'a', open: chunked(random), method: 'store', trailingSizes: true, size: 5 },
    ]
    await expect(write('bad.zip', bad)).rejects.toThrow(ZipEntryMismatch)
  })
})

describe('zipStream refuses', () => {
  const stored = (data: Buffer, size: number, crc: number): ZipEntry[] => [
    { name: 'a.bin', open: chunked(data), method: 'store', size, crc32: crc },
  ]

  it.each([
    ['another CRC', stored(random, random.length, (crc32(random) ^ 1) >>> 0)],
    ['more bytes', stored(random, random.length - 1, crc32(random))],
    ['fewer bytes', stored(random, random.length + 1, crc32(random))],
    [
      'a deflated entry with other bytes than declared',
      [{ name: 'b.xml', open: chunked(text), method: 'deflate', size: text.length, crc32: 7 }] as ZipEntry[],
    ],
  ])('a source that yields %s than declared', async (_what, list) => {
    await expect(write('bad.zip', list)).rejects.toThrow(ZipEntryMismatch)
  })

  it('a stored stream without its size and CRC', async () => {
    await expect(write('bad.zip', [{ name: 'c', open: chunked(random), method: 'store' }])).rejects.toThrow(
      /needs its size and CRC-32 up front/,
    )
    await expect(
      write('bad.zip', [{ name: 'c', open: chunked(random), method: 'store', size: 1, crc32: -1 }]),
    ).rejects.toThrow(/not an unsigned 32-bit number/)
  })

  it('passes a source error on, and closes the source when its reader gives up', async () => {
    const failing = Readable.from(
      (async function* () {
        yield Buffer.from('a')
        throw new Error('disk gone')
      })(),
    )
    await expect(write('bad.zip', [{ name: 'd', open: () => failing, method: 'deflate' }])).rejects.toThrow(
      /disk gone/,
    )
    let closed = false
    const endless = new Readable({
      read() {
        this.push(random)
      },
      destroy(err, cb) {
        closed = true
        cb(err)
      },
    })
    const out = zipStream(() => [{ name: 'e', open: () => endless, method: 'store', size: 1e12, crc32: 0 }], {
      mtime,
    })
    for await (const _ of out) break
    await new Promise((r) => setImmediate(r))
    expect(closed).toBe(true)
  })
})

describe('zipStream over 4 GiB', () => {
  it.skipIf(noJava)(
    'streams a stored entry of 4 GiB + 1 MiB with zip64 fields that ZipInputStream reads',
    async () => {
      // a generated source, counted as it passes, never on disk
      const block = randomBytes(1024 * 1024)
      const blocks = 4097
      let crc = 0
      for (let i = 0; i < blocks; i++) crc = crc32(block, crc)
      const size = blocks * block.length
      const source = () =>
        Readable.from(
          (function* () {
            for (let i = 0; i < blocks; i++) yield block
          })(),
        )
      const zip = zipStream(
        () => [
          { name: 'mimetype', data: Buffer.from('application/vnd.etsi.asic-e+zip'), method: 'store' },
          { name: 'stor.bin', open: source, method: 'store', size, crc32: crc },
          { name: 'etter.xml', data: text, method: 'deflate' },
        ],
        { mtime },
      )
      const read = await javaReadZipStream(tmp.dir, zip)
      expect(read.map((e) => [e.name, e.method, e.size])).toEqual([
        ['mimetype', 0, 31],
        ['stor.bin', 0, size],
        ['etter.xml', 8, text.length],
      ])
    },
    60_000,
  )

  it('writes the zip64 end records when an offset passes 4 GiB (yauzl reads the directory)', async () => {
    // the data of a 4 GiB + 1 MiB entry is skipped here: only the head and the directory are kept
    const head = 30 + 'stor.bin'.length + 20
    const { size, crc, entries } = await zipAroundBigEntry(head, (big) => ({
      size: big.size,
      crc32: big.crc,
    }))
    expect(entries.map((e) => [e.fileName, e.uncompressedSize, e.relativeOffsetOfLocalHeader])).toEqual([
      ['stor.bin', size, 0],
      ['etter.xml', text.length, head + size],
    ])
    expect(crc).toBe(entries[0]!.crc32)
  }, 30_000)
})

describe('zipStream over 4 GiB, trailing sizes', () => {
  it('writes a zip64 descriptor and zip64 sizes in the directory for a trailed entry of 4 GiB + 1 MiB', async () => {
    // no zip64 extra in the local header: the size was not known when it was written
    const head = 30 + 'stor.bin'.length
    const { size, crc, bytes, entries } = await zipAroundBigEntry(head, () => ({ trailingSizes: true }))
    // the descriptor right after the data: signature, CRC, then 8-byte sizes
    expect([bytes.readUInt32LE(head), bytes.readUInt32LE(head + 4)]).toEqual([0x08074b50, crc])
    expect([bytes.readBigUInt64LE(head + 8), bytes.readBigUInt64LE(head + 16)]).toEqual([
      BigInt(size),
      BigInt(size),
    ])
    expect(
      entries.map((e) => [e.fileName, e.uncompressedSize, e.crc32, e.relativeOffsetOfLocalHeader]),
    ).toEqual([
      ['stor.bin', size, crc, 0],
      ['etter.xml', text.length, crc32(text), head + size + 24],
    ])
  }, 30_000)
})

/**
 * A zip of `stor.bin`, 4 GiB + 1 MiB of 1s streamed (its size and CRC for `stored` to declare, or not),
 * then `etter.xml`; only the bytes outside the big entry's data are kept (`bytes`: the first `head`, then
 * everything after the data), and `entries` are its directory as yauzl reads it.
 */
async function zipAroundBigEntry(
  head: number,
  stored: (big: { size: number; crc: number }) => Partial<ZipEntry>,
): Promise<{ size: number; crc: number; bytes: Buffer; entries: yauzl.Entry[] }> {
  const block = Buffer.alloc(1024 * 1024, 1)
  const blocks = 4097
  let crc = 0
  for (let i = 0; i < blocks; i++) crc = crc32(block, crc)
  const size = blocks * block.length
  const kept: Buffer[] = []
  let total = 0
  await pipeline(
    zipStream(
      () => [
        {
          name: 'stor.bin',
          open: () =>
            Readable.from(
              (function* () {
                for (let i = 0; i < blocks; i++) yield block
              })(),
            ),
          method: 'store',
          ...stored({ size, crc }),
        } as ZipEntry,
        { name: 'etter.xml', data: text, method: 'deflate' },
      ],
      { mtime },
    ),
    new Writable({
      write(chunk: Buffer, _e, done) {
        if (total < head) kept.push(chunk.subarray(0, head - total))
        if (total + chunk.length > head + size) kept.push(chunk.subarray(Math.max(0, head + size - total)))
        total += chunk.length
        done()
      },
    }),
  )
  const bytes = Buffer.concat(kept)
  const zip = await yauzl.fromRandomAccessReaderPromise(sparseReader(bytes, head, size), total, {
    lazyEntries: true,
  })
  const entries: yauzl.Entry[] = []
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      entries.push(e)
      zip.readEntry()
    })
    zip.on('end', resolve).on('error', reject)
    zip.readEntry()
  })
  zip.close()
  return { size, crc, bytes, entries }
}

/** A yauzl reader of a zip whose bytes [head, head + size) were a skipped entry's data, all 1s. */
function sparseReader(kept: Buffer, head: number, size: number): yauzl.RandomAccessReader {
  class Sparse extends yauzl.RandomAccessReader {
    override _readStreamForRange(start: number, end: number): Readable {
      const clamp = (at: number) => Math.min(Math.max(at, head), head + size)
      const map = (at: number) => (at <= head ? at : at >= head + size ? at - size : head)
      const skipped = Buffer.alloc(clamp(end) - clamp(start), 1)
      return Readable.from([
        Buffer.concat([
          kept.subarray(map(start), map(Math.min(end, head))),
          skipped,
          kept.subarray(map(Math.max(start, head + size)), map(end)),
        ]),
      ])
    }
  }
  return new Sparse()
}
