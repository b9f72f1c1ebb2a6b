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
  const cert = pkijs.Certificate.fromBER(toArrayBuffer(certDer))
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
    certificates: [cert, ...(signer.chainPem ?? []).map(pemToCertificate)],
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
  try {
    const info = pkijs.ContentInfo.fromBER(toArrayBuffer(p7s))
    if (info.contentType !== pkijs.ContentInfo.SIGNED_DATA) return fail('not a CMS SignedData')
    signed = new pkijs.SignedData({ schema: info.content })
  } catch (e) {
    return fail(`the signature file is not valid CMS: ${(e as Error).message}`)
  }
  try {
    const r = await signed.verify(
      { signer: 0, data: toArrayBuffer(data), checkChain: false, extendedMode: true },
      engine,
    )
    const pem = r.signerCertificate ? certPem(r.signerCertificate) : null
    return {
      valid: r.signatureVerified === true,
      signerCertPem: pem,
      reason: r.signatureVerified ? null : r.message,
    }
  } catch (e) {
    const err = e as { message?: string; signerCertificate?: pkijs.Certificate }
    const pem = err.signerCertificate ? certPem(err.signerCertificate) : null
    return { valid: false, signerCertPem: pem, reason: err.message ?? String(e) }
  }
}

const fail = (reason: string): SignatureCheck => ({ valid: false, signerCertPem: null, reason })

function certPem(cert: pkijs.Certificate): string {
  const b64 = Buffer.from(cert.toSchema().toBER(false)).toString('base64')
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`
}
