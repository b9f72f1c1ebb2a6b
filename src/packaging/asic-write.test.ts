// writeAsic's choice per document (stored when it does not compress, deflated when it does), checked
// with the readers a receiver may use: Java's ZipInputStream (which refuses a stored entry with a data
// descriptor), unzip and readAsic; and a source that changes between the two readings.

import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { crc32 } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import yauzl from 'yauzl'
import { type AsicDocument, readAsic, writeAsic } from './asic.js'
import { extractEntries, isMeta, RATIO_FLOOR } from './asic-entries.js'
import { makeIdentity, makeTempDir, type TestIdentity } from './test-support.js'
import { scannedZip, ZipScanner } from './zip-scan.js'
import { ZipEntryMismatch } from './zip-writer.js'
import { javaMissing, javaReadZip } from './zip-writer-java.js'

let tmp: ReturnType<typeof makeTempDir>
let org: TestIdentity
let path: string
const noJava = javaMissing()
if (noJava) console.warn(`asic-write tests: the ZipInputStream check is skipped: ${noJava}`)

// incompressible, as PDFs, images and zips mostly are; in 64 KiB pieces as a file is read
const large = randomBytes(8 * 1024 * 1024)
const xml = Buffer.from('<arkivmelding><tittel>Vedtak</tittel></arkivmelding>\n'.repeat(2000))
const pieces = (b: Buffer) => () =>
  Readable.from(
    (function* () {
      for (let at = 0; at < b.length; at += 64 * 1024) yield b.subarray(at, at + 64 * 1024)
    })(),
  )

const docs = (): AsicDocument[] => [
  { filename: 'arkivmelding.xml', mimeType: 'application/xml', primary: true, open: pieces(xml) },
  { filename: 'stort vedlegg.pdf', mimeType: 'application/pdf', primary: false, open: pieces(large) },
  { filename: 'tom.txt', mimeType: 'text/plain', primary: false, open: () => Readable.from([]) },
]

const write = (documents: AsicDocument[], to: string) =>
  pipeline(
    writeAsic({
      sender: '0192:910077473',
      receiver: '0192:910075918',
      documents,
      signer: { keyPem: org.keyPem, certPem: org.certPem },
    }),
    createWriteStream(to),
  )

beforeAll(async () => {
  tmp = makeTempDir('asic-write-test-')
  org = makeIdentity(tmp.dir, 'org')
  path = join(tmp.dir, 'large.asice')
  await write(docs(), path)
})
afterAll(() => tmp.cleanup())

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

const readBack = (zipPath: string, tempDir: string) =>
  readAsic(zipPath, {
    maxEntries: 20,
    maxEntryBytes: 64 * 1024 * 1024,
    maxTotalBytes: 64 * 1024 * 1024,
    maxRatio: 100,
    tempDir,
  })

async function methods(zipPath: string): Promise<Record<string, number>> {
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true })
  const found: Record<string, number> = {}
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      found[e.fileName.replace(/signature-[0-9a-f-]{36}/, 'signature-UUID')] = e.compressionMethod
      zip.readEntry()
    })
    zip.on('end', resolve).on('error', reject)
    zip.readEntry()
  })
  zip.close()
  return found
}

describe('writeAsic stores what does not compress', () => {
  it('stores the incompressible document and the empty one, deflates XML', async () => {
    expect(await methods(path)).toEqual({
      mimetype: 0,
      'manifest.xml': 8,
      'arkivmelding.xml': 8,
      'stort vedlegg.pdf': 0,
      'tom.txt': 0,
      'META-INF/ASiCManifest.xml': 8,
      'META-INF/signature-UUID.p7s': 8,
      'META-INF/manifest.xml': 8,
    })
    expect(execFileSync('unzip', ['-t', path]).toString()).toMatch(/No errors detected/)
  })

  it.skipIf(noJava)("is read by Java's ZipInputStream, the documents' bytes as written", () => {
    const read = javaReadZip(tmp.dir, path)
    const byName = new Map(read.map((e) => [e.name, e]))
    expect([...byName.keys()].slice(0, 5)).toEqual([
      'mimetype',
      'manifest.xml',
      'arkivmelding.xml',
      'stort vedlegg.pdf',
      'tom.txt',
    ])
    expect(byName.get('stort vedlegg.pdf')).toEqual({
      name: 'stort vedlegg.pdf',
      method: 0,
      size: large.length,
      sha256: sha256(large),
    })
    expect(byName.get('arkivmelding.xml')).toMatchObject({ method: 8, sha256: sha256(xml) })
  })

  it('is read back by readAsic with its signature and digests', async () => {
    const outDir = join(tmp.dir, 'out')
    mkdirSync(outDir)
    const r = await readBack(path, outDir)
    expect(r.signatureValid).toBe(true)
    expect(r.files.map((f) => f.filename)).toContain('stort vedlegg.pdf')
  })

  it('is read on receipt in the one pass as it streams, every entry where the directory finds it (zip-scan.ts)', async () => {
    const scanner = new ZipScanner({
      maxEntries: 20,
      maxEntryBytes: 64 * 1024 * 1024,
      maxTotalBytes: 64 * 1024 * 1024,
      maxRatio: 100,
      ratioFloor: RATIO_FLOOR,
      hold: (name) => (isMeta(name) ? 1024 * 1024 : 0),
      maxHeldBytes: 8 * 1024 * 1024,
      tailBytes: 2 * 1024 * 1024,
    })
    await pipeline(createReadStream(path, { highWaterMark: 256 * 1024 }), scanner)
    const scan = scanner.result()
    const limits = {
      maxEntries: 20,
      maxEntryBytes: 64 * 1024 * 1024,
      maxTotalBytes: 64 * 1024 * 1024,
      maxRatio: 100,
    }
    const digests = (found: Map<string, { sha256: Buffer }>) =>
      [...found].map(([name, e]) => [name, e.sha256.toString('hex')])
    const fromFile = await extractEntries(path, { ...limits, pathFor: () => null })
    // no entry is NotInStreamOrder: the deflated ones with their data descriptors, the stored one sized in its header
    const fromScan = await extractEntries(scannedZip(scan), {
      ...limits,
      pathFor: (name) => (isMeta(name) ? 'memory' : null),
      scanned: scan.entries,
    })
    expect(digests(fromScan)).toEqual(digests(fromFile))
    expect(fromScan.get('stort vedlegg.pdf')?.sha256.toString('hex')).toBe(sha256(large))
  })

  it('fails when a source gives other bytes the second time (a file replaced while packing)', async () => {
    let opened = 0
    const changing: AsicDocument = {
      filename: 'vedlegg.pdf',
      mimeType: 'application/pdf',
      primary: false,
      open: () => {
        opened++
        return Readable.from([opened === 1 ? large.subarray(0, 100_000) : randomBytes(100_000)])
      },
    }
    await expect(write([docs()[0]!, changing], join(tmp.dir, 'changed.asice'))).rejects.toThrow(
      ZipEntryMismatch,
    )
    expect(opened).toBe(2)
  })

  it('with what the upload counted (`known`), reads a document only as far as its deflate decision, and writes the same container', async () => {
    const read: Record<string, number> = {}
    const counted = (d: AsicDocument, b: Buffer): AsicDocument => ({
      ...d,
      open: () => {
        const source = pieces(b)()
        source.on('data', (c: Buffer) => {
          read[d.filename] = (read[d.filename] ?? 0) + c.length
        })
        return source
      },
      known: { size: b.length, crc32: crc32(b), sha256: createHash('sha256').update(b).digest() },
    })
    const [arkivmelding, vedlegg, tom] = docs()
    const knownPath = join(tmp.dir, 'known.asice')
    await write(
      [counted(arkivmelding!, xml), counted(vedlegg!, large), counted(tom!, Buffer.alloc(0))],
      knownPath,
    )
    // the sample (one 64 KiB piece) and the writing: not the whole document twice
    expect(read['stort vedlegg.pdf']).toBe(64 * 1024 + large.length)
    expect(read['arkivmelding.xml']).toBe(Math.min(xml.length, 64 * 1024) + xml.length)
    expect(await methods(knownPath)).toEqual(await methods(path))
    expect(execFileSync('unzip', ['-t', knownPath]).toString()).toMatch(/No errors detected/)
    const r = await readBack(knownPath, tmp.dir)
    expect(r.signatureValid).toBe(true)
    expect(r.files.find((f) => f.filename === 'stort vedlegg.pdf')).toMatchObject({ sha256: sha256(large) })
  })

  it('with `known`, fails when the stored file no longer holds what was counted', async () => {
    const other = randomBytes(large.length)
    const stale: AsicDocument = {
      ...docs()[1]!,
      open: pieces(other),
      known: { size: large.length, crc32: crc32(large), sha256: createHash('sha256').update(large).digest() },
    }
    await expect(write([docs()[0]!, stale], join(tmp.dir, 'stale.asice'))).rejects.toThrow(ZipEntryMismatch)
    const shorter: AsicDocument = { ...stale, open: pieces(large.subarray(1)) }
    await expect(write([docs()[0]!, shorter], join(tmp.dir, 'short.asice'))).rejects.toThrow(ZipEntryMismatch)
  })
})
