import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { makeIdentity, makeTempDir, openssl, opensslAvailable, type TestIdentity } from './test-support.js'
import {
  DSIG_NS,
  referenceUri,
  type SignedObject,
  XADES_NS,
  xadesSignaturesXml,
  xsDateTime,
} from './xades.js'
import { canonicalize } from './xml-c14n.js'
import { child, descendants, parseXml, textOf, type XmlElement } from './xml-tree.js'

const xmlsecAvailable = spawnSync('xmlsec1', ['--version']).error === undefined

const FILES: Record<string, { mime: string; content: string }> = {
  'manifest.xml': { mime: 'application/xml', content: '<manifest/>' },
  'a b.pdf': { mime: 'application/pdf', content: '%PDF-1.4 a b' },
  'brev-ø.txt': { mime: 'text/plain', content: 'brev' },
}
const objects = (): SignedObject[] =>
  Object.entries(FILES).map(([uri, f]) => ({
    uri,
    mimeType: f.mime,
    sha256: createHash('sha256').update(f.content).digest(),
  }))

const find = (root: XmlElement, local: string): XmlElement[] =>
  [...descendants(root)].filter((e) => e.local === local)

describe('referenceUri', () => {
  it('percent-encodes all but the RFC 3986 unreserved characters, a space as %20', () => {
    expect(referenceUri('a b.pdf')).toBe('a%20b.pdf')
    expect(referenceUri('brev-ø.txt')).toBe('brev-%C3%B8.txt')
    expect(referenceUri("x(1)!'*+,;=&#%.pdf")).toBe('x%281%29%21%27%2A%2B%2C%3B%3D%26%23%25.pdf')
    expect(referenceUri('Az09-._~')).toBe('Az09-._~')
  })
})

describe('xsDateTime', () => {
  const tz = process.env.TZ
  afterEach(() => {
    if (tz === undefined) delete process.env.TZ
    else process.env.TZ = tz
  })
  it('writes local time with its offset and milliseconds', () => {
    const t = new Date('2026-08-20T08:15:30.118Z')
    process.env.TZ = 'Europe/Oslo'
    expect(xsDateTime(t)).toBe('2026-08-20T10:15:30.118+02:00')
    expect(xsDateTime(new Date('2026-01-20T08:15:30.005Z'))).toBe('2026-01-20T09:15:30.005+01:00')
    process.env.TZ = 'America/St_Johns'
    expect(xsDateTime(t)).toBe('2026-08-20T05:45:30.118-02:30')
    process.env.TZ = 'UTC'
    expect(xsDateTime(t)).toBe('2026-08-20T08:15:30.118Z')
  })
})

describe.skipIf(!opensslAvailable())('xadesSignaturesXml', () => {
  const tmp = makeTempDir('xades-')
  let org: TestIdentity
  beforeAll(() => {
    org = makeIdentity(tmp.dir, 'org')
  })
  afterAll(() => tmp.cleanup())

  const sign = (signer = { keyPem: org.keyPem, certPem: org.certPem }) =>
    xadesSignaturesXml(objects(), signer, new Date('2026-08-20T08:15:30.118Z'))

  it('is one line in canonical form with the shape the reference writes', () => {
    const xml = sign().toString('utf8')
    expect(xml).not.toContain('\n')
    expect(xml).not.toMatch(/\/>/)
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8" standalone="no"\?><XAdESSignatures xmlns="http:\/\/uri.etsi.org\/02918\/v1.2.1#"><Signature xmlns="http:\/\/www.w3.org\/2000\/09\/xmldsig#" Id="Signature"><SignedInfo><CanonicalizationMethod Algorithm="http:\/\/www.w3.org\/TR\/2001\/REC-xml-c14n-20010315"><\/CanonicalizationMethod><SignatureMethod Algorithm="http:\/\/www.w3.org\/2001\/04\/xmldsig-more#rsa-sha256"><\/SignatureMethod><Reference Id="ID_0" URI="manifest.xml"><DigestMethod Algorithm="http:\/\/www.w3.org\/2001\/04\/xmlenc#sha256"><\/DigestMethod><DigestValue>/,
    )
    expect(xml).toContain('<Reference Id="ID_1" URI="a%20b.pdf">')
    expect(xml).toContain('<Reference Id="ID_2" URI="brev-%C3%B8.txt">')
    expect(xml).toContain(
      '<Reference Type="http://uri.etsi.org/01903#SignedProperties" URI="#SignedProperties"><Transforms><Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"></Transform></Transforms>',
    )
    expect(xml).toContain(
      '<Object><QualifyingProperties xmlns="http://uri.etsi.org/01903/v1.3.2#" xmlns:ns2="http://www.w3.org/2000/09/xmldsig#" Target="#Signature"><SignedProperties Id="SignedProperties"><SignedSignatureProperties><SigningTime>',
    )
    expect(xml).toContain(
      '<SignedDataObjectProperties><DataObjectFormat ObjectReference="#ID_0"><MimeType>application/xml</MimeType></DataObjectFormat><DataObjectFormat ObjectReference="#ID_1"><MimeType>application/pdf</MimeType></DataObjectFormat><DataObjectFormat ObjectReference="#ID_2"><MimeType>text/plain</MimeType></DataObjectFormat></SignedDataObjectProperties>',
    )
    // the file digests are the raw SHA-256 of the entries
    const root = parseXml(xml)
    const values = find(root, 'Reference').map((r) => textOf(child(r, DSIG_NS, 'DigestValue')!))
    expect(values.slice(0, 3)).toEqual(objects().map((o) => o.sha256.toString('base64')))
  })

  it('names the signing certificate by SHA-1 of its DER, issuer in Java form and decimal serial (checked with openssl)', () => {
    const root = parseXml(sign())
    const der = openssl(['x509', '-in', org.certPath, '-outform', 'DER'])
    const sha1 = openssl(['dgst', '-sha1', '-binary'], false, der).toString('base64')
    const [digestMethod] = find(root, 'DigestMethod').filter((e) => e.parent?.local === 'CertDigest')
    expect(digestMethod?.name).toBe('ns2:DigestMethod')
    expect(digestMethod?.attrs).toEqual([
      { name: 'Algorithm', value: 'http://www.w3.org/2000/09/xmldsig#sha1' },
    ])
    expect(textOf(find(root, 'CertDigest')[0]!.children[1] as XmlElement)).toBe(sha1)
    const serialHex = openssl(['x509', '-in', org.certPath, '-noout', '-serial'])
      .toString()
      .trim()
      .split('=')[1]!
    expect(textOf(find(root, 'X509SerialNumber')[0]!)).toBe(BigInt(`0x${serialHex}`).toString())
    // makeIdentity's subject and issuer are /O=Test/CN=org; Java writes the most specific first
    expect(textOf(find(root, 'X509IssuerName')[0]!)).toBe('CN=org, O=Test')
    const certs = find(root, 'X509Certificate').map((e) => textOf(e))
    expect(certs).toEqual([der.toString('base64')])
  })

  it('signs the canonical SignedInfo and digests the canonical SignedProperties (checked with openssl dgst)', () => {
    const xml = sign()
    const root = parseXml(xml)
    const signedInfo = find(root, 'SignedInfo')[0]!
    const c14n = canonicalize(signedInfo)
    // the canonical form is the file's own bytes plus the inherited default namespace
    expect(c14n.toString()).toMatch(/^<SignedInfo xmlns="http:\/\/www.w3.org\/2000\/09\/xmldsig#">/)
    expect(xml.toString()).toContain(c14n.toString().replace(` xmlns="${DSIG_NS}"`, ''))
    const dir = join(tmp.dir, 'dgst')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'signed-info'), c14n)
    writeFileSync(join(dir, 'sig.bin'), Buffer.from(textOf(find(root, 'SignatureValue')[0]!), 'base64'))
    writeFileSync(join(dir, 'pub.pem'), openssl(['x509', '-in', org.certPath, '-noout', '-pubkey']))
    const verify = (data: string) =>
      openssl(
        [
          'dgst',
          '-sha256',
          '-verify',
          join(dir, 'pub.pem'),
          '-signature',
          join(dir, 'sig.bin'),
          join(dir, data),
        ],
        true,
      ).toString()
    expect(verify('signed-info')).toContain('Verified OK')
    writeFileSync(join(dir, 'other'), c14n.toString().replace('ID_1', 'ID_9'))
    expect(verify('other')).not.toContain('Verified OK')

    const props = find(root, 'SignedProperties')[0]!
    const propsC14n = canonicalize(props).toString()
    expect(propsC14n).toMatch(
      new RegExp(`^<SignedProperties xmlns="${XADES_NS}" xmlns:ns2="${DSIG_NS}" Id="SignedProperties">`),
    )
    const propsRef = find(root, 'Reference').find((r) =>
      r.attrs.some((a) => a.value === '#SignedProperties'),
    )!
    expect(textOf(child(propsRef, DSIG_NS, 'DigestValue')!)).toBe(
      createHash('sha256').update(propsC14n).digest('base64'),
    )
  })

  it('escapes what it writes as C14N does', () => {
    const odd: SignedObject = {
      uri: 'r&d <1>.txt',
      mimeType: 'text/plain; x="&<>"',
      sha256: Buffer.alloc(32),
    }
    const xml = xadesSignaturesXml([odd], { keyPem: org.keyPem, certPem: org.certPem }, new Date())
    expect(xml.toString()).toContain('URI="r%26d%20%3C1%3E.txt"')
    expect(xml.toString()).toContain('<MimeType>text/plain; x="&amp;&lt;&gt;"</MimeType>')
    const root = parseXml(xml)
    expect(textOf(find(root, 'MimeType')[0]!)).toBe(odd.mimeType)
    const props = find(root, 'SignedProperties')[0]!
    expect(xml.toString()).toContain(
      canonicalize(props).toString().replace(` xmlns="${XADES_NS}" xmlns:ns2="${DSIG_NS}"`, ''),
    )
  })

  describe.skipIf(!xmlsecAvailable)('with a certificate chain', () => {
    it('writes leaf, CA and root in KeyInfo, and xmlsec1 trusts it through the root', () => {
      const dir = join(tmp.dir, 'chain')
      mkdirSync(dir)
      const root = makeIdentity(dir, 'root')
      const ca = issued(dir, 'ca', root, true)
      const leaf = issued(dir, 'leaf', ca, false)
      for (const [uri, f] of Object.entries(FILES)) writeFileSync(join(dir, uri), f.content)
      mkdirSync(join(dir, 'META-INF'))
      const xml = xadesSignaturesXml(
        objects(),
        { keyPem: leaf.keyPem, certPem: leaf.certPem, chainPem: [ca.certPem, root.certPem] },
        new Date(),
      )
      writeFileSync(join(dir, 'META-INF/signatures.xml'), xml)
      expect(find(parseXml(xml), 'X509Certificate')).toHaveLength(3)
      expect(textOf(find(parseXml(xml), 'X509IssuerName')[0]!)).toBe('CN=ca, O=Test')
      const r = spawnSync(
        'xmlsec1',
        [
          '--verify',
          '--trusted-pem',
          root.certPath,
          '--id-attr:Id',
          `${XADES_NS}:SignedProperties`,
          'META-INF/signatures.xml',
        ],
        { cwd: dir },
      )
      expect(r.stdout.toString() + r.stderr.toString()).toContain('OK')
      expect(r.status).toBe(0)
    })
  })
})

/** A certificate for `name` issued by `by` (a CA certificate when `ca`). */
function issued(dir: string, name: string, by: TestIdentity, ca: boolean): TestIdentity {
  const keyPath = join(dir, `${name}.key`)
  const certPath = join(dir, `${name}.crt`)
  const csr = join(dir, `${name}.csr`)
  const ext = join(dir, `${name}.ext`)
  writeFileSync(
    ext,
    ca ? 'basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n' : 'keyUsage=digitalSignature\n',
  )
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPath])
  openssl(['req', '-new', '-key', keyPath, '-out', csr, '-subj', `/O=Test/CN=${name}`])
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    by.certPath,
    '-CAkey',
    by.keyPath,
    '-CAcreateserial',
    '-out',
    certPath,
    '-days',
    '30',
    '-extfile',
    ext,
  ])
  return { keyPem: readFileSync(keyPath, 'utf8'), certPem: readFileSync(certPath, 'utf8'), keyPath, certPath }
}
