import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import yazl from 'yazl'
import { liveMemorySampler } from '../../test/support/live-memory.js'
import { signDetached } from './asic-signature.js'
import {
  ArrivalScan,
  type AsicVerdict,
  type ScannedCms,
  SMALL_CMS_BYTES,
  verifyEncryptedAsic,
} from './asic-verify.js'
import { ASIC_MIMETYPE, asicManifestXml } from './asic-xml.js'
import {
  makeIdentity,
  makeTempDir,
  openssl,
  opensslCmsSign,
  reverseDirectory,
  type TestIdentity,
} from './test-support.js'

// The check on receipt against containers made by OpenSSL, not by our writer: the reference signs
// with SHA1withRSA through BouncyCastle and encrypts with RSA-OAEP, which `openssl cms` does alike.

let tmp: ReturnType<typeof makeTempDir>
let sender: TestIdentity
let other: TestIdentity
let receiver: TestIdentity
let tempDir: string

beforeAll(() => {
  tmp = makeTempDir('asic-verify-')
  sender = makeIdentity(tmp.dir, 'sender')
  other = makeIdentity(tmp.dir, 'other')
  receiver = makeIdentity(tmp.dir, 'receiver')
  tempDir = join(tmp.dir, 'work')
  mkdirSync(tempDir)
})
afterAll(() => tmp.cleanup())

const doc = { name: 'vedtak.pdf', data: Buffer.from('%PDF-1.4 vedtak') }
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest()

/** `openssl cms -sign` over the manifest, SHA-1 as the reference's content signer */
const opensslSign = (manifest: Buffer, who: TestIdentity, md = 'sha1') =>
  opensslCmsSign(tmp.dir, manifest, who, { md })

/** `described`: the document added from a stream, sized by a data descriptor after its data */
async function container(
  sign: (manifest: Buffer) => Promise<Buffer> | Buffer,
  data = doc.data,
  listed = sha256(doc.data),
  o: { described?: 'store' | 'deflate' } = {},
) {
  const zip = new yazl.ZipFile()
  zip.addBuffer(Buffer.from(ASIC_MIMETYPE), 'mimetype', { compress: false })
  if (o.described) zip.addReadStream(Readable.from([data]), doc.name, { compress: o.described === 'deflate' })
  else zip.addBuffer(data, doc.name)
  const manifest = asicManifestXml(
    [{ uri: doc.name, mimeType: 'application/pdf', sha256: listed }],
    'META-INF/signature.p7s',
  )
  zip.addBuffer(manifest, 'META-INF/ASiCManifest.xml')
  zip.addBuffer(await sign(manifest), 'META-INF/signature.p7s')
  zip.end()
  const parts: Buffer[] = []
  for await (const c of zip.outputStream as unknown as AsyncIterable<Buffer>) parts.push(c)
  return Buffer.concat(parts)
}

/** `openssl cms -encrypt`, RSA-OAEP and AES-256-CBC as the reference, DER with definite lengths */
function opensslEncrypt(plain: Buffer, to: TestIdentity): string {
  const inPath = join(tmp.dir, 'asic.zip')
  const out = join(tmp.dir, `asic-${Math.random().toString(36).slice(2)}.cms`)
  writeFileSync(inPath, plain)
  openssl([
    'cms',
    '-encrypt',
    '-binary',
    '-aes-256-cbc',
    '-recip',
    to.certPath,
    '-keyopt',
    'rsa_padding_mode:oaep',
    '-in',
    inPath,
    '-outform',
    'DER',
    '-out',
    out,
  ])
  return out
}

function verifyOnce(
  cmsPath: string,
  expected: string | null | Error,
  cmsSize?: number,
  maxBytes = 10_000_000,
): Promise<AsicVerdict> {
  return verifyEncryptedAsic({
    cmsPath,
    cmsSize,
    keys: { keyPem: receiver.keyPem, certPem: receiver.certPem },
    tempDir,
    maxBytes,
    maxRatio: 100,
    maxEntries: 100,
    expectedSigner: async () => {
      if (expected instanceof Error) throw expected
      return expected
    },
    signerName: '0192:910075918',
  })
}

/** Checked through a temp file (no size given) and in memory (a small size given): the same verdict. */
/**
 * Checked twice, the verdicts compared: without its size (read as it decrypts, or from a file when its
 * entries are out of order), and with it (in memory when it is small).
 */
async function verify(cmsPath: string, expected: string | null | Error): Promise<AsicVerdict> {
  const settled = await Promise.allSettled([
    verifyOnce(cmsPath, expected),
    verifyOnce(cmsPath, expected, statSync(cmsPath).size),
  ])
  const [streamed, inMemory] = settled.map((s) => (s.status === 'fulfilled' ? s.value : String(s.reason)))
  expect(inMemory).toEqual(streamed)
  if (settled[0]!.status === 'rejected') throw settled[0]!.reason
  return streamed as AsicVerdict
}

describe('verifyEncryptedAsic', () => {
  it('accepts what OpenSSL signed (SHA-1 and SHA-256) and encrypted, and leaves nothing behind', async () => {
    for (const md of ['sha1', 'sha256']) {
      const cms = opensslEncrypt(await container((m) => opensslSign(m, sender, md)), receiver)
      expect(await verify(cms, sender.certPem)).toEqual({ ok: true })
    }
    // and what our own writer signs
    const ours = opensslEncrypt(await container((m) => signDetached(m, sender)), receiver)
    expect(await verify(ours, sender.certPem)).toEqual({ ok: true })
    expect(readdirSync(tempDir)).toEqual([])
  })

  it('refuses a signature that verifies but is made with another certificate than the registered one', async () => {
    const cms = opensslEncrypt(await container((m) => opensslSign(m, other)), receiver)
    const v = await verify(cms, sender.certPem)
    expect(v).toMatchObject({ ok: false, kind: 'signature' })
    expect(!v.ok && v.reason).toMatch(
      /CN=other .*not with the one the ServiceRegistry holds for 0192:910075918/,
    )
  })

  it('refuses a valid signature whose certificate OpenSSL cannot read, rather than failing', async () => {
    // "Test" in the certificate's names (and the signer's issuer) made invalid UTF-8: the signature
    // over the manifest still verifies with the unchanged key, but the certificate is not X.509 OpenSSL reads
    const bad = (p7s: Buffer) => {
      const name = Buffer.from('Test')
      for (let at = p7s.indexOf(name); at >= 0; at = p7s.indexOf(name, at + 1)) p7s[at] = 0xff
      return p7s
    }
    const cms = opensslEncrypt(await container((m) => bad(opensslSign(m, sender))), receiver)
    const v = await verify(cms, sender.certPem)
    expect(v).toMatchObject({ ok: false, kind: 'signature' })
    expect(!v.ok && v.reason).toMatch(/signing certificate that cannot be read/)
  })

  it('refuses a document changed after signing, though the signature over the manifest still holds', async () => {
    const cms = opensslEncrypt(
      await container((m) => opensslSign(m, sender), Buffer.from('%PDF-1.4 avslag')),
      receiver,
    )
    expect(await verify(cms, sender.certPem)).toMatchObject({ ok: false, kind: 'signature' })
  })

  it('refuses a signature that does not verify over the manifest', async () => {
    const cms = opensslEncrypt(
      await container((m) => opensslSign(Buffer.concat([m, Buffer.from(' ')]), sender)),
      receiver,
    )
    const v = await verify(cms, sender.certPem)
    expect(v).toMatchObject({ ok: false, kind: 'signature' })
    expect(!v.ok && v.reason).toMatch(/signature does not verify/)
  })

  it('refuses when the ServiceRegistry has no certificate, and throws when it cannot be asked', async () => {
    const cms = opensslEncrypt(await container((m) => opensslSign(m, sender)), receiver)
    expect(await verify(cms, null)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/has no certificate/),
    })
    await expect(verify(cms, new Error('ServiceRegistry is unavailable'))).rejects.toThrow(/unavailable/)
    expect(readdirSync(tempDir)).toEqual([])
  })

  it('decrypts a CMS of up to 1 MiB in memory and checks a larger one as it decrypts, once, whatever the order of its directory; one that pass cannot take is read twice as it decrypts, or through a file', async () => {
    const missing = join(tmp.dir, 'missing')
    const check = (cms: string) =>
      verifyEncryptedAsic({
        cmsPath: cms,
        cmsSize: statSync(cms).size,
        keys: { keyPem: receiver.keyPem, certPem: receiver.certPem },
        tempDir: missing,
        maxBytes: 10_000_000,
        maxRatio: 100,
        maxEntries: 100,
        expectedSigner: async () => sender.certPem,
        signerName: '0192:910075918',
      })
    const sign = (m: Buffer) => opensslSign(m, sender)
    const small = opensslEncrypt(await container(sign), receiver)
    expect(await check(small)).toEqual({ ok: true })
    // random bytes do not compress: the CMS is over SMALL_CMS_BYTES, and is read as it decrypts
    const big = randomBytes(3 * SMALL_CMS_BYTES)
    const zip = await container(sign, big, sha256(big))
    expect(await check(opensslEncrypt(zip, receiver))).toEqual({ ok: true })
    // the one pass finds entries where their local headers lie: a directory in another order is no
    // matter to it (read twice as it decrypts, entries against their order could only go through a
    // file, and the folder for it is missing)
    expect(await check(opensslEncrypt(reverseDirectory(zip), receiver))).toEqual({ ok: true })
    // a document stored and sized only by a data descriptor stops that pass (where it ends is unknown
    // until the directory is read): read twice as it decrypts, no folder
    const described = await container(sign, big, sha256(big), { described: 'store' })
    expect(await check(opensslEncrypt(described, receiver))).toEqual({ ok: true })
    // and with its directory reversed too, through a file: the missing folder
    const both = opensslEncrypt(reverseDirectory(described), receiver)
    await expect(check(both)).rejects.toThrow(/ENOENT/)
    expect(await verify(both, sender.certPem)).toEqual({ ok: true })
    // a large one that does not hold is refused as before, every way
    // deflated and sized by a data descriptor, as Java's ZipOutputStream writes: the one pass too
    const javaLike = await container(sign, big, sha256(big), { described: 'deflate' })
    expect(await check(opensslEncrypt(reverseDirectory(javaLike), receiver))).toEqual({ ok: true })
    const forged = (o: { described?: 'store' }) => container(sign, big, sha256(Buffer.from('another')), o)
    for (const plain of [
      await forged({}),
      reverseDirectory(await forged({})),
      await forged({ described: 'store' }),
      reverseDirectory(await forged({ described: 'store' })),
    ])
      expect(await verify(opensslEncrypt(plain, receiver), sender.certPem)).toMatchObject({
        ok: false,
        kind: 'signature',
        reason: expect.stringMatching(/SHA-256 of vedtak.pdf does not match/),
      })
  })

  it('takes what an ArrivalScan read of the same CMS in place of a pass of its own, and nothing from a stream it was not fed', async () => {
    const big = randomBytes(3 * SMALL_CMS_BYTES)
    const cmsPath = opensslEncrypt(await container((m) => opensslSign(m, sender), big, sha256(big)), receiver)
    const cms = readFileSync(cmsPath)
    const keys = { keyPem: receiver.keyPem, certPem: receiver.certPem }
    const limits = { keys, maxBytes: 10_000_000, maxRatio: 100, maxEntries: 100 }
    // as a download: the CMS, then other bytes (a zip's directory), in 64 KiB pieces, all passed on
    const arrive = async (feeds: boolean, bytes = cms) => {
      const arrival = new ArrivalScan(limits)
      const passed: Buffer[] = []
      const all = Buffer.concat([bytes, Buffer.from('PK\x01\x02 the rest of the zip')])
      const pieces = Array.from({ length: Math.ceil(all.length / 65536) }, (_, i) =>
        all.subarray(i * 65536, (i + 1) * 65536),
      )
      await pipeline(
        Readable.from(pieces),
        arrival.tap(() => feeds),
        new Writable({
          write: (c: Buffer, _e, done) => {
            passed.push(c)
            done()
          },
        }),
      )
      expect(Buffer.concat(passed).equals(all)).toBe(true)
      return arrival.result()
    }
    const scanned = await arrive(true)
    expect(scanned?.cmsBytes).toBe(cms.length)
    const check = (o: { cmsPath: string; scanned: ScannedCms | null }) =>
      verifyEncryptedAsic({
        ...limits,
        ...o,
        cmsSize: cms.length,
        tempDir,
        expectedSigner: async () => sender.certPem,
        signerName: '0192:910075918',
      })
    // the file is not read at all: it is not there
    const missing = join(tmp.dir, 'not-there.cms')
    expect(await check({ cmsPath: missing, scanned })).toEqual({ ok: true })
    // read of another length, it is not taken: the file is read
    await expect(
      check({ cmsPath: missing, scanned: { ...scanned!, cmsBytes: cms.length - 1 } }),
    ).rejects.toThrow(/ENOENT/)
    expect(await check({ cmsPath, scanned: { ...scanned!, cmsBytes: cms.length - 1 } })).toEqual({ ok: true })
    // not fed, or not ours to decrypt: nothing
    expect(await arrive(false)).toBeNull()
    expect(await arrive(true, readFileSync(opensslEncrypt(big, other)))).toBeNull()
    // a forged container read as it arrived is refused, its reason from reading the file again
    const forgedPath = opensslEncrypt(
      await container((m) => opensslSign(m, sender), big, sha256(Buffer.from('another'))),
      receiver,
    )
    const forged = await arrive(true, readFileSync(forgedPath))
    expect(forged?.cmsBytes).toBeGreaterThan(0)
    expect(await check({ cmsPath: forgedPath, scanned: forged })).toMatchObject({
      ok: false,
      kind: 'signature',
      reason: expect.stringMatching(/SHA-256 of vedtak.pdf does not match/),
    })
  })

  it('checks a 64 MiB container as it decrypts with the memory of a small one', async () => {
    const cms = await (async () => {
      const big = randomBytes(64 * 2 ** 20)
      return opensslEncrypt(await container((m) => opensslSign(m, sender), big, sha256(big)), receiver)
    })()
    const memory = liveMemorySampler()
    memory.phase = 'check'
    memory.every()
    const verdict = await verifyOnce(cms, sender.certPem, statSync(cms).size, 100 * 2 ** 20)
    memory.stop()
    expect(verdict).toEqual({ ok: true })
    // holding the container, or a pass's chunks, would add 64 MiB
    const { growth, said } = memory.report()
    expect(growth, said).toBeLessThan(24 * 2 ** 20)
    expect(memory.samples.check).toBeGreaterThanOrEqual(2)
    expect(readdirSync(tempDir)).toEqual([])
  })

  it('refuses a CMS made for another receiver as a container that cannot be read', async () => {
    const cms = opensslEncrypt(await container((m) => opensslSign(m, sender)), other)
    expect(await verify(cms, sender.certPem)).toMatchObject({ ok: false, kind: 'container' })
  })
})
