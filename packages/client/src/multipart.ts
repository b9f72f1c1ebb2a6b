/**
 * The body of `POST /api/messages/out/multipart`: an `sbd` part with the SBD JSON, then one part per
 * file (part name = attachment title, filename = the name inside the ASiC, Content-Type = MIME type).
 * Built by hand rather than with FormData: FormData gives no progress while it streams, its length is
 * unknown up front, and it writes names the HTML way (`%22` for a quote, raw UTF-8) where the
 * reference reads RFC 5987 `filename*`.
 */
import { randomUUID } from 'node:crypto'
import { contentDisposition } from './content-disposition.js'
import { type PreparedFile, type Progress, streamOf } from './files.js'

export interface MultipartBody {
  contentType: string
  /** the exact byte length, for Content-Length */
  length: number
  /** a fresh stream of the whole body (files re-opened), one per attempt */
  open(): ReadableStream<Uint8Array>
}

const CRLF = '\r\n'

export function multipartBody(
  sbdJson: string,
  files: readonly PreparedFile[],
  progress: Progress,
): MultipartBody {
  const boundary = `integrasjonspunkt-client-${randomUUID()}`
  const sbdPart = Buffer.from(
    `--${boundary}${CRLF}Content-Disposition: form-data; name="sbd"${CRLF}` +
      `Content-Type: application/json${CRLF}${CRLF}${sbdJson}${CRLF}`,
    'utf8',
  )
  const heads = files.map((f) =>
    Buffer.from(
      `--${boundary}${CRLF}Content-Disposition: ${contentDisposition('form-data', { name: f.title, filename: f.filename })}${CRLF}` +
        `Content-Type: ${f.mimeType}${CRLF}${CRLF}`,
      'utf8',
    ),
  )
  const closing = Buffer.from(`--${boundary}--${CRLF}`, 'utf8')
  const crlf = Buffer.from(CRLF, 'latin1')
  const length =
    sbdPart.length +
    heads.reduce((sum, h) => sum + h.length, 0) +
    files.reduce((sum, f) => sum + f.size + crlf.length, 0) +
    closing.length
  async function* body(): AsyncIterable<Uint8Array> {
    progress.restart()
    yield sbdPart
    for (const [i, file] of files.entries()) {
      yield heads[i]!
      yield* progress.count(file)
      yield crlf
    }
    yield closing
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length,
    open: () => streamOf(body),
  }
}
