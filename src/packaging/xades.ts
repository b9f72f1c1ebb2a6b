// META-INF/signatures.xml of a DPI package: an XAdES-BES signature (ETSI TS 101 903 1.3.2) in the
// ASiC-E wrapper of ETSI TS 102 918, as the reference's XadesAsicManifest and CreateXadesArtifacts
// (felleslosninger/efm-asic) build it: one Reference per file with its SHA-256, one to the
// SignedProperties, RSA-SHA256 over SignedInfo in inclusive C14N 1.0, and the signing certificate
// named by its SHA-1 and issuer/serial.
//
// The file is written in canonical form (one line, attributes in C14N order, no empty-element tags),
// so the signed parts are exactly their own bytes plus the namespaces they inherit. The reader
// (xades-verify.ts) canonicalises what it parses, so it also takes files written by others.

import { createHash, createSign, type X509Certificate } from 'node:crypto'
import * as pkijs from 'pkijs'
import { certificateOf, privateKeyOf } from './parsed-keys.js'

// the reading side, for the stand-in mailbox
export { verifyXadesSignatures, type XadesCheck, type XadesReference } from './xades-verify.js'

export const XADES_ASIC_NS = 'http://uri.etsi.org/02918/v1.2.1#'
export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#'
export const XADES_NS = 'http://uri.etsi.org/01903/v1.3.2#'
export const C14N_10 = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'
export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'
export const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256'
export const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1'
export const SIGNED_PROPERTIES_TYPE = 'http://uri.etsi.org/01903#SignedProperties'

export interface SignedObject {
  /** the zip entry name */
  uri: string
  mimeType: string
  sha256: Buffer
}

export interface XadesSigner {
  keyPem: string
  certPem: string
  /** the rest of the chain, written after the leaf in KeyInfo */
  chainPem?: string[]
}

/** Text and attribute values escaped as Canonical XML 1.0 writes them (xml-c14n.ts). */
import { escAttr as c14nAttr, escText as c14nText } from './xml-c14n.js'

export { c14nAttr, c14nText }

/** An element in canonical form: namespace declarations first, then the attributes sorted by name. */
function el(name: string, attrs: Record<string, string>, content: string, decls = ''): string {
  const a = Object.keys(attrs)
    .sort()
    .map((k) => ` ${k}="${c14nAttr(attrs[k]!)}"`)
    .join('')
  return `<${name}${decls}${a}>${content}</${name}>`
}

const digestMethod = (prefix: string, algorithm: string): string =>
  el(`${prefix}DigestMethod`, { Algorithm: algorithm }, '')

/**
 * The Reference URI of a zip entry: percent-encoded per RFC 3986 (everything but the unreserved
 * characters). The reference uses Java's URLEncoder, which writes a space as `+`; xmlsec1 and other
 * RFC 3986 readers take that `+` literally and cannot find the file.
 */
export const referenceUri = (name: string): string =>
  encodeURIComponent(name).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

const DSIG_DECL = ` xmlns="${DSIG_NS}"`
/** what SignedProperties inherits from QualifyingProperties, which declares it */
const PROPS_DECLS = ` xmlns="${XADES_NS}" xmlns:ns2="${DSIG_NS}"`
const PROPS_ID = { Id: 'SignedProperties' }

export function xadesSignaturesXml(
  objects: readonly SignedObject[],
  signer: XadesSigner,
  signingTime: Date,
): Buffer {
  const leaf = certificateOf(signer.certPem)
  const props = signedPropertiesContent(objects, leaf, signingTime)
  // digested as inclusive C14N renders it: with the two namespaces it inherits from QualifyingProperties
  const propsDigest = sha256(Buffer.from(el('SignedProperties', PROPS_ID, props, PROPS_DECLS)))
  const signedInfo = signedInfoContent(objects, propsDigest)
  // signed as inclusive C14N renders it: with the default namespace Signature declares
  const value = createSign('sha256')
    .update(el('SignedInfo', {}, signedInfo, DSIG_DECL))
    .sign(privateKeyOf(signer.keyPem), 'base64')
  // leaf first, then the chain, as the reference writes its key store's chain
  const certs = [signer.certPem, ...(signer.chainPem ?? [])].map((pem) =>
    el('X509Certificate', {}, certificateOf(pem).raw.toString('base64')),
  )
  const qualifying = el(
    'QualifyingProperties',
    { Target: '#Signature' },
    el('SignedProperties', PROPS_ID, props),
    PROPS_DECLS,
  )
  const signature = el(
    'Signature',
    { Id: 'Signature' },
    el('SignedInfo', {}, signedInfo) +
      el('SignatureValue', {}, value) +
      el('KeyInfo', {}, el('X509Data', {}, certs.join(''))) +
      el('Object', {}, qualifying),
    DSIG_DECL,
  )
  return Buffer.from(
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>' +
      el('XAdESSignatures', {}, signature, ` xmlns="${XADES_ASIC_NS}"`),
    'utf8',
  )
}

/** One Reference per file (Id ID_<n>, no Transforms), then the one to the SignedProperties. */
function signedInfoContent(objects: readonly SignedObject[], propsDigest: Buffer): string {
  const refs = objects.map((o, i) =>
    el('Reference', { Id: `ID_${i}`, URI: referenceUri(o.uri) }, digestMethod('', SHA256) + digest(o.sha256)),
  )
  const propsRef = el(
    'Reference',
    { Type: SIGNED_PROPERTIES_TYPE, URI: '#SignedProperties' },
    el('Transforms', {}, el('Transform', { Algorithm: C14N_10 }, '')) +
      digestMethod('', SHA256) +
      digest(propsDigest),
  )
  return (
    el('CanonicalizationMethod', { Algorithm: C14N_10 }, '') +
    el('SignatureMethod', { Algorithm: RSA_SHA256 }, '') +
    refs.join('') +
    propsRef
  )
}

function signedPropertiesContent(
  objects: readonly SignedObject[],
  leaf: X509Certificate,
  signingTime: Date,
): string {
  const issuer = pkijs.Certificate.fromBER(new Uint8Array(leaf.raw)).issuer
  const cert = el(
    'Cert',
    {},
    el('CertDigest', {}, digestMethod('ns2:', SHA1) + el('ns2:DigestValue', {}, sha1(leaf.raw))) +
      el(
        'IssuerSerial',
        {},
        el('ns2:X509IssuerName', {}, c14nText(javaDistinguishedName(issuer))) +
          el('ns2:X509SerialNumber', {}, BigInt(`0x${leaf.serialNumber}`).toString()),
      ),
  )
  const formats = objects.map((o, i) =>
    el('DataObjectFormat', { ObjectReference: `#ID_${i}` }, el('MimeType', {}, c14nText(o.mimeType))),
  )
  return (
    el(
      'SignedSignatureProperties',
      {},
      el('SigningTime', {}, xsDateTime(signingTime)) + el('SigningCertificate', {}, cert),
    ) + el('SignedDataObjectProperties', {}, formats.join(''))
  )
}

const digest = (d: Buffer): string => el('DigestValue', {}, d.toString('base64'))
const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest()
const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('base64')

/** Local time with its offset and milliseconds, as the reference writes SigningTime; `Z` for UTC. */
export function xsDateTime(d: Date): string {
  const offset = -d.getTimezoneOffset()
  const local = new Date(d.getTime() + offset * 60_000).toISOString().slice(0, 23)
  if (offset === 0) return `${local}Z`
  const abs = Math.abs(offset)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${local}${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}

// Java's X500Name.getName() keywords (what the reference writes in X509IssuerName); others as OID.n.n
const KEYWORDS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'SERIALNUMBER',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'EMAILADDRESS',
}

/** A name as Java's getIssuerDN().getName() writes it: most specific first, `, ` between, quoted when needed. */
export function javaDistinguishedName(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => {
      const v: unknown = tv.value.valueBlock.value
      const value =
        typeof v === 'string'
          ? /[,+=\n<>#;\\"]|^ | $/.test(v)
            ? `"${v.replace(/["\\]/g, '\\$&')}"`
            : v
          : `#${Buffer.from(tv.value.toBER()).toString('hex')}`
      return `${KEYWORDS[tv.type] ?? `OID.${tv.type}`}=${value}`
    })
    .reverse()
    .join(', ')
}
