import { createHash, X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeIdentity, makeTempDir, opensslAvailable, type TestIdentity } from './test-support.js'
import {
  type TemplateOptions,
  xadesTemplate,
  xmlsecAvailable,
  xmlsecSign,
  xmlsecVerifies,
} from './xades-test-support.js'
import { verifyXadesSignatures, type XadesCheck } from './xades-verify.js'

const C14N_11 = 'http://www.w3.org/2006/12/xml-c14n11'
const FILES = [
  { uri: 'manifest.xml', mime: 'application/xml' },
  { uri: 'vedtak.pdf', mime: 'application/pdf' },
]

describe.skipIf(!xmlsecAvailable() || !opensslAvailable())(
  'verifyXadesSignatures against xmlsec1 signatures',
  () => {
    const tmp = makeTempDir('xades-verify-')
    let signer: TestIdentity
    let other: TestIdentity
    const contents: Record<string, string> = {
      'manifest.xml': '<manifest/>',
      'vedtak.pdf': '%PDF-1.4 vedtak',
      'a b.txt': 'space',
      'brev-ø.txt': 'non-ASCII',
    }

    beforeAll(() => {
      signer = makeIdentity(tmp.dir, 'signer')
      other = makeIdentity(tmp.dir, 'other')
      for (const [name, body] of Object.entries(contents)) writeFileSync(join(tmp.dir, name), body)
    })
    afterAll(() => tmp.cleanup())

    const sign = (o: Partial<TemplateOptions> = {}, urlMap: Record<string, string> = {}): Buffer =>
      xmlsecSign(
        tmp.dir,
        xadesTemplate({ files: FILES, certPem: signer.certPem, ...o }),
        signer.keyPath,
        signer.certPath,
        urlMap,
      )
    const refused = (check: XadesCheck): string => {
      if (check.ok) throw new Error('expected a refusal')
      return check.reason
    }
    const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest()

    it('takes the reference shape and returns the signer, the file digests and their mime types', () => {
      const check = verifyXadesSignatures(sign())
      if (!check.ok) throw new Error(check.reason)
      expect(
        new X509Certificate(check.signerCertPem).raw.equals(new X509Certificate(signer.certPem).raw),
      ).toBe(true)
      expect(check.references).toEqual([
        { uri: 'manifest.xml', sha256: sha256(contents['manifest.xml']!), mimeType: 'application/xml' },
        { uri: 'vedtak.pdf', sha256: sha256(contents['vedtak.pdf']!), mimeType: 'application/pdf' },
      ])
    })

    it.each<[string, Partial<TemplateOptions>]>([
      [
        'the older 2918/v1.2.1 namespace, whitespace and comments',
        { rootNs: 'http://uri.etsi.org/2918/v1.2.1#', pretty: true },
      ],
      ['the 02918/v1.1.1 namespace', { rootNs: 'http://uri.etsi.org/02918/v1.1.1#' }],
      [
        'namespaces and xml:lang inherited from the root',
        { rootExtra: ' xmlns:foo="urn:foo" xmlns:a="urn:a" xml:lang="no"', pretty: true },
      ],
      ['C14N 1.1', { c14n: C14N_11, rootExtra: ' xml:lang="no" xmlns:z="urn:z"', pretty: true }],
      ['a ds: prefix', { dsPrefix: 'ds', pretty: true }],
      ['a SHA-256 CertDigest', { certDigest: 'sha256' }],
    ])('takes %s', (_what, o) => {
      const xml = sign(o)
      expect(xmlsecVerifies(tmp.dir, xml)).toBe(true)
      const check = verifyXadesSignatures(xml)
      expect(check.ok ? 'ok' : check.reason).toBe('ok')
    })

    it('decodes reference URIs as the reference encodes them (+ for a space, UTF-8 percent escapes)', () => {
      const files = [
        { uri: 'a+b.txt', mime: 'text/plain' },
        { uri: 'brev-%C3%B8.txt', mime: 'text/plain' },
      ]
      const check = verifyXadesSignatures(sign({ files }, { 'a+b.txt': 'a b.txt' }))
      if (!check.ok) throw new Error(check.reason)
      expect(check.references.map((r) => [r.uri, r.sha256])).toEqual([
        ['a b.txt', sha256('space')],
        ['brev-ø.txt', sha256('non-ASCII')],
      ])
    })

    it('refuses a changed SignedInfo (a file digest) as xmlsec1 does', () => {
      const xml = Buffer.from(
        sign()
          .toString()
          .replace(sha256(contents['vedtak.pdf']!).toString('base64'), sha256('other').toString('base64')),
      )
      expect(xmlsecVerifies(tmp.dir, xml)).toBe(false)
      expect(refused(verifyXadesSignatures(xml))).toMatch(/does not verify with the certificate/)
    })

    it('refuses changed SignedProperties (a mime type) as xmlsec1 does', () => {
      const xml = Buffer.from(sign().toString().replace('<MimeType>application/pdf<', '<MimeType>text/html<'))
      expect(xmlsecVerifies(tmp.dir, xml)).toBe(false)
      expect(refused(verifyXadesSignatures(xml))).toMatch(/signed properties .* do not match/)
    })

    it('refuses another certificate put in KeyInfo', () => {
      const b64 = (pem: string) => new X509Certificate(pem).raw.toString('base64')
      const text = sign().toString()
      const leaf = /<X509Certificate>([^<]+)</.exec(text)![1]!
      expect(leaf.replace(/\s/g, '')).toBe(b64(signer.certPem))
      const xml = Buffer.from(text.replace(leaf, b64(other.certPem)))
      expect(refused(verifyXadesSignatures(xml))).toMatch(/does not verify with the certificate/)
    })

    it('refuses a CertDigest that names another certificate (xmlsec1 does not look)', () => {
      const template = xadesTemplate({ files: FILES, certPem: other.certPem })
      const xml = xmlsecSign(tmp.dir, template, signer.keyPath, signer.certPath)
      expect(xmlsecVerifies(tmp.dir, xml)).toBe(true)
      expect(refused(verifyXadesSignatures(xml))).toMatch(/CertDigest does not match/)
    })

    it('refuses a second element carrying the SignedProperties Id', () => {
      const xml = Buffer.from(sign().toString().replace('<Object>', '<Object><Decoy Id="SignedProperties"/>'))
      expect(refused(verifyXadesSignatures(xml))).toMatch(/does not name this signature's SignedProperties/)
    })

    it.each([
      ['another root', (s: string) => s.replace(/XAdESSignatures/g, 'Other'), /not an ASiC XAdESSignatures/],
      [
        'a DOCTYPE',
        (s: string) => s.replace('<XAdESSignatures', '<!DOCTYPE x [<!ENTITY a "b">]><XAdESSignatures'),
        /DOCTYPE/,
      ],
      [
        'an unknown entity',
        (s: string) => s.replace('<MimeType>application/pdf', '<MimeType>&xxe;'),
        /not defined/,
      ],
      [
        'two signatures',
        (s: string) => s.replace(/(<Signature[\s\S]*<\/Signature>)/, '$1$1'),
        /exactly one XML signature/,
      ],
    ])('refuses %s', (_what, change, reason) => {
      expect(refused(verifyXadesSignatures(Buffer.from(change(sign().toString()))))).toMatch(reason)
    })

    it('refuses exclusive C14N, though xmlsec1 takes it', () => {
      const xml = sign({ c14n: 'http://www.w3.org/2001/10/xml-exc-c14n#' })
      expect(xmlsecVerifies(tmp.dir, xml)).toBe(true)
      expect(refused(verifyXadesSignatures(xml))).toMatch(/inclusive C14N/)
    })

    it('refuses RSA-SHA1, though xmlsec1 takes it', () => {
      const xml = sign({ signatureMethod: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' })
      expect(xmlsecVerifies(tmp.dir, xml)).toBe(true)
      expect(refused(verifyXadesSignatures(xml))).toMatch(/not RSA with SHA-256/)
    })
  },
)
