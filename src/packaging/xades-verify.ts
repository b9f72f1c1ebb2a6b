// Checking the XAdES META-INF/signatures.xml of a DPI ASiC-E (the shape the reference's
// XadesAsicManifest and CreateXadesArtifacts write): one XMLDSig Signature, RSA-SHA256 over the
// inclusive canonical SignedInfo, one SHA-256 reference per container file and one to the XAdES
// SignedProperties, whose CertDigest names the signing certificate. What xmlsec1 checks is checked
// here, plus what it does not (the CertDigest and serial number against the leaf certificate, and
// that the SignedProperties element is the one in this signature's QualifyingProperties and its Id
// unique, so a second element with that Id cannot stand in for it). Comparing the file digests with
// the container's entries is the caller's part: it has the files.

import { createHash, verify, X509Certificate } from 'node:crypto'
import { c14nVersion, canonicalize } from './xml-c14n.js'
import {
  attr,
  child,
  descendants,
  elements,
  parseXml,
  textOf,
  type XmlElement,
  XmlError,
} from './xml-tree.js'

const DSIG = 'http://www.w3.org/2000/09/xmldsig#'
const XADES = 'http://uri.etsi.org/01903/v1.3.2#'
/** the current ETSI namespace and the two older spellings the reference's ASiC reader also takes */
const ASIC_NAMESPACES = new Set([
  'http://uri.etsi.org/02918/v1.2.1#',
  'http://uri.etsi.org/2918/v1.2.1#',
  'http://uri.etsi.org/02918/v1.1.1#',
])
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256'
const CERT_DIGESTS: Record<string, string> = {
  'http://www.w3.org/2000/09/xmldsig#sha1': 'sha1',
  [SHA256]: 'sha256',
}
const SIGNED_PROPERTIES = 'http://uri.etsi.org/01903#SignedProperties'

export interface XadesReference {
  /** the Reference URI decoded to the entry name (as Java's URLDecoder: `+` is a space) */
  uri: string
  sha256: Buffer
  /** the MimeType of the DataObjectFormat pointing at this reference, if any */
  mimeType: string | null
}

export type XadesCheck =
  | { ok: true; signerCertPem: string; references: XadesReference[] }
  | { ok: false; reason: string }

class Refusal extends Error {}

export function verifyXadesSignatures(xml: Buffer): XadesCheck {
  try {
    return check(xml)
  } catch (e) {
    if (e instanceof XmlError)
      return { ok: false, reason: `signatures.xml is not well-formed XML: ${e.message}` }
    if (e instanceof Refusal) return { ok: false, reason: e.message }
    throw e
  }
}

function check(xml: Buffer): XadesCheck {
  const root = parseXml(xml)
  if (root.local !== 'XAdESSignatures' || !ASIC_NAMESPACES.has(root.ns))
    throw new Refusal(
      `signatures.xml is not an ASiC XAdESSignatures document (its root is {${root.ns}}${root.local})`,
    )
  const all = elements(root)
  if (all.length !== 1 || all[0]!.ns !== DSIG || all[0]!.local !== 'Signature')
    throw new Refusal('signatures.xml must hold exactly one XML signature')
  const signature = all[0]!
  const signedInfo = only(signature, DSIG, 'SignedInfo')
  const version = c14nVersion(algorithm(only(signedInfo, DSIG, 'CanonicalizationMethod')))
  if (!version) throw new Refusal('the signature is not canonicalised with inclusive C14N 1.0 or 1.1')
  if (algorithm(only(signedInfo, DSIG, 'SignatureMethod')) !== RSA_SHA256)
    throw new Refusal('the signature method is not RSA with SHA-256')
  const cert = signerCertificate(signature)
  const value = Buffer.from(textOf(only(signature, DSIG, 'SignatureValue')).replace(/\s+/g, ''), 'base64')
  if (!verify('sha256', canonicalize(signedInfo, version), cert.publicKey, value))
    throw new Refusal('the signature in signatures.xml does not verify with the certificate it carries')
  const refs = elements(signedInfo, DSIG, 'Reference')
  const propsRefs = refs.filter((r) => attr(r, 'Type') === SIGNED_PROPERTIES)
  if (propsRefs.length !== 1)
    throw new Refusal('the signature must have exactly one reference to its SignedProperties')
  const props = signedProperties(root, signature, propsRefs[0]!)
  checkSigningCertificate(props, cert)
  const mimeTypes = dataObjectFormats(props)
  const references = refs.filter((r) => r !== propsRefs[0]).map((r) => fileReference(r, mimeTypes))
  return { ok: true, signerCertPem: cert.toString(), references }
}

function only(el: XmlElement, ns: string, local: string): XmlElement {
  const found = elements(el, ns, local)
  if (found.length !== 1) throw new Refusal(`${el.local} must hold exactly one ${local}`)
  return found[0]!
}

const algorithm = (el: XmlElement): string | null => attr(el, 'Algorithm')

function signerCertificate(signature: XmlElement): X509Certificate {
  const keyInfo = only(signature, DSIG, 'KeyInfo')
  const leaf = elements(keyInfo, DSIG, 'X509Data').flatMap((d) => elements(d, DSIG, 'X509Certificate'))[0]
  if (!leaf) throw new Refusal('the signature carries no X509Certificate in its KeyInfo')
  let cert: X509Certificate
  try {
    cert = new X509Certificate(Buffer.from(textOf(leaf).replace(/\s+/g, ''), 'base64'))
  } catch {
    throw new Refusal('the X509Certificate in the signature is not a certificate')
  }
  if (cert.publicKey.asymmetricKeyType !== 'rsa')
    throw new Refusal('the signing certificate does not hold an RSA key')
  return cert
}

/** The SignedProperties of this signature, checked against the digest its reference signs. */
function signedProperties(root: XmlElement, signature: XmlElement, ref: XmlElement): XmlElement {
  const uri = attr(ref, 'URI') ?? ''
  const id = uri.startsWith('#') ? uri.slice(1) : null
  if (!id) throw new Refusal('the SignedProperties reference does not point into signatures.xml')
  const withId = [...descendants(root)].filter((e) =>
    e.attrs.some((a) => /^(Id|ID|id)$/.test(a.name) && a.value === id),
  )
  const qualifying = elements(signature, DSIG, 'Object').flatMap((o) =>
    elements(o, XADES, 'QualifyingProperties'),
  )
  if (qualifying.length !== 1)
    throw new Refusal('the signature must hold exactly one XAdES QualifyingProperties')
  const target = attr(qualifying[0]!, 'Target')
  const signatureId = attr(signature, 'Id')
  if (target !== null && signatureId !== null && target !== `#${signatureId}`)
    throw new Refusal('the XAdES QualifyingProperties belong to another signature')
  const props = only(qualifying[0]!, XADES, 'SignedProperties')
  if (withId.length !== 1 || withId[0] !== props)
    throw new Refusal(
      `the SignedProperties reference ${uri} does not name this signature's SignedProperties (alone)`,
    )
  const transforms = elements(ref, DSIG, 'Transforms').flatMap((t) => elements(t, DSIG, 'Transform'))
  // no transform: a same-document reference is canonicalised with C14N 1.0 (XMLDSig 4.3.3.2)
  const version =
    transforms.length === 0 ? '1.0' : transforms.length === 1 ? c14nVersion(algorithm(transforms[0]!)) : null
  if (!version) throw new Refusal('the SignedProperties reference uses a transform other than inclusive C14N')
  if (!digestOf(ref).equals(sha256(canonicalize(props, version))))
    throw new Refusal(
      'the signed properties (signing time, certificate, mime types) do not match their signed digest',
    )
  return props
}

function digestOf(ref: XmlElement): Buffer {
  if (algorithm(only(ref, DSIG, 'DigestMethod')) !== SHA256)
    throw new Refusal(`the reference ${attr(ref, 'URI')} is not digested with SHA-256`)
  return Buffer.from(textOf(only(ref, DSIG, 'DigestValue')).replace(/\s+/g, ''), 'base64')
}

const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest()

/** SigningCertificate/Cert: the digest of the leaf's DER (SHA-1 as the reference, or SHA-256) and its serial. */
function checkSigningCertificate(props: XmlElement, cert: X509Certificate): void {
  const sigProps = only(props, XADES, 'SignedSignatureProperties')
  const certs = elements(only(sigProps, XADES, 'SigningCertificate'), XADES, 'Cert')
  const matches = certs.some((c) => {
    const digest = only(c, XADES, 'CertDigest')
    const method = CERT_DIGESTS[algorithm(only(digest, DSIG, 'DigestMethod')) ?? '']
    if (!method) throw new Refusal('the CertDigest uses a digest other than SHA-1 or SHA-256')
    const value = Buffer.from(textOf(only(digest, DSIG, 'DigestValue')).replace(/\s+/g, ''), 'base64')
    return value.equals(createHash(method).update(cert.raw).digest())
  })
  if (!matches)
    throw new Refusal('the signed CertDigest does not match the certificate that made the signature')
  const serials = certs
    .flatMap((c) => elements(c, XADES, 'IssuerSerial'))
    .map((s) => child(s, DSIG, 'X509SerialNumber'))
  const leafSerial = BigInt(`0x${cert.serialNumber}`).toString()
  if (serials.length > 0 && !serials.some((s) => s !== null && textOf(s).trim() === leafSerial))
    throw new Refusal('the signed IssuerSerial does not name the certificate that made the signature')
}

/** Reference Id → MimeType, from the DataObjectFormats. */
function dataObjectFormats(props: XmlElement): Map<string, string> {
  const formats = elements(props, XADES, 'SignedDataObjectProperties').flatMap((p) =>
    elements(p, XADES, 'DataObjectFormat'),
  )
  const map = new Map<string, string>()
  for (const f of formats) {
    const ref = attr(f, 'ObjectReference') ?? ''
    const mime = child(f, XADES, 'MimeType')
    if (ref.startsWith('#') && mime) map.set(ref.slice(1), textOf(mime).trim())
  }
  return map
}

function fileReference(ref: XmlElement, mimeTypes: Map<string, string>): XadesReference {
  const uri = attr(ref, 'URI')
  if (uri === null || uri === '' || uri.startsWith('#'))
    throw new Refusal(`the signature references ${JSON.stringify(uri)}, not a file of the container`)
  if (attr(ref, 'Type') !== null || elements(ref, DSIG, 'Transforms').length > 0)
    throw new Refusal(`the reference to ${uri} has a type or transforms; a file is referenced as it is`)
  const digest = digestOf(ref)
  if (digest.length !== 32) throw new Refusal(`the digest of ${uri} is not a SHA-256 value`)
  const id = attr(ref, 'Id')
  return { uri: decodeUri(uri), sha256: digest, mimeType: id === null ? null : (mimeTypes.get(id) ?? null) }
}

/** The reference's URLEncoder form back to the name: `+` is a space, `%XX` are UTF-8 bytes. */
function decodeUri(uri: string): string {
  try {
    return decodeURIComponent(uri.replace(/\+/g, ' '))
  } catch {
    throw new Refusal(`the reference URI ${uri} is not properly percent-encoded`)
  }
}
