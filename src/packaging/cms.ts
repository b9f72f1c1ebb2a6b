// CMS EnvelopedData as stream stages, in constant memory for any size. The reference streams with
// BouncyCastle's CMSEnvelopedDataStreamGenerator (efm-common CreateCMSDocument); no
// JavaScript library streams CMS, so the BER envelope is written and parsed by hand here
// (cms-envelope.ts, ber.ts) and node:crypto does the RSA and AES.
//
// Written: BER with indefinite lengths, the content as a constructed OCTET STRING of segments, so the
// size need not be known. Read: that, or the definite-length DER `openssl cms -encrypt` writes, with
// the content primitive or in (nested) segments.

import { createCipheriv, createDecipheriv, type Decipher } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { BerError, Cursor, EOC, endOf, TAG, tagAndLength, tlv } from './ber.js'
import {
  CmsError,
  type Envelope,
  envelopePrefix,
  type KeyEncryption,
  NEED_MORE,
  newContentKey,
  parseCert,
  parseEnvelope,
} from './cms-envelope.js'
import { type Decryptor, loadDecryptor, unwrapKey } from './cms-recipient.js'

export { CmsError, type CmsErrorReason, type KeyEncryption } from './cms-envelope.js'

/** The prefix (recipient infos, algorithms) of a sane message is a few kB; more means garbage. */
const MAX_HEADER_BYTES = 1024 * 1024
/** What may follow the content: EOCs and unprotectedAttrs. */
const MAX_TAIL_BYTES = 64 * 1024
const MAX_SEGMENT_NESTING = 8

/**
 * Encrypts a byte stream to the holder of `recipientCertPem`: AES-256-CBC content, one
 * KeyTransRecipientInfo by issuerAndSerialNumber, RSA-OAEP SHA-256 by default as the reference
 * (`rsa-pkcs1` is the reference's DPE choice).
 */
export function encryptStream(
  recipientCertPem: string,
  opts: { keyEncryption?: KeyEncryption } = {},
): Transform {
  const cert = parseCert(recipientCertPem, 'the recipient certificate')
  if (cert.publicKey.asymmetricKeyType !== 'rsa') {
    throw new CmsError('unsupported', 'the recipient certificate does not hold an RSA key')
  }
  const { cek, iv } = newContentKey()
  const prefix = envelopePrefix(cert, opts.keyEncryption ?? 'rsaes-oaep-sha256', cek, iv)
  const cipher = createCipheriv('aes-256-cbc', cek, iv)
  let started = false
  const start = (t: Transform): void => {
    if (!started) t.push(prefix)
    started = true
  }
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      start(this)
      const out = cipher.update(chunk)
      if (out.length > 0) {
        // header and data pushed apart: no copy of the (possibly large) chunk
        this.push(tagAndLength(TAG.OCTET_STRING, out.length))
        this.push(out)
      }
      cb()
    },
    flush(cb) {
      start(this)
      // encryptedContent, EncryptedContentInfo, EnvelopedData, [0] and ContentInfo all end with EOC
      this.push(Buffer.concat([tlv(TAG.OCTET_STRING, cipher.final()), EOC, EOC, EOC, EOC, EOC]))
      cb()
    },
  })
}

/**
 * Decrypts an EnvelopedData stream with `privateKeyPem`. With `certPem` the recipient is chosen by
 * issuer and serial number and the key is checked against the certificate; without it, the first
 * recipient the key opens is used (the reference takes the first recipient). Errors are CmsError.
 * Plaintext is emitted as it is decrypted: only a stream that ends without error is the whole message.
 */
export function decryptStream(privateKeyPem: string, certPem?: string): Transform {
  return new DecryptTransform(loadDecryptor(privateKeyPem, certPem), false)
}

/**
 * As decryptStream, for a CMS followed by other bytes (a zip's directory after a stored entry, as it
 * is downloaded): they are not read, and `cmsBytes` says where the message ended once it has (null
 * until then). Truncated or broken, it fails as decryptStream does.
 */
export function decryptStreamWithin(privateKeyPem: string, certPem?: string): DecryptTransform {
  return new DecryptTransform(loadDecryptor(privateKeyPem, certPem), true)
}

export class DecryptTransform extends Transform {
  private state: 'header' | 'content' | 'tail' | 'ended' = 'header'
  /** the message's length, once it has ended (`within` only) */
  cmsBytes: number | null = null
  private pending: Buffer = Buffer.alloc(0)
  /** absolute offset in the message of pending[0] */
  private base = 0
  private env: Envelope | null = null
  private decipher: Decipher | null = null
  /** ends of the open constructed segments of encryptedContent (null = indefinite) */
  private frames: (number | null)[] = []
  /** bytes left in the current primitive segment */
  private prim = 0

  constructor(
    private readonly decryptor: Decryptor,
    /** what follows the message is not read (decryptStreamWithin) */
    private readonly within: boolean,
  ) {
    super()
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.state === 'ended') {
      cb()
      return
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    try {
      if (this.state === 'header') this.readHeader()
      if (this.state === 'content') this.readContent()
      if (this.state === 'tail' && this.within) this.endWithin()
      if (this.state === 'tail' && this.pending.length > MAX_TAIL_BYTES) {
        throw new CmsError('malformed', 'unexpected data after the encrypted content')
      }
      cb()
    } catch (e) {
      cb(asCmsError(e))
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (this.state === 'ended') {
        cb()
        return
      }
      if (this.state === 'header' && this.base === 0 && this.pending.length === 0) {
        throw new CmsError('truncated', 'empty input: no CMS message')
      }
      if (this.state !== 'tail')
        throw new CmsError('truncated', 'the CMS message ends inside the encrypted content')
      this.checkTail()
      cb(null, this.last())
    } catch (e) {
      cb(asCmsError(e))
    }
  }

  /** the last block, its padding checked */
  private last(): Buffer {
    try {
      return this.decipher!.final()
    } catch (cause) {
      throw new CmsError('corrupt', 'the content does not decrypt: wrong key or corrupted message', {
        cause,
      })
    }
  }

  /** Ends the message once its closing octets are all there; what follows is not read. */
  private endWithin(): void {
    let closing: number
    try {
      closing = this.closing()
    } catch (e) {
      if (e === NEED_MORE) return
      throw e
    }
    this.push(this.last())
    this.cmsBytes = this.base + closing
    this.state = 'ended'
    this.pending = Buffer.alloc(0)
  }

  private advance(n: number): void {
    this.pending = this.pending.subarray(n)
    this.base += n
  }

  private readHeader(): void {
    let env: Envelope
    try {
      env = parseEnvelope(this.pending)
    } catch (e) {
      if (e !== NEED_MORE) throw e
      if (this.pending.length > MAX_HEADER_BYTES)
        throw new CmsError('malformed', 'CMS header larger than 1 MiB')
      return
    }
    const cek = unwrapKey(env, this.decryptor)
    this.decipher = createDecipheriv(env.cipher.name, cek, env.cipher.iv)
    this.env = env
    this.advance(env.content.contentStart)
    if (env.content.constructed) this.frames = [endOf(env.content)]
    else this.prim = env.content.length!
    this.state = 'content'
  }

  private readContent(): void {
    for (;;) {
      if (this.prim > 0) {
        if (this.pending.length === 0) return
        const n = Math.min(this.prim, this.pending.length)
        const out = this.decipher!.update(this.pending.subarray(0, n))
        if (out.length > 0) this.push(out)
        this.advance(n)
        this.prim -= n
        continue
      }
      if (this.frames.length === 0) {
        this.state = 'tail'
        return
      }
      if (!this.nextSegment()) return
    }
  }

  /** Reads the next segment header or closes a frame; false when more bytes are needed. */
  private nextSegment(): boolean {
    const end = this.frames[this.frames.length - 1]!
    if (end !== null && this.base === end) {
      this.frames.pop()
      return true
    }
    const c = new Cursor(this.pending)
    try {
      if (end === null && c.isEoc()) {
        this.advance(2)
        this.frames.pop()
        return true
      }
      const h = c.header()
      const segEnd = endOf(h)
      if (end !== null && segEnd !== null && this.base + segEnd > end) {
        throw new CmsError('malformed', 'an encrypted content segment overruns its container')
      }
      if (h.tag === TAG.OCTET_STRING) this.prim = h.length!
      else if (h.tag === (TAG.OCTET_STRING | 0x20) && this.frames.length < MAX_SEGMENT_NESTING) {
        this.frames.push(segEnd === null ? null : this.base + segEnd)
      } else
        throw new CmsError('malformed', `unexpected tag 0x${h.tag.toString(16)} in the encrypted content`)
      this.advance(c.pos)
      return true
    } catch (e) {
      if (e === NEED_MORE) return false
      throw e
    }
  }

  /** After the content: EncryptedContentInfo, EnvelopedData (maybe unprotectedAttrs), [0], ContentInfo end. */
  private checkTail(): void {
    let closing: number
    try {
      closing = this.closing()
    } catch (e) {
      if (e === NEED_MORE) throw new CmsError('truncated', 'the CMS message ends before its closing octets')
      throw e
    }
    const trailing = this.pending.length - closing
    if (trailing > 0)
      throw new CmsError('malformed', `${trailing} bytes of trailing data after the CMS message`)
  }

  /** the length of the octets that close the message at the start of `pending` (NEED_MORE until they are there) */
  private closing(): number {
    const [ci, explicit, env, eci] = this.env!.containers
    const c = new Cursor(this.pending)
    const close = (end: number | null | undefined): void => {
      if (end === null || end === undefined) c.eoc()
      else if (this.base + c.pos !== end)
        throw new CmsError('malformed', 'unexpected data inside the EnvelopedData')
    }
    close(eci)
    const more = env === null ? !c.isEoc() : this.base + c.pos < env!
    if (more && c.peekTag() === 0xa1) c.element() // unprotectedAttrs
    close(env)
    close(explicit)
    close(ci)
    return c.pos
  }
}

function asCmsError(e: unknown): Error {
  if (e instanceof CmsError) return e
  if (e instanceof BerError) return new CmsError('malformed', `not valid CMS: ${e.message}`, { cause: e })
  return new CmsError('corrupt', `CMS decryption failed: ${(e as Error)?.message ?? e}`, { cause: e })
}
