// One pass over a zip's bytes as they stream, front to back, that reads each entry where its local
// header puts it: the SHA-256 and size of what it inflates to, and the bytes of the few small entries a
// check reads. It decides nothing. A zip is what its central directory says, and that lies at its end;
// the records made here are used only where yauzl, reading that directory afterwards from the kept
// tail, names an entry at the very offset a record was made, with the same method and sizes
// (`takeScanned`): yauzl would then have read the same bytes from the same place and inflated them the
// same way. A deflated entry sized by a data descriptor is read to where its deflate stream ends; a
// stored one cannot be (where it ends is unknown until the directory is read), and the pass stops
// there. Anything else (an entry not recorded, or recorded unlike the directory) is
// `NotInStreamOrder`, and the zip is read another way. So a received ASiC-E is checked in one
// decryption instead of two (asic-verify.ts).
//
// Hand-written: the streaming zip readers (unzipper, unzip-stream) trust the local headers and hand
// out entries as they go, which is what a check must not do; what is needed here is a record by
// offset for yauzl's reading of the directory to confirm.

import { createHash, type Hash } from 'node:crypto'
import { Writable } from 'node:stream'
import { createInflateRaw, type InflateRaw } from 'node:zlib'
import type yauzl from 'yauzl'
import type { ByteBudget } from '../files/byte-budget.js'
import { drained } from '../util/async.js'
import { NotInStreamOrder, type StreamedZip } from './zip-file.js'

export interface ScannedEntry {
  method: number
  compressedSize: number
  /** the bytes it inflated to (stored: its bytes) */
  size: number
  sha256: Buffer
  /** its bytes, when `hold` asked for them and they fitted */
  data: Buffer | null
}

export interface ZipScanLimits {
  /** entries beyond this many are not read (the directory's count is checked by the reader) */
  maxEntries: number
  /** an entry that declares more is not read; nor one whose declared ratio exceeds maxRatio */
  maxEntryBytes: number
  /** what the entries read may declare together */
  maxTotalBytes: number
  maxRatio: number
  /** entries declaring more than this inflate past no ratio check */
  ratioFloor: number
  /** how many bytes of the entry named so to hold in memory (0: none) */
  hold(name: string): number
  /** what the held entries may hold together */
  maxHeldBytes: number
  /** how many of the zip's last bytes to keep (its directory) */
  tailBytes: number
}

/** what one pass made: the zip's size and last bytes, and a record of each entry read, by the offset of its local header */
export interface ZipScan {
  size: number
  tail: Buffer
  entries: Map<number, ScannedEntry>
}

const LOCAL_HEADER = 0x04034b50
const CENTRAL_HEADER = 0x02014b50
const DESCRIPTOR = 0x08074b50
const LOCAL_HEADER_BYTES = 30

interface Current {
  offset: number
  method: number
  /** its compressed size, as its header gives it or as its deflate stream ends */
  compressed: number
  /** compressed bytes still to come; null: until its deflate stream ends (a data descriptor follows) */
  left: number | null
  /** what it inflated to so far, and may inflate to */
  size: number
  cap: number
  /** null: not read (only inflated, when described, to find where it ends) */
  hash: Hash | null
  inflate: InflateRaw | null
  held: Buffer[] | null
  holdUpTo: number
  failed: boolean
}

/** A sink for a zip's bytes; `result()` once it has finished. Never fails for what the bytes are. */
export class ZipScanner extends Writable {
  #limits: ZipScanLimits
  #pos = 0
  #stopped = false
  /** bytes of a header (or a data descriptor) not yet whole */
  #pending: Buffer = Buffer.alloc(0)
  #current: Current | null = null
  /** a data descriptor comes next */
  #descriptor = false
  #entries = new Map<number, ScannedEntry>()
  #declared = 0
  #inflated = 0
  #held = 0
  #tail: Buffer[] = []
  #tailLength = 0

  constructor(limits: ZipScanLimits) {
    super()
    this.#limits = limits
  }

  result(): ZipScan {
    const tail = Buffer.concat(this.#tail)
    return {
      size: this.#pos,
      tail: tail.subarray(Math.max(0, tail.length - this.#limits.tailBytes)),
      entries: this.#entries,
    }
  }

  override _write(chunk: Buffer, _e: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#keepTail(chunk)
    this.#pos += chunk.length
    if (this.#stopped) {
      done()
      return
    }
    this.#take(chunk).then(() => done(), done)
  }

  override _final(done: (error?: Error | null) => void): void {
    // an entry cut short by the zip's end is not recorded
    this.#current?.inflate?.destroy()
    this.#current = null
    done()
  }

  #keepTail(chunk: Buffer): void {
    this.#tail.push(chunk)
    this.#tailLength += chunk.length
    while (this.#tail.length > 0 && this.#tailLength - this.#tail[0]!.length >= this.#limits.tailBytes)
      this.#tailLength -= this.#tail.shift()!.length
  }

  async #take(chunk: Buffer): Promise<void> {
    // where `chunk` starts in the zip
    let at = this.#pos - chunk.length
    let rest = chunk
    while (rest.length > 0 && !this.#stopped) {
      const c = this.#current
      if (c) {
        const n = c.left === null ? await this.#untilEnd(c, rest) : Math.min(c.left, rest.length)
        if (c.left !== null) await this.#data(c, rest.subarray(0, n))
        rest = rest.subarray(n)
        at += n
        continue
      }
      const start = at - this.#pending.length
      this.#pending = this.#pending.length > 0 ? Buffer.concat([this.#pending, rest]) : rest
      const used = this.#descriptor ? descriptorLength(this.#pending) : this.#header(start, this.#pending)
      if (used === null) return void this.#stop()
      if (used === 0) return
      this.#descriptor = false
      // what follows the header (a descriptor's is read with a few bytes after it)
      rest = this.#pending.subarray(used)
      at = start + used
      this.#pending = Buffer.alloc(0)
      // a header with no data: the entry ends with it
      const started = this.#current as Current | null
      if (started?.left === 0) await this.#data(started, Buffer.alloc(0))
    }
  }

  /**
   * Reads the local header at the start of `b` (at `offset` in the zip): its length, 0 for more bytes,
   * or null where no more entries can be read.
   */
  #header(offset: number, b: Buffer): number | null {
    if (b.length < LOCAL_HEADER_BYTES) return 0
    // the central directory, or anything else: no more entries to read
    if (b.readUInt32LE(0) !== LOCAL_HEADER) return null
    const [flags, method] = [b.readUInt16LE(6), b.readUInt16LE(8)]
    const [nameLength, extraLength] = [b.readUInt16LE(26), b.readUInt16LE(28)]
    const length = LOCAL_HEADER_BYTES + nameLength + extraLength
    if (b.length < length) return 0
    // sized by a data descriptor after it: only a deflate stream says where it ends
    const described = (flags & 8) !== 0
    const sizes = described ? null : localSizes(b, nameLength, extraLength)
    if (flags & 1 || (described && method !== 8) || (!described && !sizes)) return null
    const name = b.subarray(30, 30 + nameLength).toString(flags & 0x800 ? 'utf8' : 'latin1')
    this.#current = this.#start(offset, name, method, sizes)
    return length
  }

  #stop(): void {
    this.#stopped = true
    this.#pending = Buffer.alloc(0)
    this.#current?.inflate?.destroy()
    this.#current = null
  }

  #start(
    offset: number,
    name: string,
    method: number,
    sizes: { compressed: number; declared: number } | null,
  ): Current {
    const l = this.#limits
    this.#declared += sizes?.declared ?? 0
    const read =
      (method === 0 || method === 8) &&
      this.#entries.size < l.maxEntries &&
      this.#declared <= l.maxTotalBytes &&
      (sizes === null ||
        (sizes.declared <= l.maxEntryBytes &&
          !(sizes.declared > l.ratioFloor && sizes.declared > l.maxRatio * Math.max(1, sizes.compressed))))
    const holdUpTo = read ? l.hold(name) : 0
    const current: Current = {
      offset,
      method,
      compressed: sizes?.compressed ?? 0,
      left: sizes?.compressed ?? null,
      size: 0,
      cap: sizes?.declared ?? l.maxEntryBytes,
      hash: read ? createHash('sha256') : null,
      inflate: null,
      held: holdUpTo > 0 ? [] : null,
      holdUpTo,
      failed: false,
    }
    // a described entry not read is still inflated, to find where it ends
    if (method === 8 && (read || sizes === null)) current.inflate = this.#inflater(current)
    return current
  }

  #inflater(c: Current): InflateRaw {
    const inflate = createInflateRaw()
    inflate.on('data', (out: Buffer) => this.#out(c, out))
    inflate.on('error', () => {
      c.failed = true
    })
    return inflate
  }

  /** what the entry inflated to (stored: its bytes), counted, hashed, and held when asked */
  #out(c: Current, out: Buffer): void {
    if (c.failed) return
    const l = this.#limits
    c.size += out.length
    this.#inflated += out.length
    const compressed = c.left === null ? (c.inflate?.bytesWritten ?? 0) : c.compressed
    // no more than it declared (or may), nor past the ratio as it goes: the reader refuses it anyway
    if (
      c.size > c.cap ||
      this.#inflated > l.maxTotalBytes ||
      (c.size > l.ratioFloor && c.size > l.maxRatio * Math.max(1, compressed))
    ) {
      c.failed = true
      c.inflate?.destroy()
      return
    }
    if (!c.hash) return
    c.hash.update(out)
    if (c.held && this.#held + out.length <= l.maxHeldBytes && c.size <= c.holdUpTo) {
      c.held.push(Buffer.from(out))
      this.#held += out.length
    } else c.held = null
  }

  async #data(c: Current, bytes: Buffer): Promise<void> {
    c.left = (c.left as number) - bytes.length
    if (c.inflate && !c.failed && bytes.length > 0 && !c.inflate.write(bytes)) await drained(c.inflate)
    else if (!c.inflate && c.hash) this.#out(c, bytes)
    if (c.left > 0) return
    if (c.inflate && !c.failed) {
      await new Promise<void>((resolve) => {
        c.inflate!.once('end', resolve).once('close', resolve).end()
      })
    }
    this.#end(c)
  }

  /**
   * Feeds a described entry's deflate stream with `bytes`: how many of them it took, all of them while
   * it has not ended. Node's zlib takes no byte past the end of a deflate stream (`bytesWritten`).
   */
  async #untilEnd(c: Current, bytes: Buffer): Promise<number> {
    const inflate = c.inflate!
    const before = inflate.bytesWritten
    const written = await new Promise<boolean>((resolve) => {
      const closed = (): void => resolve(false)
      inflate.once('close', closed)
      inflate.write(bytes, (error) => {
        inflate.off('close', closed)
        resolve(!error)
      })
    })
    // broken, or past what it may inflate to: where it ends is unknown
    if (!written || inflate.destroyed) {
      this.#stop()
      return bytes.length
    }
    const took = inflate.bytesWritten - before
    if (took === bytes.length) return took
    // it has ended: what it inflated to is all out once it says so
    if (!inflate.readableEnded)
      await new Promise<void>((resolve) => {
        inflate.once('end', resolve).once('close', resolve)
      })
    inflate.destroy()
    c.compressed = inflate.bytesWritten
    this.#end(c)
    this.#descriptor = true
    return took
  }

  #end(c: Current): void {
    this.#current = null
    if (c.failed || !c.hash) return
    this.#entries.set(c.offset, {
      method: c.method,
      compressedSize: c.compressed,
      size: c.size,
      sha256: c.hash.digest(),
      data: c.held ? Buffer.concat(c.held) : null,
    })
  }
}

/**
 * How long the data descriptor at the start of `b` is (with or without its signature, zip64 sizes or
 * not): the one a header follows; 0 for more bytes, null when none is.
 */
function descriptorLength(b: Buffer): number | 0 | null {
  if (b.length < 4) return 0
  const lengths = b.readUInt32LE(0) === DESCRIPTOR ? [16, 24] : [12, 20]
  for (const n of lengths) {
    if (b.length < n + 4) return 0
    const next = b.readUInt32LE(n)
    if (next === LOCAL_HEADER || next === CENTRAL_HEADER) return n
  }
  return null
}

/** The sizes a local header gives (zip64 ones from its extra field), or null when it gives none. */
function localSizes(
  b: Buffer,
  nameLength: number,
  extraLength: number,
): { compressed: number; declared: number } | null {
  const compressed = b.readUInt32LE(18)
  const declared = b.readUInt32LE(22)
  if (compressed !== 0xffffffff && declared !== 0xffffffff) return { compressed, declared }
  const extra = b.subarray(30 + nameLength, 30 + nameLength + extraLength)
  for (let p = 0; p + 4 <= extra.length; ) {
    const [id, size] = [extra.readUInt16LE(p), extra.readUInt16LE(p + 2)]
    if (id === 0x0001) {
      // the zip64 field holds, in this order, each size that is 0xffffffff above
      let q = p + 4
      const next = (): number | null => {
        if (q + 8 > p + 4 + size) return null
        const v = extra.readBigUInt64LE(q)
        q += 8
        return v > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(v)
      }
      const d = declared === 0xffffffff ? next() : declared
      const c = compressed === 0xffffffff ? next() : compressed
      return d === null || c === null ? null : { compressed: c, declared: d }
    }
    p += 4 + size
  }
  return null
}

/**
 * What yauzl would have read of `entry`, from the scan, or `NotInStreamOrder`: its record must lie at the
 * entry's offset with the method and sizes the directory gives, no more than `max`; its bytes are
 * spent from `budget` as they would have been while inflating, and must have been held when `path`
 * is 'memory' (a path to write to is not served).
 */
export function takeScanned(
  scanned: Map<number, ScannedEntry>,
  entry: yauzl.Entry,
  o: { name: string; max: number; path: string | null | 'memory'; budget: ByteBudget },
): { size: number; sha256: Buffer; data: Buffer | null } {
  const memory = o.path === 'memory'
  const s = scanned.get(entry.relativeOffsetOfLocalHeader)
  const same =
    s !== undefined &&
    (entry.generalPurposeBitFlag & 1) === 0 &&
    s.method === entry.compressionMethod &&
    s.compressedSize === entry.compressedSize &&
    s.size === entry.uncompressedSize &&
    s.size <= o.max &&
    // nothing is written out from a scan: only hashed, or held
    (o.path === null || (memory && s.data !== null))
  if (!same || o.budget.spend(s.size))
    throw new NotInStreamOrder(`${o.name} was not read as the zip streamed`)
  return { size: s.size, sha256: s.sha256, data: memory ? s.data : null }
}

/** The scanned zip for yauzl to read its directory from: only its tail, nothing before it. */
export function scannedZip(scan: ZipScan): StreamedZip {
  return { size: scan.size, tail: scan.tail }
}
