import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveBytes } from '../../test/support/live-memory.js'
import { AsicWriteError } from './asic.js'
import { CmsError } from './cms.js'
import type { DpiAsicDocument } from './dpi-asic.js'
import { type WriteDpiPackageOptions, writeDpiPackage } from './dpi-package.js'
import { makeIdentity, makeTempDir, openssl, opensslAvailable, type TestIdentity } from './test-support.js'

const unzipAvailable = spawnSync('unzip', ['-v']).error === undefined

const doc = (filename: string, open: () => Readable, primary = false): DpiAsicDocument => ({
  filename,
  mimeType: 'application/pdf',
  title: null,
  primary,
  open,
})

describe.skipIf(!opensslAvailable() || !unzipAvailable)('writeDpiPackage', () => {
  const tmp = makeTempDir('dpi-package-')
  let org: TestIdentity
  let mailbox: TestIdentity
  let tempDir: string
  const options = (more: Partial<WriteDpiPackageOptions> = {}): WriteDpiPackageOptions => ({
    manifest: { postkasseadresse: 'ola.digital#1A2B', avsender: '0192:910077473', language: 'NO' },
    documents: [
      doc('vedtak.pdf', () => Readable.from([Buffer.from('%PDF-1.4 vedtak')]), true),
      doc('vedlegg æ.pdf', () => Readable.from([Buffer.from('%PDF-1.4 vedlegg')])),
    ],
    signer: { keyPem: org.keyPem, certPem: org.certPem },
    now: () => new Date(),
    recipientCertPem: mailbox.certPem,
    tempDir,
    ...more,
  })
  const leftovers = () => readdirSync(tempDir)

  beforeAll(() => {
    org = makeIdentity(tmp.dir, 'org')
    mailbox = makeIdentity(tmp.dir, 'mailbox')
    tempDir = join(tmp.dir, 'temp')
    mkdirSync(tempDir)
  })
  afterAll(() => tmp.cleanup())

  it('makes its temp folder when it is missing', async () => {
    const missing = join(tmp.dir, 'not-yet', 'temp')
    const pkg = await writeDpiPackage(options({ tempDir: missing }))
    expect(pkg.path.startsWith(missing)).toBe(true)
    expect(statSync(pkg.path).size).toBe(pkg.size)
  })

  it('writes CMS that openssl decrypts to the ASiC-E, and its SHA-256 is what openssl dgst says', async () => {
    const pkg = await writeDpiPackage(options())
    expect(pkg.path.startsWith(tempDir)).toBe(true)
    expect(statSync(pkg.path).size).toBe(pkg.size)
    const dgst = openssl(['dgst', '-sha256', '-binary', pkg.path]).toString('base64')
    expect(pkg.sha256).toBe(dgst)
    const zip = join(tmp.dir, 'decrypted.asice')
    openssl([
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      pkg.path,
      '-recip',
      mailbox.certPath,
      '-inkey',
      mailbox.keyPath,
      '-binary',
      '-out',
      zip,
    ])
    const list = spawnSync('unzip', ['-l', zip]).stdout.toString()
    for (const name of ['mimetype', 'manifest.xml', 'vedtak.pdf', 'vedlegg æ.pdf', 'META-INF/signatures.xml'])
      expect(list).toContain(name)
    expect(list).not.toContain('META-INF/manifest.xml')
    // RSA-OAEP with SHA-256 as the key encryption (the reference's choice)
    const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', pkg.path]).toString()
    expect(printed).toMatch(/rsaesOaep/)
    expect(printed).toMatch(/sha256/)
    expect(printed).toMatch(/aes-256-cbc/)
    // another key cannot open it (named by its certificate: without -recip, openssl tries the key on
    // every recipient and, against padding-oracle attacks, goes on with a random content key, whose
    // output passes the padding check about once in 256 runs and exits 0 with garbage)
    const r = spawnSync('openssl', [
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      pkg.path,
      '-recip',
      org.certPath,
      '-inkey',
      org.keyPath,
    ])
    expect(r.status).not.toBe(0)
    await pkg.remove()
    expect(existsSync(pkg.path)).toBe(false)
    await pkg.remove()
  })

  it('leaves no file behind when a document fails, the signal aborts, or the input is refused', async () => {
    const broken = doc(
      'vedtak.pdf',
      () =>
        new Readable({
          read() {
            this.destroy(new Error('disk gone'))
          },
        }),
      true,
    )
    await expect(writeDpiPackage(options({ documents: [broken] }))).rejects.toThrow('disk gone')
    expect(leftovers()).toEqual([])

    const controller = new AbortController()
    let opened = 0
    const endless = doc(
      'vedtak.pdf',
      () => {
        opened++
        return new Readable({
          read() {
            this.push(randomBytes(64 * 1024))
          },
        })
      },
      true,
    )
    const pending = writeDpiPackage(options({ documents: [endless], signal: controller.signal }))
    setTimeout(() => controller.abort(), 50)
    await expect(pending).rejects.toThrow(/abort/i)
    expect(opened).toBe(1)
    expect(leftovers()).toEqual([])

    await expect(writeDpiPackage(options({ recipientCertPem: 'not a certificate' }))).rejects.toBeInstanceOf(
      CmsError,
    )
    await expect(
      writeDpiPackage(options({ documents: [doc('a.b', () => Readable.from([]), true)] })),
    ).rejects.toBeInstanceOf(AsicWriteError)
    expect(leftovers()).toEqual([])
  })

  it('takes a 50 MB document with a memory growth far under its size', async () => {
    const TOTAL = 50 * 1024 * 1024
    // random, so deflate cannot shrink it to nothing; a 1 MiB block repeated is beyond deflate's 32 KiB window
    const block = randomBytes(1024 * 1024)
    const hash = createHash('sha256')
    for (let i = 0; i < TOTAL / block.length; i++) hash.update(block)
    const expected = hash.digest('hex')
    function* pieces(): Generator<Buffer> {
      for (let i = 0; i < TOTAL / block.length; i++)
        for (let j = 0; j < block.length; j += 64 * 1024) yield block.subarray(j, j + 64 * 1024)
    }
    const live = liveBytes()
    const start = live()
    let peak = start
    const sampler = setInterval(() => {
      peak = Math.max(peak, live())
    }, 100)
    let pkg: Awaited<ReturnType<typeof writeDpiPackage>>
    try {
      pkg = await writeDpiPackage(
        options({ documents: [doc('stor.pdf', () => Readable.from(pieces()), true)] }),
      )
    } finally {
      clearInterval(sampler)
    }
    peak = Math.max(peak, live())
    // holding the document once would add 50 MiB
    expect(peak - start).toBeLessThan(16 * 1024 * 1024)
    expect(pkg.size).toBeGreaterThan(TOTAL)
    const fileHash = createHash('sha256')
    for await (const chunk of createReadStream(pkg.path)) fileHash.update(chunk as Buffer)
    expect(fileHash.digest('base64')).toBe(pkg.sha256)
    // the document inside is the one that went in
    const zip = join(tmp.dir, 'big.asice')
    openssl([
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      pkg.path,
      '-recip',
      mailbox.certPath,
      '-inkey',
      mailbox.keyPath,
      '-binary',
      '-out',
      zip,
    ])
    const inside = spawnSync('unzip', ['-p', zip, 'stor.pdf'], { maxBuffer: 128 * 1024 * 1024 }).stdout
    expect(createHash('sha256').update(inside).digest('hex')).toBe(expected)
    await pkg.remove()
  }, 120_000)
})
