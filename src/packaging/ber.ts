// The few BER/DER pieces the streaming CMS code needs. No library streams CMS (pkijs and asn1js parse
// and build whole buffers), so the EnvelopedData envelope is written and read here by hand; only the
// small parts (recipient infos, algorithm identifiers) are ever held in memory.

/** Raised by Cursor when the buffer ends inside an element; the caller waits for more bytes. */
export const NEED_MORE: unique symbol = Symbol('need more bytes')

export class BerError extends Error {
  override name = 'BerError'
}

export const TAG = {
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const

/** [n] context-specific tag byte, constructed or primitive. */
export const ctx = (n: number, constructed: boolean): number => 0x80 | (constructed ? 0x20 : 0) | n

// --- encoding -------------------------------------------------------------------------------------

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

/** The identifier and definite length octets, for content written separately. */
export const tagAndLength = (tag: number, n: number): Buffer =>
  Buffer.concat([Buffer.from([tag]), encodeLength(n)])

/** A definite-length element (DER style). */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content)
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body])
}

/** The header of an indefinite-length constructed element; close it with EOC. */
export const indefinite = (tag: number): Buffer => Buffer.from([tag, 0x80])
export const EOC = Buffer.from([0, 0])

export function encodeOid(oid: string): Buffer {
  const parts = oid.split('.').map(Number)
  const out = [40 * parts[0]! + parts[1]!]
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f]
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f))
    out.push(...chunk)
  }
  return tlv(TAG.OID, Buffer.from(out))
}

export function decodeOid(value: Buffer): string {
  const parts: number[] = []
  let v = 0
  for (const b of value) {
    v = v * 128 + (b & 0x7f)
    if ((b & 0x80) === 0) {
      parts.push(v)
      v = 0
    }
  }
  const first = parts.shift() ?? 0
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80]
  return [...head, ...parts].join('.')
}

export const smallInt = (n: number): Buffer => tlv(TAG.INTEGER, Buffer.from([n]))

// --- decoding -------------------------------------------------------------------------------------

export interface Header {
  /** first tag byte (class, constructed bit and low tag number; high tag numbers are not used by CMS) */
  tag: number
  constructed: boolean
  /** content length, or null when indefinite */
  length: number | null
  /** absolute offset of the content octets */
  contentStart: number
}

/** A read position over a growing buffer; every read throws NEED_MORE when the bytes are not there yet. */
export class Cursor {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos
  }

  private byte(): number {
    if (this.pos >= this.buf.length) throw NEED_MORE
    return this.buf[this.pos++]!
  }

  header(): Header {
    const tag = this.byte()
    if ((tag & 0x1f) === 0x1f) throw new BerError('high tag numbers are not used in CMS')
    const first = this.byte()
    let length: number | null
    if (first < 0x80) length = first
    else if (first === 0x80) {
      if ((tag & 0x20) === 0) throw new BerError('indefinite length on a primitive element')
      length = null
    } else {
      const n = first & 0x7f
      if (n > 6) throw new BerError(`length of ${n} bytes is too large`)
      length = 0
      for (let i = 0; i < n; i++) length = length * 256 + this.byte()
    }
    return { tag, constructed: (tag & 0x20) !== 0, length, contentStart: this.pos }
  }

  peekTag(): number {
    if (this.pos >= this.buf.length) throw NEED_MORE
    return this.buf[this.pos]!
  }

  isEoc(): boolean {
    if (this.remaining < 2) throw NEED_MORE
    return this.buf[this.pos] === 0 && this.buf[this.pos + 1] === 0
  }

  eoc(): void {
    if (!this.isEoc()) throw new BerError('expected end-of-contents')
    this.pos += 2
  }

  /** Header with an expected tag byte. */
  expect(tag: number, what: string): Header {
    const at = this.pos
    const h = this.header()
    if (h.tag !== tag) {
      throw new BerError(
        `expected ${what} (tag 0x${tag.toString(16)}) at offset ${at}, found 0x${h.tag.toString(16)}`,
      )
    }
    return h
  }

  /** A whole element (any length form); returns its full encoding and header. */
  element(depth = 0): { header: Header; raw: Buffer; start: number } {
    if (depth > 32) throw new BerError('nesting too deep')
    const start = this.pos
    const header = this.header()
    if (header.length !== null) {
      if (this.remaining < header.length) throw NEED_MORE
      this.pos += header.length
    } else {
      while (!this.isEoc()) this.element(depth + 1)
      this.pos += 2
    }
    return { header, raw: this.buf.subarray(start, this.pos), start }
  }

  /** The content of a primitive element, or the concatenated segments of a constructed string. */
  value(h: Header, depth = 0): Buffer {
    if (!h.constructed) {
      if (this.remaining < h.length!) throw NEED_MORE
      const v = this.buf.subarray(this.pos, this.pos + h.length!)
      this.pos += h.length!
      return v
    }
    if (depth > 8) throw new BerError('string nesting too deep')
    const parts: Buffer[] = []
    const end = h.length === null ? null : this.pos + h.length
    while (end === null ? !this.isEoc() : this.pos < end) parts.push(this.value(this.header(), depth + 1))
    if (end === null) this.pos += 2
    else if (this.pos !== end) throw new BerError('constructed string overruns its length')
    return Buffer.concat(parts)
  }

  /** True when a definite container ending at `end` (or an indefinite one, at EOC) has more children. */
  more(end: number | null): boolean {
    return end === null ? !this.isEoc() : this.pos < end
  }
}

/** Absolute end offset of a header's content, or null for indefinite. */
export const endOf = (h: Header): number | null => (h.length === null ? null : h.contentStart + h.length)
