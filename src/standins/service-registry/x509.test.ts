import { execFileSync } from 'node:child_process'
import {
  constants,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  X509Certificate,
} from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { tempDir } from './test-support.js'
import { createSelfSignedCertificate } from './x509.js'

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })

function make(notAfter = new Date('2046-01-01T00:00:00Z')) {
  return createSelfSignedCertificate({
    privateKey,
    subject: {
      commonName: 'TEST - ETAT Æ',
      organization: 'TEST - ETAT Æ',
      serialNumber: '910075918',
      country: 'NO',
    },
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter,
  })
}

const openssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' })
    return true
  } catch {
    return false
  }
})()

describe('self-signed certificates', () => {
  it('are read back by node with the subject, validity and key they were made with', () => {
    const cert = make()
    expect(cert.subject.split('\n')).toEqual([
      'C=NO',
      'O=TEST - ETAT Æ',
      'serialNumber=910075918',
      'CN=TEST - ETAT Æ',
    ])
    expect(cert.issuer).toBe(cert.subject)
    expect(new Date(cert.validFrom).toISOString()).toBe('2026-01-01T00:00:00.000Z')
    expect(new Date(cert.validTo).toISOString()).toBe('2046-01-01T00:00:00.000Z')
    expect(cert.checkPrivateKey(privateKey)).toBe(true)
    expect(cert.verify(cert.publicKey)).toBe(true)
    expect(cert.ca).toBe(false)
  })

  it('write dates from 2050 on as GeneralizedTime', () => {
    const cert = make(new Date('2061-06-30T12:00:00Z'))
    expect(new Date(cert.validTo).toISOString()).toBe('2061-06-30T12:00:00.000Z')
  })

  it('get a fresh positive serial number each time', () => {
    const serials = new Set([make(), make(), make()].map((c) => c.serialNumber))
    expect(serials.size).toBe(3)
    for (const s of serials) expect(Number.parseInt(s.slice(0, 2), 16)).toBeLessThan(0x80)
  })

  it('carry a key that encrypts with RSA-OAEP for its private key (what CMS to the receiver does)', () => {
    const secret = randomBytes(32)
    const sealed = publicEncrypt({ key: make().publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, secret)
    expect(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, sealed)).toEqual(
      secret,
    )
  })

  it.skipIf(!openssl)('pass OpenSSL: readable, self-verifying, with the extensions meant', () => {
    const dir = tempDir()
    try {
      const file = dir.file('cert.pem', make().toString())
      const text = execFileSync('openssl', ['x509', '-in', file, '-noout', '-text'], { encoding: 'utf8' })
      expect(text).toContain('Version: 3 (0x2)')
      expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption')
      expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/)
      expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment, Data Encipherment/)
      expect(text).toContain('Subject Key Identifier')
      const verified = execFileSync('openssl', ['verify', '-CAfile', file, file], { encoding: 'utf8' })
      expect(verified.trim()).toBe(`${file}: OK`)
    } finally {
      dir.remove()
    }
  })

  it('round-trip through PEM unchanged', () => {
    const cert = make()
    expect(new X509Certificate(cert.toString()).raw).toEqual(cert.raw)
  })
})
