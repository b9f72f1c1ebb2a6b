// Tests' XAdES signatures.xml, made by the xmlsec1 binary from a template: the reader is checked
// against the tool, not against our own writer. The template has the shape the reference writes (see
// xades-verify.ts), with switches for the variations a verifier must also take.

import { spawnSync } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface TemplateFile {
  /** the Reference URI as written */
  uri: string
  mime: string
}

export interface TemplateOptions {
  files: TemplateFile[]
  /** the certificate named in CertDigest and IssuerSerial */
  certPem: string
  rootNs?: string
  c14n?: string
  /** declarations and attributes added to the root (inherited by the signed subtrees) */
  rootExtra?: string
  /** the dsig prefix ('' for the default namespace, as the reference) */
  dsPrefix?: string
  /** line breaks, indentation and a comment in the signed parts */
  pretty?: boolean
  certDigest?: 'sha1' | 'sha256'
  signatureMethod?: string
}

const DSIG = 'http://www.w3.org/2000/09/xmldsig#'
export const C14N_10 = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'

export function xadesTemplate(o: TemplateOptions): string {
  const p = o.dsPrefix ? `${o.dsPrefix}:` : ''
  const nl = o.pretty ? '\n  ' : ''
  const c14n = o.c14n ?? C14N_10
  const cert = new X509Certificate(o.certPem)
  const digestAlg = o.certDigest ?? 'sha1'
  const certDigest = createHash(digestAlg).update(cert.raw).digest('base64')
  const digestUri = digestAlg === 'sha1' ? `${DSIG}sha1` : 'http://www.w3.org/2001/04/xmlenc#sha256'
  const sha256 = `<${p}DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><${p}DigestValue></${p}DigestValue>`
  const refs = o.files.map(
    (f, i) => `<${p}Reference Id="ID_${i}" URI="${f.uri}">${nl}${sha256}</${p}Reference>${nl}`,
  )
  const formats = o.files.map(
    (f, i) =>
      `<DataObjectFormat ObjectReference="#ID_${i}"><MimeType>${f.mime}</MimeType></DataObjectFormat>`,
  )
  const serial = BigInt(`0x${cert.serialNumber}`).toString()
  const dsDecl = o.dsPrefix ? `xmlns:${o.dsPrefix}="${DSIG}"` : `xmlns="${DSIG}"`
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>' +
    `<XAdESSignatures xmlns="${o.rootNs ?? 'http://uri.etsi.org/02918/v1.2.1#'}"${o.rootExtra ?? ''}>` +
    `<${p}Signature ${dsDecl} Id="Signature"><${p}SignedInfo>${nl}${o.pretty ? '<!-- signed -->' : ''}` +
    `<${p}CanonicalizationMethod Algorithm="${c14n}"/>${nl}` +
    `<${p}SignatureMethod Algorithm="${o.signatureMethod ?? 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'}"/>${nl}` +
    refs.join('') +
    `<${p}Reference Type="http://uri.etsi.org/01903#SignedProperties" URI="#SignedProperties">` +
    `<${p}Transforms><${p}Transform Algorithm="${c14n}"/></${p}Transforms>${sha256}</${p}Reference>` +
    `</${p}SignedInfo><${p}SignatureValue/><${p}KeyInfo><${p}X509Data><${p}X509Certificate/></${p}X509Data></${p}KeyInfo>` +
    `<${p}Object><QualifyingProperties xmlns="http://uri.etsi.org/01903/v1.3.2#" xmlns:ns2="${DSIG}" Target="#Signature">` +
    `<SignedProperties Id="SignedProperties">${nl}<SignedSignatureProperties>` +
    '<SigningTime>2026-08-20T10:15:30.118+02:00</SigningTime><SigningCertificate><Cert><CertDigest>' +
    `<ns2:DigestMethod Algorithm="${digestUri}"/><ns2:DigestValue>${certDigest}</ns2:DigestValue></CertDigest>` +
    `<IssuerSerial><ns2:X509IssuerName>CN=Test</ns2:X509IssuerName><ns2:X509SerialNumber>${serial}</ns2:X509SerialNumber></IssuerSerial>` +
    `</Cert></SigningCertificate></SignedSignatureProperties>${nl}` +
    `<SignedDataObjectProperties>${formats.join('')}</SignedDataObjectProperties></SignedProperties>` +
    `</QualifyingProperties></${p}Object></${p}Signature></XAdESSignatures>`
  )
}

/**
 * Signs `template` with xmlsec1 from `dir`, where the referenced files are (xmlsec1 resolves relative
 * URIs against its working directory); `urlMap` maps a URI to a file name for the ones it cannot.
 */
export function xmlsecSign(
  dir: string,
  template: string,
  keyPath: string,
  certPath: string,
  urlMap: Record<string, string> = {},
): Buffer {
  writeFileSync(join(dir, '.template.xml'), template)
  const maps = Object.entries(urlMap).flatMap(([uri, file]) => [`--url-map:${uri}`, file])
  const r = spawnSync(
    'xmlsec1',
    [
      '--sign',
      '--privkey-pem',
      `${keyPath},${certPath}`,
      ...idAttr,
      ...maps,
      '--output',
      '.signed.xml',
      '.template.xml',
    ],
    { cwd: dir },
  )
  if (r.status !== 0) throw new Error(`xmlsec1 --sign failed: ${r.stderr.toString()}`)
  return readFileSync(join(dir, '.signed.xml'))
}

const idAttr = ['--id-attr:Id', 'http://uri.etsi.org/01903/v1.3.2#:SignedProperties']

/** `xmlsec1 --verify --insecure` from `dir`: true when the tool takes the signature. */
export function xmlsecVerifies(dir: string, xml: Buffer, urlMap: Record<string, string> = {}): boolean {
  writeFileSync(join(dir, '.verify.xml'), xml)
  const maps = Object.entries(urlMap).flatMap(([uri, file]) => [`--url-map:${uri}`, file])
  const r = spawnSync('xmlsec1', ['--verify', '--insecure', ...idAttr, ...maps, '.verify.xml'], { cwd: dir })
  return r.status === 0
}

export function xmlsecAvailable(): boolean {
  return spawnSync('xmlsec1', ['--version']).status === 0
}
