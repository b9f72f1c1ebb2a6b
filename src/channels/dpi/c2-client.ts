// An HTTP client for DPI's access point (corner 2), the four calls the reference's Corner2ClientImpl
// makes: send (`POST /messages/out`, multipart, the package streamed from disk), a sent message's
// statuses, the receipts waiting for us and their read-acks. Every call carries a Maskinporten token
// (src/channels/dpi/token.ts); every failure becomes a C2Error that says whether a retry may help.

import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import { Agent, type Dispatcher, request } from 'undici'
import {
  isTimeout,
  MAX_PROBLEM_BYTES,
  type ProblemDetails,
  parseProblem,
  readCapped,
} from '../altinn-errors.js'
import { multipartBody } from '../dpv/multipart.js'

export interface C2ClientOptions {
  /** difi.move.dpi.uri, the paths are added to it */
  baseUrl: string
  /** statuses, receipts and read-acks use `token(null)`; a send brings the token its business message holds */
  tokens: { token(consumerOrg: string | null): Promise<string> }
  /**
   * difi.move.dpi.timeout.*: connecting; waiting for an answer's headers, or the next bytes of its body
   * (read); the access point taking nothing of an upload for so long (write)
   */
  timeouts: { connectMs: number; readMs: number; writeMs: number }
}

export interface C2Send {
  /** the channel, normalised (src/channels/dpi/config.ts) */
  kanal: string
  /** the signed business message (`forretningsmelding`), compact JWS */
  jws: string
  /** the Maskinporten token embedded in the business message: it must be the same string */
  token: string
  /** the CMS-encrypted package on disk and its size in bytes (the body's length is computed from it) */
  package: { path: string; size: number }
}

/** `GET /messages/out/{id}/statuses`: one of the access point's events for a sent message. */
export interface C2Status {
  /** OPPRETTET (taken in), SENDT (handed on to the receiver's access point), FEILET, or a later value */
  status: 'OPPRETTET' | 'SENDT' | 'FEILET' | (string & {})
  beskrivelse?: string
  timestamp?: string
}

/**
 * An item of `GET /messages/in`. A usable one has the receipt's JWS in `forretningsmelding`. One that is
 * not an object with a string `forretningsmelding` comes with `invalid` (why) and `raw` (the item as JSON,
 * at most 2000 characters), and `forretningsmelding` empty: the caller sets it aside and reports it while
 * handling the others (it cannot be read-acked: without a receipt there is no id).
 */
export type C2Message =
  | { forretningsmelding: string; downloadurl?: string; invalid?: undefined }
  | { forretningsmelding: ''; invalid: string; raw: string }

export interface C2Client {
  /** `POST /messages/out?kanal=`: resolves on any 2xx (the access point says 201) */
  send(message: C2Send): Promise<void>
  /** the access point's statuses of the message, oldest first as it lists them; null when it does not know it (404) */
  statuses(messageId: string): Promise<C2Status[] | null>
  /** `GET /messages/in` (the first page: acks shrink it); [] when nothing waits (204) */
  receipts(query: { kanal: string; avsenderidentifikator?: string; pageSize: number }): Promise<C2Message[]>
  /** `POST /messages/in/{id}/read`, id = the receipt's own instanceIdentifier; a 404 (already read) passes */
  markRead(receiptId: string): Promise<void>
  close(): Promise<void>
}

/**
 * A failed call. `retryable`: no answer (network, timeouts), 5xx, 401, 403 (the token or the agreement,
 * which an operator fixes without the message changing), 408 and 429 may pass later; any other 4xx is the
 * access point refusing this call, with its problem+json `detail` (or `title`) in the message.
 */
export class C2Error extends Error {
  override name = 'C2Error'
  /** the answer's HTTP status; null when there was none */
  readonly status: number | null
  readonly retryable: boolean
  readonly problem: ProblemDetails | undefined

  constructor(
    message: string,
    o: { status: number | null; retryable: boolean; problem?: ProblemDetails; cause?: unknown },
  ) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause })
    this.status = o.status
    this.retryable = o.retryable
    this.problem = o.problem
  }
}

/** Pure retry rule for an access point's error answer (see C2Error). */
export function isRetryableC2Status(status: number): boolean {
  return status >= 500 || [401, 403, 408, 429].includes(status)
}

/** the receipts of one page: 100 JWSs with their certificates fit many times over */
const MAX_LIST_BYTES = 16 * 1024 * 1024

export function createC2Client(opts: C2ClientOptions): C2Client {
  const base = opts.baseUrl.replace(/\/+$/, '')
  const { connectMs, readMs, writeMs } = opts.timeouts
  const dispatcher = new Agent({ connectTimeout: connectMs, headersTimeout: readMs, bodyTimeout: readMs })

  const ownToken = (what: string): Promise<string> =>
    opts.tokens.token(null).catch((cause: unknown) => {
      // no token is no answer from the access point: a key or a Maskinporten client may be fixed meanwhile
      throw new C2Error(`${what}: no Maskinporten token: ${(cause as Error).message}`, {
        status: null,
        retryable: true,
        cause,
      })
    })

  /** One call; the answer's status and body (capped), or a C2Error for no answer or a non-2xx one but `pass`. */
  const call = async (
    method: 'GET' | 'POST',
    path: string,
    token: string,
    o: { body?: Upload; pass?: number; maxBytes?: number } = {},
  ): Promise<{ status: number; text: string }> => {
    const what = `The DPI access point's ${method} ${path.split('?')[0]}`
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json, application/problem+json',
    }
    if (o.body) {
      headers['content-type'] = o.body.contentType
      headers['content-length'] = String(o.body.length)
    }
    const stalled = new AbortController()
    // an answer that comes before the upload ends (a refusal) is read, not cut short by the write timeout
    let answered = false
    const onStall = () => answered || stalled.abort()
    const body = o.body ? watchWrites(o.body.stream(), writeMs, onStall) : undefined
    let res: Dispatcher.ResponseData
    try {
      res = await request(`${base}${path}`, { method, headers, body, dispatcher, signal: stalled.signal })
      answered = true
    } catch (cause) {
      body?.destroy()
      const stall = stalled.signal.aborted ? `timed out: it took none of the upload for ${writeMs} ms` : null
      throw noAnswer(what, cause, stall, opts.timeouts)
    }
    const ok = (res.statusCode >= 200 && res.statusCode <= 299) || res.statusCode === o.pass
    let text: string
    try {
      text = await readCapped(res.body, ok ? (o.maxBytes ?? MAX_PROBLEM_BYTES) : MAX_PROBLEM_BYTES)
    } catch (cause) {
      throw noAnswer(`${what}: reading the answer`, cause, null, opts.timeouts)
    }
    if (!ok) throw answerError(what, res.statusCode, text)
    if (o.maxBytes !== undefined && Buffer.byteLength(text) >= o.maxBytes)
      throw new C2Error(`${what} answered ${res.statusCode} with more than ${o.maxBytes} bytes`, {
        status: res.statusCode,
        retryable: false,
      })
    return { status: res.statusCode, text }
  }

  return {
    async send(m) {
      const body = multipartBody(
        [],
        [
          {
            name: 'forretningsmelding',
            filename: 'sbd.jwt',
            contentType: 'application/jwt',
            size: Buffer.byteLength(m.jws),
            open: () => Readable.from([Buffer.from(m.jws)]),
          },
          {
            name: 'dokumentpakke',
            filename: 'asic.cms',
            contentType: 'application/cms',
            size: m.package.size,
            open: () => createReadStream(m.package.path),
          },
        ],
      )
      await call('POST', `/messages/out?${new URLSearchParams({ kanal: m.kanal })}`, m.token, { body })
    },
    async statuses(messageId) {
      const path = `/messages/out/${encodeURIComponent(messageId)}/statuses`
      const what = `The DPI access point's GET ${path}`
      const { status, text } = await call('GET', path, await ownToken(what), {
        pass: 404,
        maxBytes: 1024 * 1024,
      })
      if (status === 404) return null
      return listOf(what, status, text).flatMap(toStatus)
    },
    async receipts(q) {
      // in the reference's order
      const query = new URLSearchParams()
      if (q.avsenderidentifikator !== undefined) query.set('avsenderidentifikator', q.avsenderidentifikator)
      query.set('kanal', q.kanal)
      query.set('page_size', String(q.pageSize))
      const what = "The DPI access point's GET /messages/in"
      const token = await ownToken(what)
      const { status, text } = await call('GET', `/messages/in?${query}`, token, { maxBytes: MAX_LIST_BYTES })
      return listOf(what, status, text).map(toMessage)
    },
    async markRead(receiptId) {
      const path = `/messages/in/${encodeURIComponent(receiptId)}/read`
      await call('POST', path, await ownToken(`The DPI access point's POST ${path}`), { pass: 404 })
    },
    close: () => dispatcher.close(),
  }
}

interface Upload {
  contentType: string
  length: number
  stream(): Readable
}

/**
 * The body, calling `onStall` when the socket has taken nothing for `ms`: a chunk is handed on only when
 * the one before has been taken, so a wait that long means the access point stopped reading (the write
 * timeout).
 */
function watchWrites(source: Readable, ms: number, onStall: () => void): Readable {
  async function* watched(): AsyncGenerator<Buffer> {
    let timer: NodeJS.Timeout | undefined
    try {
      for await (const chunk of source) {
        timer = setTimeout(onStall, ms)
        yield chunk as Buffer
        clearTimeout(timer)
      }
    } finally {
      clearTimeout(timer)
      source.destroy()
    }
  }
  return Readable.from(watched(), { objectMode: false })
}

/** A 200's JSON as a list: an array as it is, a single object as a list of it (as the reference reads it), 204 or nothing as []. */
function listOf(what: string, status: number, text: string): unknown[] {
  if (status === 204 || text.trim() === '') return []
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw new C2Error(`${what} answered ${status} with a body that is not JSON`, {
      status,
      retryable: false,
      cause,
    })
  }
  if (Array.isArray(value)) return value
  if (value !== null && typeof value === 'object') return [value]
  throw new C2Error(`${what} answered ${status} with JSON that is neither a list nor an object`, {
    status,
    retryable: false,
  })
}

/** A status event; one without a string `status` is left out. */
function toStatus(item: unknown): C2Status[] {
  const s = item as { status?: unknown; beskrivelse?: unknown; timestamp?: unknown } | null
  if (typeof s?.status !== 'string' || s.status === '') return []
  const out: C2Status = { status: s.status }
  if (typeof s.beskrivelse === 'string') out.beskrivelse = s.beskrivelse
  if (typeof s.timestamp === 'string') out.timestamp = s.timestamp
  return [out]
}

function toMessage(item: unknown): C2Message {
  const m = item as { forretningsmelding?: unknown; downloadurl?: unknown } | null
  const raw = () => (JSON.stringify(item) ?? String(item)).slice(0, 2000)
  if (m === null || typeof m !== 'object' || Array.isArray(m))
    return { forretningsmelding: '', invalid: 'the item is not an object', raw: raw() }
  if (typeof m.forretningsmelding !== 'string' || m.forretningsmelding === '')
    return { forretningsmelding: '', invalid: 'the item has no forretningsmelding (a JWS)', raw: raw() }
  return typeof m.downloadurl === 'string'
    ? { forretningsmelding: m.forretningsmelding, downloadurl: m.downloadurl }
    : { forretningsmelding: m.forretningsmelding }
}

function answerError(what: string, status: number, text: string): C2Error {
  const problem = parseProblem(text)
  const detail = typeof problem?.detail === 'string' ? problem.detail : undefined
  const title = typeof problem?.title === 'string' ? problem.title : undefined
  const reason = detail ?? title ?? (text.trim().slice(0, 300) || 'no reason given')
  return new C2Error(`${what} answered ${status}: ${reason.slice(0, 1000)}`, {
    status,
    retryable: isRetryableC2Status(status),
    problem,
  })
}

function noAnswer(
  what: string,
  cause: unknown,
  stalled: string | null,
  t: C2ClientOptions['timeouts'],
): C2Error {
  const code = (cause as { code?: unknown } | null)?.code
  const reason =
    stalled ??
    (code === 'UND_ERR_CONNECT_TIMEOUT'
      ? `timed out connecting (${t.connectMs} ms)`
      : isTimeout(cause)
        ? `timed out: nothing came for ${t.readMs} ms`
        : `failed: ${(cause as Error).message}${typeof code === 'string' ? ` (${code})` : ''}`)
  return new C2Error(`${what} ${reason}`, { status: null, retryable: true, cause })
}
