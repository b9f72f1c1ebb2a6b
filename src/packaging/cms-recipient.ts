// Unwrapping the content-encryption key of an EnvelopedData with the organisation's RSA key
// (efm-common DecryptCMSDocument: the keystore's private key, the first recipient).

import {
  constants,
  createPublicKey,
  type KeyObject,
  privateDecrypt,
  randomBytes,
  type X509Certificate,
} from 'node:crypto'
import { Cursor, ctx, decodeOid, endOf, TAG } from './ber.js'
import {
  CmsError,
  type Envelope,
  HASHES,
  issuerAndSerial,
  type KeyTrans,
  OID,
  parseCert,
} from './cms-envelope.js'
import { parsedOnce, privateKeyOf } from './parsed-keys.js'

export interface Decryptor {
  key: KeyObject
  cert: X509Certificate | null
}

export function loadDecryptor(privateKeyPem: string, certPem?: string): Decryptor {
  // the same key and certificate for every message received: checked once
  return decryptors(`${privateKeyPem}\u0000${certPem ?? ''}`)
}

const decryptors = parsedOnce(16, (text) => {
  const [privateKeyPem, certPem] = text.split('\u0000') as [string, string]
  return checkedDecryptor(privateKeyPem, certPem || undefined)
})

function checkedDecryptor(privateKeyPem: string, certPem?: string): Decryptor {
  let key: KeyObject
  try {
    key = privateKeyOf(privateKeyPem)
  } catch (cause) {
    throw new CmsError('malformed', 'the private key is not a valid PEM key', { cause })
  }
  if (key.asymmetricKeyType !== 'rsa') throw new CmsError('unsupported', 'only RSA keys can decrypt')
  const cert = certPem ? parseCert(certPem, 'the certificate') : null
  if (cert && !samePublicKey(cert.publicKey, createPublicKey(key))) {
    throw new CmsError('key-mismatch', 'the private key does not belong to the certificate')
  }
  return Object.freeze({ key, cert })
}

const samePublicKey = (a: KeyObject, b: KeyObject): boolean =>
  a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }))

/** Picks the recipient (ours by issuer and serial when a certificate is known) and unwraps its key. */
export function unwrapKey(env: Envelope, d: Decryptor): Buffer {
  let candidates = env.recipients
  if (d.cert) {
    const mine = issuerAndSerial(d.cert)
    candidates = candidates.filter((r) => r.issuer?.equals(mine.issuer) && r.serial?.equals(mine.serial))
    if (candidates.length === 0) {
      throw new CmsError('key-mismatch', `the message is not encrypted to certificate ${d.cert.serialNumber}`)
    }
  }
  for (const r of candidates) {
    const cek = decryptKey(r, d.key, env.cipher.keyLength)
    if (cek) return cek
  }
  throw new CmsError('key-mismatch', 'the private key does not match the recipient of the message')
}

function decryptKey(r: KeyTrans, key: KeyObject, keyLength: number): Buffer | null {
  if (r.algorithm === OID.rsaEncryption) return pkcs1Unwrap(r.encryptedKey, key, keyLength)
  if (r.algorithm !== OID.rsaesOaep)
    throw new CmsError('unsupported', `key transport ${r.algorithm} is not supported`)
  const hash = oaepHash(r.params)
  try {
    const cek = privateDecrypt(
      { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
      r.encryptedKey,
    )
    return cek.length === keyLength ? cek : null
  } catch {
    return null
  }
}

/**
 * Node 20 refuses PKCS#1 v1.5 private decryption (CVE-2023-46809), so the padding is removed here.
 * Against a padding oracle, a bad block yields a random key (implicit rejection, RFC 3218 §2.3.2): the
 * content then fails to decrypt with the same error as any other corrupt message.
 */
function pkcs1Unwrap(encrypted: Buffer, key: KeyObject, keyLength: number): Buffer {
  const fallback = randomBytes(keyLength)
  let m: Buffer
  try {
    m = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, encrypted)
  } catch {
    return fallback
  }
  const sep = m.indexOf(0, 2)
  const ok = m[0] === 0 && m[1] === 2 && sep >= 10 && m.length - sep - 1 === keyLength
  return ok ? m.subarray(sep + 1) : fallback
}

function oaepHash(params: Buffer | null): string {
  if (!params) return 'sha1'
  const c = new Cursor(params)
  const end = endOf(c.header())
  let hash = 'sha1'
  let mgf = 'sha1'
  while (c.more(end)) {
    const field = c.header()
    const inner = new Cursor(c.element().raw)
    const innerEnd = endOf(inner.header())
    const oid = decodeOid(inner.value(inner.expect(TAG.OID, 'algorithm')))
    if (field.tag === ctx(0, true)) hash = HASHES[oid] ?? oid
    else if (field.tag === ctx(1, true) && inner.more(innerEnd)) {
      const p = new Cursor(inner.element().raw)
      p.header()
      mgf = HASHES[decodeOid(p.value(p.expect(TAG.OID, 'algorithm')))] ?? 'unknown'
    }
    if (field.length === null) c.eoc()
  }
  if (hash !== mgf || !Object.values(HASHES).includes(hash)) {
    throw new CmsError('unsupported', `RSA-OAEP with ${hash} and MGF1-${mgf} is not supported`)
  }
  return hash
}
