// A streaming multipart/form-data body (RFC 7578) for the correspondence upload. undici's FormData takes
// files only as Blobs, which are held in memory (or must be files on disk: the database payload store has
// none), so a 250 MB upload would be read whole first; this encoder writes the text fields, then each file
// as it is read from the payload store, and knows the body's length beforehand from the files' sizes.

import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'

export interface TextPart {
  name: string
  value: string
}

export interface FilePart {
  name: string
  filename: string
  contentType: string
  /** the file's size in bytes: the body's length is computed from it, and a file of another size fails the body */
  size: number
  open(): Readable
}

export interface MultipartBody {
  contentType: string
  /** the exact number of bytes `stream()` yields */
  length: number
  stream(): Readable
}

const CRLF = '\r\n'

export function multipartBody(
  fields: readonly TextPart[],
  files: readonly FilePart[],
  boundary = `----efm-${randomBytes(16).toString('hex')}`,
): MultipartBody {
  const texts = fields.map((f) =>
    Buffer.from(`--${boundary}${CRLF}${disposition(f.name)}${CRLF}${CRLF}${f.value}${CRLF}`),
  )
  const fileHeads = files.map((f) =>
    Buffer.from(
      `--${boundary}${CRLF}${disposition(f.name, f.filename)}${CRLF}` +
        `Content-Type: ${headerSafe(f.contentType)}${CRLF}${CRLF}`,
    ),
  )
  const tail = Buffer.from(`--${boundary}--${CRLF}`)
  const length =
    sum(texts.map((t) => t.length)) +
    sum(fileHeads.map((h, i) => h.length + files[i]!.size + CRLF.length)) +
    tail.length
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length,
    stream: () => Readable.from(parts(texts, fileHeads, files, tail), { objectMode: false }),
  }
}

async function* parts(
  texts: Buffer[],
  fileHeads: Buffer[],
  files: readonly FilePart[],
  tail: Buffer,
): AsyncGenerator<Buffer> {
  if (texts.length > 0) yield Buffer.concat(texts)
  for (const [i, file] of files.entries()) {
    yield fileHeads[i]!
    let size = 0
    // pulled chunk by chunk: the next is read only when the socket took the last (constant memory)
    for await (const chunk of file.open()) {
      size += (chunk as Buffer).length
      yield chunk as Buffer
    }
    if (size !== file.size)
      throw new Error(`${file.filename} is ${size} bytes, not the ${file.size} bytes recorded for it`)
    yield Buffer.from(CRLF)
  }
  yield tail
}

/**
 * `Content-Disposition: form-data; name="…"[; filename="…"]`, with `"`, CR and LF escaped as browsers
 * do (WHATWG HTML, "multipart/form-data encoding"), and a `filename*` in UTF-8 beside a name that is not
 * ASCII, for parsers that read `filename` as Latin-1.
 */
function disposition(name: string, filename?: string): string {
  let value = `Content-Disposition: form-data; name="${quoteSafe(name)}"`
  if (filename !== undefined) {
    value += `; filename="${quoteSafe(filename)}"`
    if (/[^\x20-\x7e]/.test(filename)) value += `; filename*=UTF-8''${encodeRfc5987(filename)}`
  }
  return value
}

function quoteSafe(text: string): string {
  return text.replaceAll('"', '%22').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
}

function encodeRfc5987(text: string): string {
  return encodeURIComponent(text).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function headerSafe(value: string): string {
  return value.replace(/[\r\n]/g, ' ')
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
