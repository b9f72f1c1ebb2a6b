// A streaming zip writer, in constant memory, paced by its reader. Written here rather than taken from
// a library because none of the well-kept npm writers can stream an entry STORED with its size and
// CRC-32 in the local header: yazl (3.3) sets general-purpose bit 3 and writes a data descriptor for
// every streamed entry, takes no CRC known in advance, and puts no zip64 extra field in local headers;
// compress-commons (archiver, zip-stream) sets bit 3 on every streamed entry too; zip.js writes without
// a data descriptor only by buffering the whole entry (its `dataDescriptor: false` turns on
// `bufferedWrite`). Java's `java.util.zip.ZipInputStream`, which many receivers read an ASiC-E with,
// refuses a STORED entry that has a data descriptor ("only DEFLATED entries can have EXT descriptor").
//
// What it writes (PKWARE APPNOTE 6.3): entries from a Buffer, stored or deflated, sizes and CRC-32 in
// the local header; STORED entries from a stream whose size and CRC-32 the caller gives up front (checked
// against what passes: a mismatch fails the stream), or, asked for by name (`trailingSizes`), with a data
// descriptor instead, for bytes made on the fly; DEFLATED entries from a stream, with a data
// descriptor after the data. Names are UTF-8 (bit 11), times DOS (local time, as zip tools show them),
// zip64 extra fields and end records only where a size, offset or count needs them (or `forceZip64`).

import { addAbortSignal, pipeline, Readable, Transform } from 'node:stream'
import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib'

/** An entry whose bytes are at hand. */
export interface ZipBufferEntry {
  name: string
  data: Buffer
  method: 'store' | 'deflate'
  /** the entry's comment in the central directory */
  comment?: string
}

/**
 * An entry streamed from `open()`; a stored one needs `size` and `crc32` before its first byte, unless
 * it is `trailingSizes`.
 */
export interface ZipStreamEntry {
  name: string
  open: () => Readable
  method: 'store' | 'deflate'
  /** the bytes `open()` yields; required to store (unless `trailingSizes`), checked either way */
  size?: number
  /** CRC-32 of those bytes (unsigned); required to store (unless `trailingSizes`), checked either way */
  crc32?: number
  /**
   * Stored with its size and CRC-32 in a data descriptor after the data (bit 3), for bytes made as
   * they are written whose CRC no one knows in advance. Only for zips read through their central
   * directory (java.util.zip.ZipFile, yauzl, unzip): Java's ZipInputStream refuses such an entry.
   */
  trailingSizes?: boolean
  comment?: string
}

export type ZipEntry = ZipBufferEntry | ZipStreamEntry

export interface ZipOptions {
  /** the entries' modification time */
  mtime: Date
  /** the archive comment */
  comment?: string
  /** zip64 fields wherever an entry with known sizes can carry them, and the zip64 end records (tests) */
  forceZip64?: boolean
  /** deflate level of deflated entries; zlib's default (6) unless told */
  level?: number
}

/** A streamed entry whose bytes are not the ones declared: a source that changed, or a caller's bug. */
export class ZipEntryMismatch extends Error {
  override name = 'ZipEntryMismatch'
}

const MAX32 = 0xffffffff
const MAX16 = 0xffff
const UTF8 = 1 << 11
const DESCRIPTOR = 1 << 3
const STORE = 0
const DEFLATE = 8
/** 2.0: deflate; 4.5: zip64 */
const [V20, V45] = [20, 45]
/** made by: Unix (3), spec 4.5; external attributes: a regular file, rw-r--r-- */
const MADE_BY = (3 << 8) | V45
const EXTERNAL_ATTRIBUTES = (0o100644 << 16) >>> 0

interface Written {
  label: string
  name: Buffer
  comment: Buffer
  flags: number
  method: number
  crc32: number
  compressed: number
  size: number
  offset: number
  zip64Local: boolean
}

/**
 * The zip of `entries` as a stream. `entries` gets a signal aborted when the stream is destroyed (its
 * reader gave up), for the work it does between entries; the writer closes the source it is reading.
 */
export function zipStream(
  entries: (signal: AbortSignal) => AsyncIterable<ZipEntry> | Iterable<ZipEntry>,
  opts: ZipOptions,
): Readable {
  const abort = new AbortController()
  const bytes = writeZip(entries(abort.signal), opts, abort.signal)
  let pumping = false
  const out = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      void pump()
    },
    destroy(err, cb) {
      abort.abort()
      // a generator suspended at a yield closes its open source on return; one still running sees the abort
      if (!pumping) bytes.return(undefined).catch(() => {})
      cb(err)
    },
  })
  async function pump(): Promise<void> {
    if (pumping) return
    pumping = true
    try {
      for (;;) {
        const { value, done } = await bytes.next()
        // destroyed while the generator ran: it is now at a yield, and its return closes its source
        if (out.destroyed) return void bytes.return(undefined).catch(() => {})
        if (done) return void out.push(null)
        if (!out.push(value)) return
      }
    } catch (e) {
      out.destroy(e as Error)
    } finally {
      pumping = false
    }
  }
  return out
}

async function* writeZip(
  entries: AsyncIterable<ZipEntry> | Iterable<ZipEntry>,
  opts: ZipOptions,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  const [time, date] = dosDateTime(opts.mtime)
  const written: Written[] = []
  let offset = 0
  for await (const entry of entries) {
    const data =
      'data' in entry && entry.method === 'deflate'
        ? deflateRawSync(entry.data, { level: opts.level })
        : 'data' in entry
          ? entry.data
          : null
    const w = 'data' in entry ? bufferRecord(entry, data!, offset) : streamRecord(entry, offset, opts)
    const head = localHeader(w, time, date)
    yield head
    offset += head.length
    if ('data' in entry) {
      yield data!
      offset += data!.length
    } else {
      const body =
        w.method !== STORE
          ? deflatedBody(entry, w, opts, signal)
          : w.flags & DESCRIPTOR
            ? trailedBody(entry, w, signal)
            : storedBody(entry, w, signal)
      for await (const chunk of body) {
        offset += chunk.length
        yield chunk
      }
    }
    written.push(w)
  }
  yield* endRecords(written, offset, time, date, opts)
}

function bufferRecord(e: ZipBufferEntry, data: Buffer, offset: number): Written {
  return {
    ...names(e),
    flags: UTF8,
    method: e.method === 'deflate' ? DEFLATE : STORE,
    crc32: crc32(e.data),
    compressed: data.length,
    size: e.data.length,
    offset,
    // small by nature; `mimetype` of an ASiC-E must have no extra field at all
    zip64Local: false,
  }
}

function streamRecord(e: ZipStreamEntry, offset: number, opts: ZipOptions): Written {
  const trailing = e.method === 'store' && e.trailingSizes === true
  if (e.method === 'store' && !trailing && (e.size === undefined || e.crc32 === undefined))
    throw new Error(`zip entry ${e.name}: a stored stream needs its size and CRC-32 up front`)
  if (e.size !== undefined && !(Number.isSafeInteger(e.size) && e.size >= 0))
    throw new Error(`zip entry ${e.name}: its size ${e.size} is not a byte count`)
  if (e.crc32 !== undefined && !(Number.isInteger(e.crc32) && e.crc32 >= 0 && e.crc32 <= MAX32))
    throw new Error(`zip entry ${e.name}: its CRC-32 ${e.crc32} is not an unsigned 32-bit number`)
  const stored = e.method === 'store' && !trailing
  const size = e.size ?? 0
  return {
    ...names(e),
    flags: stored ? UTF8 : UTF8 | DESCRIPTOR,
    method: e.method === 'store' ? STORE : DEFLATE,
    crc32: stored ? e.crc32! : 0,
    compressed: stored ? size : 0,
    size: stored ? size : 0,
    offset,
    // A deflated entry's descriptor is zip64 (8-byte sizes) only when its data is over 4 GiB, never
    // forced: Java 17's ZipInputStream picks the descriptor's width from the byte counts alone.
    zip64Local: stored ? opts.forceZip64 === true || size >= MAX32 : size >= MAX32,
  }
}

function names(e: ZipEntry): { label: string; name: Buffer; comment: Buffer } {
  const name = Buffer.from(e.name, 'utf8')
  const comment = Buffer.from(e.comment ?? '', 'utf8')
  if (name.length > MAX16 || comment.length > MAX16)
    throw new Error(`zip entry ${e.name}: its name or comment is longer than 65535 bytes`)
  return { label: e.name, name, comment }
}

function localHeader(w: Written, time: number, date: number): Buffer {
  const extra = w.zip64Local ? zip64Extra([w.size, w.compressed]) : Buffer.alloc(0)
  const h = Buffer.alloc(30)
  h.writeUInt32LE(0x04034b50, 0)
  h.writeUInt16LE(w.zip64Local ? V45 : V20, 4)
  h.writeUInt16LE(w.flags, 6)
  h.writeUInt16LE(w.method, 8)
  h.writeUInt16LE(time, 10)
  h.writeUInt16LE(date, 12)
  h.writeUInt32LE(w.crc32, 14)
  h.writeUInt32LE(w.zip64Local ? MAX32 : w.compressed, 18)
  h.writeUInt32LE(w.zip64Local ? MAX32 : w.size, 22)
  h.writeUInt16LE(w.name.length, 26)
  h.writeUInt16LE(extra.length, 28)
  return Buffer.concat([h, w.name, extra])
}

/** The zip64 extended information extra field (0x0001) holding `values`, 8 bytes each. */
function zip64Extra(values: number[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length)
  b.writeUInt16LE(0x0001, 0)
  b.writeUInt16LE(8 * values.length, 2)
  for (const [i, v] of values.entries()) b.writeBigUInt64LE(BigInt(v), 4 + 8 * i)
  return b
}

/** The stored bytes as they pass, held to the declared size and CRC-32. */
async function* storedBody(e: ZipStreamEntry, w: Written, signal: AbortSignal): AsyncGenerator<Buffer> {
  let [crc, n] = [0, 0]
  for await (const chunk of addAbortSignal(signal, e.open()) as AsyncIterable<Buffer>) {
    crc = crc32(chunk, crc)
    n += chunk.length
    // fails as soon as the source runs over, not after it has all been written
    if (n > w.size) throw mismatch(w, n, crc)
    yield chunk
  }
  if (n !== w.size || crc !== w.crc32) throw mismatch(w, n, crc)
}

/**
 * Stored bytes whose size and CRC-32 are counted as they pass, then the data descriptor (zip64 when the
 * entry came to 4 GiB or more; the central directory then holds the sizes in a zip64 extra field).
 */
async function* trailedBody(e: ZipStreamEntry, w: Written, signal: AbortSignal): AsyncGenerator<Buffer> {
  let [crc, n] = [0, 0]
  for await (const chunk of addAbortSignal(signal, e.open()) as AsyncIterable<Buffer>) {
    crc = crc32(chunk, crc)
    n += chunk.length
    yield chunk
  }
  if ((e.size !== undefined && n !== e.size) || (e.crc32 !== undefined && crc !== e.crc32))
    throw mismatch({ ...w, size: e.size ?? n, crc32: e.crc32 ?? crc }, n, crc)
  Object.assign(w, { crc32: crc, size: n, compressed: n, zip64Local: w.zip64Local || n >= MAX32 })
  yield dataDescriptor(w)
}

/** The deflated bytes, then the data descriptor; checked against the declared size and CRC when given. */
async function* deflatedBody(
  e: ZipStreamEntry,
  w: Written,
  opts: ZipOptions,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  let [crc, n, compressed] = [0, 0, 0]
  const count = new Transform({
    transform(chunk: Buffer, _e, done) {
      crc = crc32(chunk, crc)
      n += chunk.length
      done(null, chunk)
    },
  })
  let failed: Error | null = null
  const deflated = pipeline(
    addAbortSignal(signal, e.open()),
    count,
    createDeflateRaw({ level: opts.level }),
    (err) => {
      failed = err ?? null
    },
  )
  for await (const chunk of deflated as AsyncIterable<Buffer>) {
    compressed += chunk.length
    yield chunk
  }
  if (failed) throw failed
  if ((e.size !== undefined && n !== e.size) || (e.crc32 !== undefined && crc !== e.crc32))
    throw mismatch({ ...w, size: e.size ?? n, crc32: e.crc32 ?? crc }, n, crc)
  if (!w.zip64Local && (n >= MAX32 || compressed >= MAX32))
    throw new Error(`zip entry ${w.label}: over 4 GiB, but not declared so (give its size)`)
  Object.assign(w, { crc32: crc, size: n, compressed })
  yield dataDescriptor(w)
}

function dataDescriptor(w: Written): Buffer {
  const wide = w.zip64Local
  const d = Buffer.alloc(wide ? 24 : 16)
  d.writeUInt32LE(0x08074b50, 0)
  d.writeUInt32LE(w.crc32, 4)
  if (wide) {
    d.writeBigUInt64LE(BigInt(w.compressed), 8)
    d.writeBigUInt64LE(BigInt(w.size), 16)
  } else {
    d.writeUInt32LE(w.compressed, 8)
    d.writeUInt32LE(w.size, 12)
  }
  return d
}

function mismatch(w: Written, n: number, crc: number): ZipEntryMismatch {
  return new ZipEntryMismatch(
    `zip entry ${w.label}: its source gave ${n} bytes with CRC-32 ${hex(crc)}, not the ${w.size} bytes ` +
      `with CRC-32 ${hex(w.crc32)} declared (did it change while the zip was written?)`,
  )
}

const hex = (n: number): string => n.toString(16).padStart(8, '0')

function* endRecords(
  written: Written[],
  cdOffset: number,
  time: number,
  date: number,
  opts: ZipOptions,
): Generator<Buffer> {
  const force = opts.forceZip64 === true
  let cdSize = 0
  for (const w of written) {
    const h = centralHeader(w, time, date, force)
    cdSize += h.length
    yield h
  }
  const comment = Buffer.from(opts.comment ?? '', 'utf8')
  if (comment.length > MAX16) throw new Error('the zip comment is longer than 65535 bytes')
  const zip64 = force || written.length >= MAX16 || cdSize >= MAX32 || cdOffset >= MAX32
  if (zip64) {
    const rec = Buffer.alloc(56 + 20)
    rec.writeUInt32LE(0x06064b50, 0)
    rec.writeBigUInt64LE(44n, 4)
    rec.writeUInt16LE(MADE_BY, 12)
    rec.writeUInt16LE(V45, 14)
    // disk numbers (0) at 16 and 20
    rec.writeBigUInt64LE(BigInt(written.length), 24)
    rec.writeBigUInt64LE(BigInt(written.length), 32)
    rec.writeBigUInt64LE(BigInt(cdSize), 40)
    rec.writeBigUInt64LE(BigInt(cdOffset), 48)
    // the locator: disk 0, where the record starts, one disk
    rec.writeUInt32LE(0x07064b50, 56)
    rec.writeBigUInt64LE(BigInt(cdOffset + cdSize), 64)
    rec.writeUInt32LE(1, 72)
    yield rec
  }
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  const count = zip64 ? MAX16 : written.length
  end.writeUInt16LE(count, 8)
  end.writeUInt16LE(count, 10)
  end.writeUInt32LE(zip64 ? MAX32 : cdSize, 12)
  end.writeUInt32LE(zip64 ? MAX32 : cdOffset, 16)
  end.writeUInt16LE(comment.length, 20)
  yield Buffer.concat([end, comment])
}

function centralHeader(w: Written, time: number, date: number, force: boolean): Buffer {
  // the zip64 extra holds, in this order, only the fields set to 0xffffffff here
  const big = (v: number): boolean => force || v >= MAX32
  const wide = [w.size, w.compressed, w.offset].filter((v, i) => (i < 2 ? big(v) || w.zip64Local : big(v)))
  const [size, compressed, offset] = [w.size, w.compressed, w.offset].map((v, i) =>
    (i < 2 ? big(v) || w.zip64Local : big(v)) ? MAX32 : v,
  ) as [number, number, number]
  const extra = wide.length > 0 ? zip64Extra(wide) : Buffer.alloc(0)
  const h = Buffer.alloc(46)
  h.writeUInt32LE(0x02014b50, 0)
  h.writeUInt16LE(MADE_BY, 4)
  h.writeUInt16LE(wide.length > 0 ? V45 : V20, 6)
  h.writeUInt16LE(w.flags, 8)
  h.writeUInt16LE(w.method, 10)
  h.writeUInt16LE(time, 12)
  h.writeUInt16LE(date, 14)
  h.writeUInt32LE(w.crc32, 16)
  h.writeUInt32LE(compressed, 20)
  h.writeUInt32LE(size, 24)
  h.writeUInt16LE(w.name.length, 28)
  h.writeUInt16LE(extra.length, 30)
  h.writeUInt16LE(w.comment.length, 32)
  // disk 0, internal attributes 0
  h.writeUInt32LE(EXTERNAL_ATTRIBUTES, 38)
  h.writeUInt32LE(offset, 42)
  return Buffer.concat([h, w.name, extra, w.comment])
}

/** DOS time and date of `d` in local time, as zip tools show them; 1980-01-01 is the earliest. */
function dosDateTime(d: Date): [number, number] {
  if (d.getFullYear() < 1980) return [0, (1 << 5) | 1]
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1)
  const date = ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate()
  return [time, date]
}
