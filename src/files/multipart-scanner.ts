// A push-driven multipart/form-data splitter (RFC 7578 / RFC 2046): bytes in, part events out, with
// constant memory: it keeps at most one delimiter's length of body bytes, or one part's headers.
// We split ourselves rather than let busboy do it because busboy silently drops a part whose
// Content-Disposition it cannot parse (the reference's own example `name=Before The Law; filename=…`
// is one), reports `text/plain` for a part without Content-Type and drops Content-Type parameters; the
// reference (Spring) keeps all three, and principle 7 says bad input gets an error, never a silent loss.

export class MultipartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'MultipartError'
  }
}

export type ScanEvent =
  /** a new part starts (and the previous one, if any, has ended); header names lower-cased */
  | { kind: 'part'; headers: Map<string, string> }
  /** body bytes of the current part (a view, valid until the next push) */
  | { kind: 'data'; chunk: Buffer }
  /** the closing delimiter was seen: the last part has ended; anything after it is ignored */
  | { kind: 'end' }

export interface ScannerLimits {
  /** bytes allowed before the first delimiter */
  maxPreambleBytes: number
  /** bytes allowed for one part's header block */
  maxHeaderBytes: number
}

const CRLF = Buffer.from('\r\n')
const HEADER_END = Buffer.from('\r\n\r\n')
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*:[ \t]*(.*?)[ \t]*$/s

type State = 'preamble' | 'afterDelimiter' | 'headers' | 'body' | 'done'

export class MultipartScanner {
  readonly #delimiter: Buffer
  readonly #limits: ScannerLimits
  #state: State = 'preamble'
  // unprocessed bytes; starts with CRLF so a body that opens with `--boundary` matches the delimiter
  #pending: Buffer = CRLF
  #preambleBytes = 0

  constructor(boundary: string, limits: ScannerLimits) {
    this.#delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1')
    this.#limits = limits
  }

  get done(): boolean {
    return this.#state === 'done'
  }

  push(chunk: Buffer): ScanEvent[] {
    if (this.#state === 'done') return []
    let buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk])
    const events: ScanEvent[] = []
    for (;;) {
      const rest = this.#step(buf, events)
      if (rest === undefined) break
      buf = rest
    }
    return events
  }

  /** Call when the input has ended; throws unless the closing delimiter was seen. */
  finish(): void {
    if (this.#state === 'done') return
    const where = this.#state === 'preamble' ? 'before the first boundary' : 'inside a part'
    throw new MultipartError(
      `Multipart body ended ${where}, without the closing boundary: the request is truncated`,
    )
  }

  /** Consumes what it can from `buf`; returns the rest to go on with, or undefined to wait for more. */
  #step(buf: Buffer, events: ScanEvent[]): Buffer | undefined {
    switch (this.#state) {
      case 'preamble':
        return this.#preamble(buf)
      case 'afterDelimiter':
        return this.#afterDelimiter(buf, events)
      case 'headers':
        return this.#headers(buf, events)
      case 'body':
        return this.#body(buf, events)
      default:
        this.#pending = Buffer.alloc(0)
        return undefined
    }
  }

  #preamble(buf: Buffer): Buffer | undefined {
    const at = buf.indexOf(this.#delimiter)
    if (at >= 0) {
      this.#state = 'afterDelimiter'
      return buf.subarray(at + this.#delimiter.length)
    }
    const keep = this.#keepTail(buf)
    this.#preambleBytes += buf.length - keep
    if (this.#preambleBytes > this.#limits.maxPreambleBytes) {
      throw new MultipartError(
        `No multipart boundary found in the first ${this.#limits.maxPreambleBytes} bytes: is the boundary in Content-Type right?`,
      )
    }
    return undefined
  }

  #afterDelimiter(buf: Buffer, events: ScanEvent[]): Buffer | undefined {
    if (buf.length < 2) return this.#wait(buf)
    if (buf[0] === 0x2d && buf[1] === 0x2d) {
      this.#state = 'done'
      this.#pending = Buffer.alloc(0)
      events.push({ kind: 'end' })
      return undefined
    }
    this.#state = 'headers'
    return buf
  }

  #headers(buf: Buffer, events: ScanEvent[]): Buffer | undefined {
    const max = this.#limits.maxHeaderBytes
    const at = buf.indexOf(HEADER_END)
    if (at > max || (at < 0 && buf.length > max + HEADER_END.length)) {
      throw new MultipartError(`A multipart part has more than ${max} bytes of headers`)
    }
    if (at < 0) return this.#wait(buf)
    events.push({ kind: 'part', headers: parseHeaderBlock(buf.subarray(0, at)) })
    this.#state = 'body'
    return buf.subarray(at + HEADER_END.length)
  }

  #body(buf: Buffer, events: ScanEvent[]): Buffer | undefined {
    const at = buf.indexOf(this.#delimiter)
    if (at >= 0) {
      if (at > 0) events.push({ kind: 'data', chunk: buf.subarray(0, at) })
      this.#state = 'afterDelimiter'
      return buf.subarray(at + this.#delimiter.length)
    }
    const keep = this.#keepTail(buf)
    if (buf.length > keep) events.push({ kind: 'data', chunk: buf.subarray(0, buf.length - keep) })
    return undefined
  }

  /** Keeps the bytes that could be the start of a delimiter split across pushes; returns how many. */
  #keepTail(buf: Buffer): number {
    const keep = Math.min(buf.length, this.#delimiter.length - 1)
    this.#pending = Buffer.from(buf.subarray(buf.length - keep))
    return keep
  }

  #wait(buf: Buffer): undefined {
    this.#pending = Buffer.from(buf)
    return undefined
  }
}

/**
 * The bytes between a delimiter and the blank line: first the rest of the delimiter line (only
 * RFC 2046 transport padding, spaces and tabs, may stand there), then `Name: value` lines.
 */
function parseHeaderBlock(block: Buffer): Map<string, string> {
  const lines = decodeHeaderText(block).split('\r\n')
  if (!/^[ \t]*$/.test(lines[0]!)) {
    throw new MultipartError('A multipart boundary line has text after the boundary: is the boundary right?')
  }
  const headers = new Map<string, string>()
  for (const line of lines.slice(1)) {
    const match = /[\r\n]/.test(line) ? null : HEADER_LINE.exec(line)
    if (!match)
      throw new MultipartError(`Malformed multipart part header line ${JSON.stringify(line.slice(0, 100))}`)
    const name = match[1]!.toLowerCase()
    if (headers.has(name)) throw new MultipartError(`A multipart part has the header ${match[1]} twice`)
    headers.set(name, match[2]!)
  }
  return headers
}

/** Browsers send raw UTF-8 in part headers (filenames); anything that is not UTF-8 is read as Latin-1. */
function decodeHeaderText(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return bytes.toString('latin1')
  }
}
