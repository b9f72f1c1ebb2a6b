import { createHash, createPublicKey, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto'

/**
 * Self-signed X.509 v3 certificates for the stand-in's generated keys (RSA, SHA-256).
 *
 * node:crypto makes keys and reads certificates but cannot write one, and no installed package does;
 * the DER of one self-signed certificate is small enough to write here (RFC 5280 §4.1), which spares
 * operators an `openssl` binary (Windows machines of fagsystem vendors rarely have one).
 */

export interface CertificateSubject {
  /** common name */
  commonName: string
  /** organisation name */
  organization?: string
  /** `serialNumber` attribute: Norwegian business certificates carry the organisation number here */
  serialNumber?: string
  /** two-letter country code */
  country?: string
}

export interface CertificateOptions {
  privateKey: KeyObject
  subject: CertificateSubject
  notBefore: Date
  notAfter: Date
}

export function createSelfSignedCertificate(opts: CertificateOptions): X509Certificate {
  const spki = createPublicKey(opts.privateKey).export({ type: 'spki', format: 'der' })
  const name = distinguishedName(opts.subject)
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serialNumber()),
    SHA256_WITH_RSA,
    name, // issuer = subject: self-signed
    sequence(time(opts.notBefore), time(opts.notAfter)),
    name,
    spki,
    explicit(3, sequence(...extensions(spki))),
  )
  const signature = sign('sha256', tbs, opts.privateKey)
  return new X509Certificate(sequence(tbs, SHA256_WITH_RSA, bitString(signature)))
}

function extensions(spki: Buffer): Buffer[] {
  return [
    // basicConstraints, critical: not a CA
    extension('2.5.29.19', true, sequence()),
    // keyUsage, critical: digitalSignature, keyEncipherment, dataEncipherment (bits 0, 2, 3)
    extension('2.5.29.15', true, bitString(Buffer.from([0xb0]), 4)),
    // subjectKeyIdentifier: RFC 5280 §4.2.1.2 allows any unique value; a hash of the whole key is one
    extension('2.5.29.14', false, octetString(createHash('sha1').update(spki).digest())),
  ]
}

function distinguishedName(s: CertificateSubject): Buffer {
  const rdns: Buffer[] = []
  if (s.country) rdns.push(rdn('2.5.4.6', printableString(s.country)))
  if (s.organization) rdns.push(rdn('2.5.4.10', utf8String(s.organization)))
  if (s.serialNumber) rdns.push(rdn('2.5.4.5', printableString(s.serialNumber)))
  rdns.push(rdn('2.5.4.3', utf8String(s.commonName)))
  return sequence(...rdns)
}

/** A positive 128-bit serial number (RFC 5280 allows up to 20 octets). */
function serialNumber(): Buffer {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0]! & 0x7f) | 0x01
  return bytes
}

// --- DER ---

const SHA256_WITH_RSA = sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]))

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content])
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

function sequence(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items))
}

function explicit(tagNumber: number, content: Buffer): Buffer {
  return tlv(0xa0 | tagNumber, content)
}

function integer(unsigned: Buffer): Buffer {
  let i = 0
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++
  const trimmed = unsigned.subarray(i)
  return tlv(0x02, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed)
}

function bitString(bytes: Buffer, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]))
}

function octetString(bytes: Buffer): Buffer {
  return tlv(0x04, bytes)
}

function utf8String(text: string): Buffer {
  return tlv(0x0c, Buffer.from(text, 'utf8'))
}

function printableString(text: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) throw new Error(`not a PrintableString: ${text}`)
  return tlv(0x13, Buffer.from(text, 'ascii'))
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number)
  const bytes = [40 * arcs[0]! + arcs[1]!]
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80)
    bytes.push(...chunk)
  }
  return tlv(0x06, Buffer.from(bytes))
}

function rdn(type: string, value: Buffer): Buffer {
  return tlv(0x31, sequence(oid(type), value))
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  const flag = critical ? [tlv(0x01, Buffer.from([0xff]))] : []
  return sequence(oid(id), ...flag, octetString(value))
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString() // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '')
  const year = date.getUTCFullYear()
  return year >= 1950 && year < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'))
}
