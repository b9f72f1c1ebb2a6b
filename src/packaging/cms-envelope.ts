// The parts of a CMS EnvelopedData (RFC 5652 §6) that come before and after the encrypted content:
// building the prefix we write and parsing the prefix we read (cms-recipient.ts unwraps the key).
// As the reference's CreateCMSDocument (felleslosninger/efm-common): AES-256-CBC, one
// KeyTransRecipientInfo, RSAES-OAEP with SHA-256 / MGF1-SHA-256, PKCS#1 v1.5 for DPE.

import { constants, publicEncrypt, randomBytes, type X509Certificate } from 'node:crypto'
import {
  BerError,
  Cursor,
  ctx,
  decodeOid,
  encodeOid,
  endOf,
  type Header,
  indefinite,
  NEED_MORE,
  smallInt,
  TAG,
  tlv,
} from './ber.js'
import { certificateOf } from './parsed-keys.js'

export type CmsErrorReason = 'malformed' | 'truncated' | 'unsupported' | 'key-mismatch' | 'corrupt'

export class CmsError extends Error {
  override name = 'CmsError'
  constructor(
    readonly reason: CmsErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export const OID = {
  data: '1.2.840.113549.1.7.1',
  envelopedData: '1.2.840.113549.1.7.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  mgf1: '1.2.840.113549.1.1.8',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const

const CIPHERS: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
}
const AES256_CBC = '2.16.840.1.101.3.4.1.42'
export const HASHES: Record<string, string> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
}

export type KeyEncryption = 'rsaes-oaep-sha256' | 'rsa-pkcs1'

// --- certificates ---------------------------------------------------------------------------------

/** The DER issuer Name and serialNumber value of a certificate, for IssuerAndSerialNumber. */
export function issuerAndSerial(cert: X509Certificate): { issuer: Buffer; serial: Buffer } {
  const c = new Cursor(cert.raw)
  c.expect(TAG.SEQUENCE, 'Certificate')
  c.expect(TAG.SEQUENCE, 'TBSCertificate')
  if (c.peekTag() === ctx(0, true)) c.element()
  const serial = c.value(c.expect(TAG.INTEGER, 'serialNumber'))
  c.element() // signature AlgorithmIdentifier
  const issuer = c.element().raw
  return { issuer: Buffer.from(issuer), serial: Buffer.from(serial) }
}

export function parseCert(pem: string, what: string): X509Certificate {
  try {
    return certificateOf(pem)
  } catch (cause) {
    throw new CmsError('malformed', `${what} is not a valid X.509 certificate`, { cause })
  }
}

// --- writing --------------------------------------------------------------------------------------

const algorithm = (oid: string, params?: Buffer): Buffer =>
  tlv(TAG.SEQUENCE, encodeOid(oid), ...(params ? [params] : []))

// RSAES-OAEP-params with SHA-256 and MGF1-SHA-256; pSourceAlgorithm is left at its DEFAULT (empty
// label), which DER requires to be omitted. BouncyCastle and OpenSSL read both forms.
const OAEP_SHA256 = algorithm(
  OID.rsaesOaep,
  tlv(
    TAG.SEQUENCE,
    tlv(ctx(0, true), algorithm(OID.sha256, tlv(TAG.NULL))),
    tlv(ctx(1, true), algorithm(OID.mgf1, algorithm(OID.sha256, tlv(TAG.NULL)))),
  ),
)
const PKCS1 = algorithm(OID.rsaEncryption, tlv(TAG.NULL))

/**
 * Everything up to the first content octet of encryptedContent, in BER indefinite-length form so the
 * content size need not be known. The caller writes OCTET STRING segments, then five EOCs.
 */
export function envelopePrefix(
  cert: X509Certificate,
  keyEncryption: KeyEncryption,
  cek: Buffer,
  iv: Buffer,
): Buffer {
  const { issuer, serial } = issuerAndSerial(cert)
  const oaep = keyEncryption === 'rsaes-oaep-sha256'
  const encryptedKey = publicEncrypt(
    oaep
      ? { key: cert.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }
      : { key: cert.publicKey, padding: constants.RSA_PKCS1_PADDING },
    cek,
  )
  const ktri = tlv(
    TAG.SEQUENCE,
    smallInt(0),
    tlv(TAG.SEQUENCE, issuer, tlv(TAG.INTEGER, serial)),
    oaep ? OAEP_SHA256 : PKCS1,
    tlv(TAG.OCTET_STRING, encryptedKey),
  )
  return Buffer.concat([
    indefinite(TAG.SEQUENCE), // ContentInfo
    encodeOid(OID.envelopedData),
    indefinite(ctx(0, true)),
    indefinite(TAG.SEQUENCE), // EnvelopedData
    smallInt(0), // version 0: no originatorInfo, only version-0 KTRIs, no unprotectedAttrs
    tlv(TAG.SET, ktri),
    indefinite(TAG.SEQUENCE), // EncryptedContentInfo
    encodeOid(OID.data),
    algorithm(AES256_CBC, tlv(TAG.OCTET_STRING, iv)),
    indefinite(ctx(0, true)), // encryptedContent [0] IMPLICIT OCTET STRING, constructed
  ])
}

export const newContentKey = (): { cek: Buffer; iv: Buffer } => ({
  cek: randomBytes(32),
  iv: randomBytes(16),
})

// --- reading --------------------------------------------------------------------------------------

export interface KeyTrans {
  issuer: Buffer | null
  serial: Buffer | null
  algorithm: string
  params: Buffer | null
  encryptedKey: Buffer
}

export interface Envelope {
  recipients: KeyTrans[]
  cipher: { name: string; keyLength: number; iv: Buffer }
  /** header of encryptedContent; its content starts at header.contentStart */
  content: Header
  /** ends (absolute, or null = indefinite) of ContentInfo, [0], EnvelopedData, EncryptedContentInfo */
  containers: (number | null)[]
}

/** Parses the prefix; throws NEED_MORE when `buf` does not hold it all yet, CmsError when it is wrong. */
export function parseEnvelope(buf: Buffer): Envelope {
  const c = new Cursor(buf)
  try {
    const ci = c.expect(TAG.SEQUENCE, 'ContentInfo')
    const type = decodeOid(c.value(c.expect(TAG.OID, 'contentType')))
    if (type !== OID.envelopedData)
      throw new CmsError('unsupported', `not CMS EnvelopedData (content type ${type})`)
    const explicit = c.expect(ctx(0, true), '[0] content')
    const env = c.expect(TAG.SEQUENCE, 'EnvelopedData')
    c.value(c.expect(TAG.INTEGER, 'version'))
    if (c.peekTag() === ctx(0, true)) c.element() // originatorInfo
    const recipients = parseRecipients(c)
    const eci = c.expect(TAG.SEQUENCE, 'EncryptedContentInfo')
    c.element() // contentType
    const cipher = parseCipher(c)
    const eciEnd = endOf(eci)
    if (eciEnd === null ? c.isEoc() : c.pos >= eciEnd)
      throw new CmsError('unsupported', 'no encrypted content (detached)')
    const content = c.header()
    if (content.tag !== ctx(0, false) && content.tag !== ctx(0, true)) {
      throw new CmsError('malformed', 'expected encryptedContent [0]')
    }
    return { recipients, cipher, content, containers: [endOf(ci), endOf(explicit), endOf(env), eciEnd] }
  } catch (e) {
    throw e instanceof BerError ? new CmsError('malformed', `not valid CMS: ${e.message}`, { cause: e }) : e
  }
}

function parseRecipients(c: Cursor): KeyTrans[] {
  const set = c.expect(TAG.SET, 'recipientInfos')
  const end = endOf(set)
  const out: KeyTrans[] = []
  while (c.more(end)) {
    const el = c.element()
    if (el.header.tag !== TAG.SEQUENCE) continue // kari, kekri, pwri, ori: not for us
    out.push(parseKeyTrans(new Cursor(el.raw)))
  }
  if (end === null) c.eoc()
  if (out.length === 0) throw new CmsError('unsupported', 'no KeyTransRecipientInfo in the EnvelopedData')
  return out
}

function parseKeyTrans(c: Cursor): KeyTrans {
  c.header()
  c.value(c.expect(TAG.INTEGER, 'version'))
  let issuer: Buffer | null = null
  let serial: Buffer | null = null
  const rid = c.element()
  if (rid.header.tag === TAG.SEQUENCE) {
    const r = new Cursor(rid.raw)
    r.header()
    issuer = Buffer.from(r.element().raw)
    serial = Buffer.from(r.value(r.expect(TAG.INTEGER, 'serialNumber')))
  }
  const alg = new Cursor(c.element().raw)
  const algEnd = endOf(alg.header())
  const algorithm = decodeOid(alg.value(alg.expect(TAG.OID, 'algorithm')))
  const params = alg.more(algEnd) ? Buffer.from(alg.element().raw) : null
  const encryptedKey = Buffer.from(c.value(c.header()))
  return { issuer, serial, algorithm, params, encryptedKey }
}

function parseCipher(c: Cursor): Envelope['cipher'] {
  const alg = new Cursor(c.element().raw)
  alg.header()
  const oid = decodeOid(alg.value(alg.expect(TAG.OID, 'contentEncryptionAlgorithm')))
  const known = CIPHERS[oid]
  if (!known) throw new CmsError('unsupported', `content encryption ${oid} is not supported (AES-CBC only)`)
  const iv = Buffer.from(alg.value(alg.expect(TAG.OCTET_STRING, 'IV')))
  if (iv.length !== 16) throw new CmsError('malformed', `IV of ${iv.length} bytes`)
  return { ...known, iv }
}

export { NEED_MORE }
