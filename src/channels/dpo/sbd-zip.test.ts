import { randomBytes } from 'node:crypto'
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import yazl from 'yazl'
import { makeTempDir } from '../../packaging/test-support.js'
import { readSbdZip, SbdZipError, StoredAsicSplit, writeSbdZip } from './sbd-zip.js'

// Zip bombs in the broker's sbd.zip (issue 13 item 5): refused as the bytes inflate, before more than
// a bounded amount reaches the disk, whatever the zip declares.

let tmp: ReturnType<typeof makeTempDir>
let out: string
beforeAll(() => {
  tmp = makeTempDir('sbd-zip-')
  out = join(tmp.dir, 'out')
  mkdirSync(out)
})
afterAll(() => tmp.cleanup())

const SBD = '{"standardBusinessDocumentHeader":{}}'
const BIG = 64 * 1024 * 1024

async function zipOf(entries: { name: string; data: Buffer }[], patch?: (b: Buffer) => Buffer) {
  const zip = new yazl.ZipFile()
  for (const e of entries) zip.addBuffer(e.data, e.name)
  zip.end()
  const parts: Buffer[] = []
  for await (const c of zip.outputStream as unknown as AsyncIterable<Buffer>) parts.push(c)
  const path = join(tmp.dir, `${Math.random().toString(36).slice(2)}.zip`)
  writeFileSync(path, patch ? patch(Buffer.concat(parts)) : Buffer.concat(parts))
  return path
}

async function refusal(path: string): Promise<SbdZipError> {
  const opts = { tempDir: out, maxAsicBytes: 2 * BIG, maxRatio: 100, newName: () => 'asic.cms' }
  try {
    await readSbdZip(path, opts)
  } catch (e) {
    expect(e).toBeInstanceOf(SbdZipError)
    return e as SbdZipError
  }
  return expect.fail('readSbdZip should have refused the delivery')
}

/** Rewrites every little-endian `from` (a size in the local header and central directory) as `to`. */
function declare(from: number, to: number): (b: Buffer) => Buffer {
  const a = Buffer.alloc(4)
  a.writeUInt32LE(from)
  const z = Buffer.alloc(4)
  z.writeUInt32LE(to)
  return (b) => Buffer.from(b.toString('hex').split(a.toString('hex')).join(z.toString('hex')), 'hex')
}

describe('readSbdZip against zip bombs', () => {
  it('refuses an honest 1000:1 entry before inflating it, and keeps the SBD read before it', async () => {
    const path = await zipOf([
      { name: 'sbd.json', data: Buffer.from(SBD) },
      { name: 'asic.zip', data: Buffer.alloc(BIG) },
    ])
    const e = await refusal(path)
    expect(e.message).toMatch(/asic\.zip inflates from \d+ to 67108864 bytes, more than 100:1/)
    expect(e.sbdJson).toBe(SBD)
    expect(readdirSync(out)).toEqual([])
  })

  it('stops an entry that inflates past the size it declares', async () => {
    // 64 MiB of zeros declared as 1 MiB: the ratio looks like 16:1
    const path = await zipOf([{ name: 'asic.zip', data: Buffer.alloc(BIG) }], declare(BIG, 1024 * 1024))
    expect((await refusal(path)).message).toMatch(/too many bytes|inflates to more than/)
    expect(readdirSync(out)).toEqual([])
  })

  it('refuses a second asic.zip or sbd.json instead of keeping one of them', async () => {
    const two = await zipOf([
      { name: 'sbd.json', data: Buffer.from(SBD) },
      { name: 'asic.zip', data: Buffer.from('one') },
      { name: 'asic.zip', data: Buffer.from('two') },
    ])
    expect((await refusal(two)).message).toMatch(/asic\.zip twice/)
    const sbds = await zipOf([
      { name: 'sbd.json', data: Buffer.from(SBD) },
      { name: 'sbd.json', data: Buffer.from(SBD) },
    ])
    expect((await refusal(sbds)).message).toMatch(/sbd\.json twice/)
    expect(readdirSync(out)).toEqual([])
  })
})

describe('writeSbdZip', () => {
  const spool = async (zip: Readable) => {
    const path = join(tmp.dir, `${Math.random().toString(36).slice(2)}.zip`)
    await pipeline(zip, createWriteStream(path))
    return path
  }
  const opts = () => ({ tempDir: out, maxAsicBytes: 2 * BIG, maxRatio: 100, newName: () => 'rt.cms' })

  it('is read back by readSbdZip: the SBD, and the CMS stored byte for byte', async () => {
    const cms = randomBytes(300_000)
    const path = await spool(
      writeSbdZip(SBD, () => Readable.from([cms.subarray(0, 1000), cms.subarray(1000)])),
    )
    const read = await readSbdZip(path, opts())
    expect(read.sbdJson).toBe(SBD)
    expect(readFileSync(read.asic!.tempPath).equals(cms)).toBe(true)
    expect(read.asic!.size).toBe(cms.length)
    rmSync(read.asic!.tempPath)
    // the SBD alone when there are no files
    expect(await readSbdZip(await spool(writeSbdZip(SBD, null)), opts())).toEqual({
      sbdJson: SBD,
      asic: null,
    })
  })

  it('ends with the error of the CMS stream', async () => {
    const failing = () =>
      Readable.from(
        (async function* () {
          yield Buffer.from('a')
          throw new Error('the key is gone')
        })(),
      )
    await expect(spool(writeSbdZip(SBD, failing))).rejects.toThrow(/the key is gone/)
  })
})

describe('StoredAsicSplit', () => {
  /** streams `zip` in 7-byte pieces, then the rest, through the split to a file */
  async function download(zip: Buffer) {
    const path = join(tmp.dir, `${Math.random().toString(36).slice(2)}.zip`)
    const split = new StoredAsicSplit()
    const pieces = [...Array(20).keys()].map((i) => zip.subarray(i * 7, i * 7 + 7))
    await pipeline(Readable.from([...pieces, zip.subarray(140)]), split, createWriteStream(path))
    return { path, head: split.head }
  }
  const collect = async (r: Readable) => Buffer.concat(await r.toArray())
  const opts = (head: Buffer) => ({
    tempDir: out,
    maxAsicBytes: 2 * BIG,
    maxRatio: 100,
    newName: () => 'split.cms',
    head,
    sync: true,
  })

  it("makes the download's file the CMS: the head held back, the directory cut off", async () => {
    const cms = randomBytes(200_000)
    const zip = await collect(writeSbdZip(SBD, () => Readable.from([cms])))
    const { path, head } = await download(zip)
    expect(head.equals(zip.subarray(0, zip.indexOf(cms)))).toBe(true)
    const read = await readSbdZip(path, opts(head))
    expect(read.sbdJson).toBe(SBD)
    expect(read.asic).toEqual({ tempPath: path, size: cms.length })
    expect(readFileSync(path).equals(cms)).toBe(true)
  })

  it('splits nothing where it cannot be sure, and the zip is read as before', async () => {
    const cms = randomBytes(50_000)
    // asic.zip deflated, as the reference writes it
    const deflated = readFileSync(
      await zipOf([
        { name: 'sbd.json', data: Buffer.from(SBD) },
        { name: 'asic.zip', data: cms },
      ]),
    )
    // sbd.json with a data descriptor before it
    const yz = new yazl.ZipFile()
    yz.addReadStream(Readable.from([Buffer.from(SBD)]), 'sbd.json')
    yz.addBuffer(cms, 'asic.zip', { compress: false })
    yz.end()
    const described = await collect(yz.outputStream as unknown as Readable)
    for (const zip of [deflated, described, Buffer.from('not a zip at all')]) {
      const { path, head } = await download(zip)
      expect(head.length).toBe(0)
      expect(readFileSync(path).equals(zip)).toBe(true)
    }
    for (const zip of [deflated, described]) {
      const { path, head } = await download(zip)
      const read = await readSbdZip(path, opts(head))
      expect(read.sbdJson).toBe(SBD)
      expect(read.asic!.tempPath).not.toBe(path)
      expect(readFileSync(read.asic!.tempPath).equals(cms)).toBe(true)
      rmSync(read.asic!.tempPath)
    }
  })
})
