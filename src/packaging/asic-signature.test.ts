import { X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signDetached, verifyDetached } from './asic-signature.js'
import { makeIdentity, makeTempDir, openssl, opensslCmsSign, type TestIdentity } from './test-support.js'

// verifyDetached parses a sender's certificates once per distinct encoding: these check that what it
// decides is still what the signature says, whichever certificates it has seen before.

const tmp = makeTempDir('asic-signature-')
let alice: TestIdentity
let bob: TestIdentity
let ca: TestIdentity
beforeAll(() => {
  alice = makeIdentity(tmp.dir, 'alice')
  bob = makeIdentity(tmp.dir, 'bob')
  // a shorter key makes a shorter certificate, which DER's order of a SET puts before the signer's
  ca = makeIdentity(tmp.dir, 'ca', { bits: 1024 })
})
afterAll(() => tmp.cleanup())

const manifest = Buffer.from('<ASiCManifest>the signed bytes</ASiCManifest>')
const raw = (pem: string | null) => (pem ? new X509Certificate(pem).raw : null)
const derOf = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')

/** `openssl cms -sign`, DER; `extra` certificates go into the SignedData beside the signer's */
const opensslSign = (
  data: Buffer,
  who: TestIdentity,
  extra: TestIdentity[] = [],
  md = 'sha256',
  flags: string[] = [],
) => opensslCmsSign(tmp.dir, data, who, { md, extra, flags })

describe('verifyDetached', () => {
  it("names the signer's own certificate among several, from the first check and the later ones", async () => {
    // the signer is found by its issuer and serial, not by its place (here not the first)
    const sig = opensslSign(manifest, alice, [ca, bob])
    const at = (who: TestIdentity) => sig.indexOf(new X509Certificate(who.certPem).raw)
    expect(at(ca)).toBeGreaterThan(0)
    expect(at(ca)).toBeLessThan(at(alice))
    for (let i = 0; i < 3; i++) {
      const check = await verifyDetached(sig, manifest)
      expect(check).toMatchObject({ valid: true, reason: null })
      expect(raw(check.signerCertPem)).toEqual(new X509Certificate(alice.certPem).raw)
    }
    const other = await verifyDetached(opensslSign(manifest, bob, [ca, alice]), manifest)
    expect(other.valid).toBe(true)
    expect(raw(other.signerCertPem)).toEqual(new X509Certificate(bob.certPem).raw)
    // SHA-1, as the reference signs, and our own SHA-256 signature
    expect((await verifyDetached(opensslSign(manifest, alice, [], 'sha1'), manifest)).valid).toBe(true)
    const ours = await verifyDetached(await signDetached(manifest, alice), manifest)
    expect(ours.valid).toBe(true)
    expect(raw(ours.signerCertPem)).toEqual(new X509Certificate(alice.certPem).raw)
  })

  it('refuses a signature by another key that carries certificates checked before', async () => {
    // alice's certificates are known from a valid signature
    expect((await verifyDetached(opensslSign(manifest, alice), manifest)).valid).toBe(true)
    // bob's key, alice's certificate (and so alice's issuer and serial as the signer)
    const forged = await signDetached(manifest, { keyPem: bob.keyPem, certPem: alice.certPem })
    const check = await verifyDetached(forged, manifest)
    expect(check.valid).toBe(false)
    expect(check.reason).toBeTruthy()
    // alice's valid signature over other bytes
    const moved = await verifyDetached(opensslSign(manifest, alice), Buffer.from('other bytes'))
    expect(moved.valid).toBe(false)
    // openssl refuses the forged one too
    const path = join(tmp.dir, 'forged.p7s')
    writeFileSync(path, forged)
    writeFileSync(join(tmp.dir, 'manifest.xml'), manifest)
    const verifyArgs = ['cms', '-verify', '-binary', '-noverify', '-inform', 'DER', '-in', path]
    expect(() =>
      openssl([...verifyArgs, '-content', join(tmp.dir, 'manifest.xml'), '-out', '/dev/null']),
    ).toThrow(/verification failure|signature failure/i)
  })

  it('refuses a signature that carries no certificate, naming no signer', async () => {
    const sig = opensslSign(manifest, alice, [], 'sha256', ['-nocerts'])
    const check = await verifyDetached(sig, manifest)
    expect(check).toMatchObject({ valid: false, signerCertPem: null })
  })

  it('never throws on a damaged signature, and names as signer only a certificate it carries', async () => {
    const sig = opensslSign(manifest, alice, [ca])
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: sig.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, xor) => {
          const damaged = Buffer.from(sig)
          damaged[at] = damaged[at]! ^ xor
          const check = await verifyDetached(damaged, manifest)
          expect(typeof check.valid).toBe('boolean')
          // its own bytes, which OpenSSL may refuse to read (checkSigner refuses those)
          if (check.signerCertPem) expect(damaged.includes(derOf(check.signerCertPem))).toBe(true)
        },
      ),
      { numRuns: 300 },
    )
  })
})
