import { execFileSync } from 'node:child_process'
import { createWriteStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import yazl from 'yazl'
import { AsicError, type AsicErrorReason, type ReadAsicOptions, readAsic, writeAsic } from './asic.js'
import { makeIdentity, makeTempDir, openssl, type TestIdentity } from './test-support.js'

let tmp: ReturnType<typeof makeTempDir>
let org: TestIdentity
let asicPath: string
let opts: ReadAsicOptions

const docs = () => [
  {
    filename: 'vedlegg.pdf',
    mimeType: 'application/pdf',
    primary: false,
    open: () => Readable.from([Buffer.alloc(50_000, 7)]),
  },
  {
    filename: 'arkivmelding.xml',
    mimeType: 'application/xml',
    primary: true,
    open: () => Readable.from([Buffer.from('<arkivmelding/>')]),
  },
]

beforeAll(async () => {
  tmp = makeTempDir('asic-test-')
  org = makeIdentity(tmp.dir, 'org')
  opts = {
    maxEntries: 20,
    maxEntryBytes: 10_000_000,
    maxTotalBytes: 20_000_000,
    maxRatio: 100,
    tempDir: join(tmp.dir, 'out'),
  }
  mkdirSync(opts.tempDir)
  asicPath = join(tmp.dir, 'a.asice')
  const signer = { keyPem: org.keyPem, certPem: org.certPem }
  await pipeline(
    writeAsic({ sender: '0192:910077473', receiver: '0192:910075918', documents: docs(), signer }),
    createWriteStream(asicPath),
  )
})
afterAll(() => tmp.cleanup())

function listEntries(path: string): string[] {
  return execFileSync('unzip', ['-Z1', path]).toString().trim().split('\n')
}

function entryBytes(path: string, name: string): Buffer {
  return execFileSync('unzip', ['-p', path, name], { maxBuffer: 64 * 1024 * 1024 })
}

/**
 * A zip made by hand with yazl, for the attacks. yazl refuses unsafe names, so an entry can carry
 * `raw`, a name of the same length patched into the local header and central directory afterwards.
 */
async function craft(
  name: string,
  entries: { name: string; raw?: string; data: Buffer; compress?: boolean }[],
): Promise<string> {
  const zip = new yazl.ZipFile()
  for (const e of entries)
    zip.addBuffer(e.data, e.name, { compress: e.compress ?? true, forceDosTimestamp: true })
  zip.end()
  const parts: Buffer[] = []
  for await (const c of zip.outputStream as unknown as AsyncIterable<Buffer>) parts.push(c)
  let bytes = Buffer.concat(parts)
  for (const e of entries.filter((x) => x.raw)) {
    const hex = bytes
      .toString('hex')
      .split(Buffer.from(e.name).toString('hex'))
      .join(Buffer.from(e.raw!).toString('hex'))
    bytes = Buffer.from(hex, 'hex')
  }
  const path = join(tmp.dir, name)
  writeFileSync(path, bytes)
  return path
}

async function refusal(
  path: string | Readable | Buffer,
  o: Partial<ReadAsicOptions> = {},
): Promise<AsicErrorReason> {
  try {
    await readAsic(path, { ...opts, ...o })
  } catch (e) {
    expect(e).toBeInstanceOf(AsicError)
    return (e as AsicError).reason
  }
  return expect.fail('readAsic should have refused the container')
}

describe('writeAsic', () => {
  it('writes the reference layout', async () => {
    const entries = listEntries(asicPath)
    expect(entries.map((e) => e.replace(/signature-[0-9a-f-]{36}/, 'signature-UUID'))).toEqual([
      'mimetype',
      'manifest.xml',
      'arkivmelding.xml',
      'vedlegg.pdf',
      'META-INF/ASiCManifest.xml',
      'META-INF/signature-UUID.p7s',
      'META-INF/manifest.xml',
    ])
    const head = readFileSync(asicPath)
    expect([head.readUInt16LE(8), head.readUInt16LE(28)]).toEqual([0, 0]) // stored, no extra field
    expect(
      readFileSync(asicPath)
        .subarray(30, 38 + 31)
        .toString(),
    ).toBe('mimetypeapplication/vnd.etsi.asic-e+zip')
    expect(readFileSync(asicPath).toString('latin1')).toMatch(/mimetype=application\/vnd\.etsi\.asic-e\+zip$/)
    const manifest = entryBytes(asicPath, 'manifest.xml').toString()
    expect(manifest).toContain(
      '<mottaker><organisasjon authority="iso6523-actorid-upis">0192:910075918</organisasjon></mottaker>',
    )
    expect(manifest).toContain('<hoveddokument href="arkivmelding.xml" mime="application/xml">')
  })

  it('makes a signature that openssl cms -verify accepts', async () => {
    const sigName = listEntries(asicPath).find((e) => e.endsWith('.p7s'))!
    const manifest = join(tmp.dir, 'ASiCManifest.xml')
    const sig = join(tmp.dir, 'sig.p7s')
    writeFileSync(manifest, entryBytes(asicPath, 'META-INF/ASiCManifest.xml'))
    writeFileSync(sig, entryBytes(asicPath, sigName))
    const args = [
      'cms',
      '-verify',
      '-binary',
      '-content',
      manifest,
      '-inform',
      'DER',
      '-in',
      sig,
      '-noverify',
      '-out',
      '/dev/null',
    ]
    expect(() => openssl(args)).not.toThrow()
    writeFileSync(manifest, Buffer.concat([readFileSync(manifest), Buffer.from(' ')]))
    expect(() => openssl(args)).toThrow(/verification failure|digest failure/i)
  })

  it('fails the stream when a document source fails', async () => {
    const bad = [
      {
        filename: 'x.pdf',
        mimeType: 'application/pdf',
        primary: true,
        open: () =>
          Readable.from(
            (async function* () {
              yield Buffer.from('a')
              throw new Error('disk gone')
            })(),
          ),
      },
    ]
    const out = writeAsic({
      sender: 'a',
      receiver: 'b',
      documents: bad,
      signer: { keyPem: org.keyPem, certPem: org.certPem },
    })
    await expect(pipeline(out, createWriteStream(join(tmp.dir, 'bad.asice')))).rejects.toThrow(/disk gone/)
  })
})

describe('readAsic', () => {
  it('reads our container back: manifest, files in order, digests and signature', async () => {
    const r = await readAsic(Readable.from([readFileSync(asicPath)]), opts)
    expect(r.signatureValid).toBe(true)
    expect(r.signerCertPem).toContain('BEGIN CERTIFICATE')
    expect(r.manifest).toEqual({
      mottaker: '0192:910075918',
      avsender: '0192:910077473',
      hoveddokument: { href: 'arkivmelding.xml', mime: 'application/xml', tittel: 'Hoveddokument' },
    })
    expect(r.files.map((f) => [f.filename, f.mimeType, f.size])).toEqual([
      ['manifest.xml', 'application/xml', expect.any(Number)],
      ['arkivmelding.xml', 'application/xml', 15],
      ['vedlegg.pdf', 'application/pdf', 50_000],
    ])
    expect(readFileSync(r.files[1]!.path, 'utf8')).toBe('<arkivmelding/>')
  })

  it('refuses a document whose digest does not match, and reports a broken signature', async () => {
    const original = listEntries(asicPath).map((n) => ({ name: n, data: entryBytes(asicPath, n) }))
    const swapped = original.map((e) =>
      e.name === 'arkivmelding.xml' ? { ...e, data: Buffer.from('<forged/>') } : e,
    )
    expect(await refusal(await craft('forged.zip', swapped))).toBe('digest')
    const badSig = original.map((e) =>
      e.name.endsWith('.p7s') ? { ...e, data: Buffer.from('nonsense') } : e,
    )
    const r = await readAsic(await craft('badsig.zip', badSig), opts)
    expect(r.signatureValid).toBe(false)
  })

  const mt = { name: 'mimetype', data: Buffer.from('application/vnd.etsi.asic-e+zip'), compress: false }
  const attacks: [string, () => Promise<string>, AsicErrorReason][] = [
    [
      'path traversal',
      () => craft('t1.zip', [mt, { name: 'XX/XX/etc/evil', raw: '../../etc/evil', data: Buffer.from('x') }]),
      'unsafe-name',
    ],
    [
      'a backslash',
      () => craft('t2.zip', [mt, { name: 'aQQQQb', raw: 'a\\..\\b', data: Buffer.from('x') }]),
      'unsafe-name',
    ],
    [
      'an absolute name',
      () => craft('t3.zip', [mt, { name: 'Xetc/passwd', raw: '/etc/passwd', data: Buffer.from('x') }]),
      'unsafe-name',
    ],
    [
      'a duplicate name',
      () =>
        craft('t4.zip', [
          mt,
          { name: 'a.xml', data: Buffer.from('1') },
          { name: 'a.xml', data: Buffer.from('2') },
        ]),
      'duplicate',
    ],
    [
      'a zip bomb',
      () => craft('t5.zip', [mt, { name: 'zeros.bin', data: Buffer.alloc(9_000_000) }]),
      'limit',
    ],
    [
      'too many entries',
      () =>
        craft(
          't6.zip',
          Array.from({ length: 25 }, (_, i) => ({ name: `f${i}`, data: Buffer.from('x') })),
        ),
      'limit',
    ],
    [
      'an oversized entry',
      () => craft('t7.zip', [mt, { name: 'big.bin', data: Buffer.alloc(10_000_001, 1), compress: false }]),
      'limit',
    ],
    [
      'not a zip',
      async () => {
        const p = join(tmp.dir, 't8.zip')
        writeFileSync(p, 'hello')
        return p
      },
      'malformed',
    ],
    ['no mimetype', () => craft('t9.zip', [{ name: 'a.xml', data: Buffer.from('x') }]), 'malformed'],
  ]
  for (const [what, make, reason] of attacks) {
    it(`refuses ${what}`, async () => {
      expect(await refusal(await make())).toBe(reason)
    })
  }

  it('when only checking a file or bytes, holds what the checks read in memory and makes no folder', async () => {
    // a temp folder that does not exist: anything written there would fail
    const checkOnly = { ...opts, discardData: true, tempDir: join(tmp.dir, 'missing') }
    for (const source of [asicPath, readFileSync(asicPath)]) {
      const r = await readAsic(source, checkOnly)
      expect(r.dir).toBeNull()
      expect(r.signatureValid).toBe(true)
      expect(r.manifest?.hoveddokument?.href).toBe('arkivmelding.xml')
      expect(r.files.map((f) => [f.filename, f.size, f.path])).toEqual([
        ['manifest.xml', expect.any(Number), ''],
        ['arkivmelding.xml', 15, ''],
        ['vedlegg.pdf', 50_000, ''],
      ])
    }
    // a stream is still spooled to a file there
    await expect(readAsic(Readable.from([readFileSync(asicPath)]), checkOnly)).rejects.toThrow(/ENOENT/)
  })

  it('refuses metadata entries that would hold more than 8 MiB in memory together, when only checking', async () => {
    const meta = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        name: `META-INF/pad${i}.bin`,
        data: Buffer.alloc(1_000_000, i),
      }))
    const nine = await craft('meta9.zip', [mt, ...meta(9)])
    expect(await refusal(nine, { discardData: true })).toBe('limit')
    await expect(readAsic(nine, { ...opts, discardData: true })).rejects.toThrow(/metadata entries hold more/)
    // eight fit: refused only for what the container lacks
    expect(await refusal(await craft('meta8.zip', [mt, ...meta(8)]), { discardData: true })).toBe('malformed')
    // written to files when not only checking
    expect(await refusal(nine)).toBe('malformed')
  })

  it('refuses more in total than maxTotalBytes, and leaves no files behind', async () => {
    const path = await craft('total.zip', [
      mt,
      { name: 'a', data: Buffer.alloc(600, 1) },
      { name: 'b', data: Buffer.alloc(600, 2) },
    ])
    const before = readdirSync(opts.tempDir).length
    expect(await refusal(path, { maxTotalBytes: 1000 })).toBe('limit')
    expect(await refusal(Readable.from([readFileSync(path)]), { maxTotalBytes: 1000 })).toBe('limit')
    expect(readdirSync(opts.tempDir).length).toBe(before)
  })
})
