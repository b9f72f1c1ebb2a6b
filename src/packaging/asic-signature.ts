// The CAdES signature of an ASiC-E: a detached CMS SignedData over the bytes of META-INF/ASiCManifest.xml
// (ETSI TS 102 918; felleslosninger/efm-asic SignatureHelper), made with the organisation's key and
// carrying its certificate chain. The manifest is small, so pkijs builds it in memory.
//
// [quirk] the reference signs with SHA1withRSA; we sign with SHA-256 with RSA and verify either
// (docs/compatibility.md, "DPO: packaging, the Broker, sending and receiving").

import { createHash, webcrypto } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { certificateOf, parsedOnce, privateKeyOf } from './parsed-keys.js'

const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto })

const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3'
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4'
const OID_SIGNING_TIME = '1.2.840.113549.1.9.5'
/** ESS signing-certificate-v2 (RFC 5035), what makes a CMS signature CAdES-BES */
const OID_SIGNING_CERT_V2 = '1.2.840.113549.1.9.16.2.47'

const toArrayBuffer = (b: Buffer): ArrayBuffer =>
  b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer

export function pemToCertificate(pem: string): pkijs.Certificate {
  return pkijs.Certificate.fromBER(toArrayBuffer(certificateOf(pem).raw))
}

/**
 * Our own certificate and chain as pkijs objects, parsed once: every signature we make carries them, and
 * pkijs's parse of a certificate cost about as much as the signature itself (bench/README.md, issue 20).
 * pkijs only reads them when it signs and encodes.
 */
const ourCertificate = parsedOnce(16, pemToCertificate)

function attribute(type: string, value: asn1js.AsnType): pkijs.Attribute {
  return new pkijs.Attribute({ type, values: [value] })
}

/** DER orders SET OF by encoding; OpenSSL re-encodes the signed attributes in DER before verifying. */
function derSorted(attrs: pkijs.Attribute[]): pkijs.Attribute[] {
  const enc = (a: pkijs.Attribute): Buffer => Buffer.from(a.toSchema().toBER(false))
  return attrs
    .map((a) => ({ a, e: enc(a) }))
    .sort((x, y) => Buffer.compare(x.e, y.e))
    .map((x) => x.a)
}

/** Detached CAdES-BES signature (DER ContentInfo) over `data`. */
export async function signDetached(
  data: Buffer,
  signer: { keyPem: string; certPem: string; chainPem?: string[] },
  now: Date = new Date(),
): Promise<Buffer> {
  const certDer = certificateOf(signer.certPem).raw
  const cert = ourCertificate(signer.certPem)
  const essCertIdV2 = new asn1js.Sequence({
    value: [
      new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: toArrayBuffer(sha256(certDer)) })] }),
    ],
  })
  const attrs = derSorted([
    attribute(OID_CONTENT_TYPE, new asn1js.ObjectIdentifier({ value: pkijs.id_ContentType_Data })),
    attribute(OID_SIGNING_TIME, new asn1js.UTCTime({ valueDate: now })),
    attribute(OID_MESSAGE_DIGEST, new asn1js.OctetString({ valueHex: toArrayBuffer(sha256(data)) })),
    attribute(OID_SIGNING_CERT_V2, new asn1js.Sequence({ value: [essCertIdV2] })),
  ])
  const signed = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: pkijs.id_ContentType_Data }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes: attrs }),
      }),
    ],
    certificates: [cert, ...(signer.chainPem ?? []).map(ourCertificate)],
  })
  await signed.sign((await signingKey(signer.keyPem)) as CryptoKey, 0, 'SHA-256', undefined, engine)
  const info = new pkijs.ContentInfo({
    contentType: pkijs.ContentInfo.SIGNED_DATA,
    content: signed.toSchema(true),
  })
  return Buffer.from(info.toSchema().toBER(false))
}

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest()

// Every message is signed with the same business key: parse and import it once (a few keys at most)
const signingKey = parsedOnce(16, (keyPem): Promise<webcrypto.CryptoKey> => {
  const pkcs8 = privateKeyOf(keyPem).export({ type: 'pkcs8', format: 'der' })
  return webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, [
    'sign',
  ])
})

export interface SignatureCheck {
  valid: boolean
  signerCertPem: string | null
  reason: string | null
}

/**
 * Verifies a detached CMS signature over `data`: the signature and the message digest, not the
 * certificate chain (trust in the sender's certificate is decided by the caller, against the
 * ServiceRegistry). Never throws: a broken signature is `valid: false` with a reason.
 */
export async function verifyDetached(p7s: Buffer, data: Buffer): Promise<SignatureCheck> {
  let signed: pkijs.SignedData
  let pems: readonly string[]
  try {
    const info = pkijs.ContentInfo.fromBER(toArrayBuffer(p7s))
    if (info.contentType !== pkijs.ContentInfo.SIGNED_DATA) return fail('not a CMS SignedData')
    ;({ signed, pems } = signedData(info.content))
  } catch (e) {
    return fail(`the signature file is not valid CMS: ${(e as Error).message}`)
  }
  const pemOf = (cert: pkijs.Certificate | null | undefined) => {
    const i = cert ? signed.certificates?.indexOf(cert) : -1
    return i !== undefined && i >= 0 ? (pems[i] ?? null) : null
  }
  try {
    const r = await signed.verify(
      { signer: 0, data: toArrayBuffer(data), checkChain: false, extendedMode: true },
      engine,
    )
    return {
      valid: r.signatureVerified === true,
      signerCertPem: pemOf(r.signerCertificate),
      reason: r.signatureVerified ? null : r.message || 'the signature does not verify',
    }
  } catch (e) {
    const err = e as { message?: string; signerCertificate?: pkijs.Certificate }
    return { valid: false, signerCertPem: pemOf(err.signerCertificate), reason: err.message ?? String(e) }
  }
}

const fail = (reason: string): SignatureCheck => ({ valid: false, signerCertPem: null, reason })

/** The context tag `[0]` of SignedData's `certificates` (RFC 5652, 5.1). */
const CERTIFICATES_TAG = 0

/**
 * pkijs's SignedData for `content`, with its certificates parsed once per distinct encoding: a sender
 * signs every message with the same certificate chain, and pkijs's parse of that chain was about half of
 * a signature check's cost (`npm run bench -- cades`: 5.5 ms before, 3 ms since). The chain's bytes,
 * exactly as received, are the cache's key, so a signature carrying other certificates gets its own
 * entry: what pkijs checks is the same as when it parsed them itself. The PEMs are the certificates'
 * own bytes, for the caller's trust decision.
 */
function signedData(content: asn1js.AsnType): { signed: pkijs.SignedData; pems: readonly string[] } {
  const fields = content instanceof asn1js.Sequence ? content.valueBlock.value : []
  const at = fields.findIndex((f) => f.idBlock.tagClass === 3 && f.idBlock.tagNumber === CERTIFICATES_TAG)
  if (at < 0) return { signed: new pkijs.SignedData({ schema: content }), pems: [] }
  const [certificates] = fields.splice(at, 1)
  const chain = certificateSet(Buffer.from(certificates!.valueBeforeDecodeView).toString('latin1'))
  const signed = new pkijs.SignedData({ schema: content })
  signed.certificates = [...chain.certificates]
  return { signed, pems: chain.pems }
}

const certificateSet = parsedOnce(
  64,
  (der): { certificates: readonly pkijs.Certificate[]; pems: readonly string[] } => {
    const bytes = Buffer.from(der, 'latin1')
    // the [0] IMPLICIT SET OF CertificateChoices, read as a SET to reach the elements
    const parsed = asn1js.fromBER(toArrayBuffer(bytes))
    if (parsed.offset === -1) throw new Error(`certificates: ${parsed.result.error}`)
    const elements = (parsed.result as asn1js.Constructed).valueBlock.value
    const certificates = new pkijs.CertificateSet({
      schema: new asn1js.Set({ value: elements }),
    }).certificates.filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
    const pems = elements
      .filter((e) => e.idBlock.tagClass === 1)
      .map((e) => pemOfDer(Buffer.from(e.valueBeforeDecodeView)))
    return { certificates, pems }
  },
)

function pemOfDer(der: Buffer): string {
  const b64 = der.toString('base64')
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`
}
