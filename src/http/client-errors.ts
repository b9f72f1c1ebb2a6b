import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import { ApiError } from '../errors/api-error.js'
import type { Clock } from '../util/time.js'
import { errorBody } from './error-body.js'

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (an unknown method such as `FOO`, a request
 * line or headers over the size limit, a malformed request line, headers not received in time) are
 * answered here with the reference's error JSON, as everything else is, instead of Fastify's own body.
 * Nothing here reads data or checks credentials: the answer only says what is wrong with the request.
 */
export interface ClientErrorDeps {
  clock: Clock
  logger: Logger
  /** the methods but HEAD that serve a path, for `Allow` on a 405 (empty: no such path) */
  methodsFor: (path: string) => string[]
}

// Fastify types rawPacket as Buffer.toJSON() gives it; Node hands over the Buffer itself
type ParserError = Error & { code?: string; reason?: string; rawPacket?: unknown }

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// the longest request line we quote a path from; longer is what a 414 is about
const REQUEST_LINE_LIMIT = 8 * 1024

export function clientErrorHandler(deps: ClientErrorDeps): (err: ParserError, socket: Socket) => void {
  const answered = new WeakSet<Socket>()
  return (err, socket) => {
    // a parser that failed once reports every later chunk of the same connection again
    if (err.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return
    answered.add(socket)
    const api = classify(err, deps)
    deps.logger.debug({ code: err.code, status: api?.error.status }, 'refused an unparseable request')
    // a response already on its way (pipelining) cannot be followed by another
    const busy = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent
    if (!api || !socket.writable || busy) {
      socket.destroy()
      return
    }
    socket.end(response(api, deps.clock.now()))
    // the client has its answer; whatever it still sends must not hold the connection open
    setTimeout(() => socket.destroy(), 1000).unref()
  }
}

interface Answer {
  error: ApiError
  path: string
  headers?: Record<string, string>
}

function classify(err: ParserError, deps: ClientErrorDeps): Answer | undefined {
  const line = requestLine(err.rawPacket)
  const path = line ? shortPath(line.target) : ''
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { error: new ApiError('RequestTimeout'), path }
    case 'HPE_HEADER_OVERFLOW':
      return line?.long
        ? { error: new ApiError('UriTooLong'), path }
        : { error: new ApiError('HeadersTooLarge'), path }
    case 'HPE_INVALID_METHOD':
      if (line) return unknownMethod(line.method, path, deps)
  }
  if (err.code?.startsWith('HPE_')) return { error: badRequest(err), path }
  return undefined
}

/** As the routes' own 405 and 404: Node knows no `FOO`, so no route could take it. */
function unknownMethod(method: string, path: string, deps: ClientErrorDeps): Answer {
  return { ...unrouted(method, path, deps.methodsFor(path)), path }
}

/**
 * The answer to a request no route takes: 405 with `Allow` when other methods serve the path, else 404
 * (the not-found handler's answer too, so both say the same).
 */
export function unrouted(
  method: string,
  path: string,
  allowed: string[],
): { error: ApiError; headers?: Record<string, string> } {
  if (allowed.length === 0) return { error: new ApiError('NoResourceFound', [path.replace(/^\//, '')]) }
  return { error: new ApiError('MethodNotAllowed', [method]), headers: { allow: allowed.join(', ') } }
}

function badRequest(err: ParserError): ApiError {
  const reason = typeof err.reason === 'string' && /^[\w ,./'-]{1,80}$/.test(err.reason) ? err.reason : null
  return new ApiError('UnparseableRequest', [reason ?? 'malformed request'])
}

/**
 * The request line at the start of the chunk the parser failed on, when it is there. `long` when the line
 * does not end within the chunk or is over the limit: the target is what overflowed.
 */
function requestLine(raw: unknown): { method: string; target: string; long: boolean } | null {
  if (!Buffer.isBuffer(raw)) return null
  const head = raw.subarray(0, REQUEST_LINE_LIMIT + 2).toString('latin1')
  const end = head.indexOf('\n')
  const first = (end < 0 ? head : head.slice(0, end)).replace(/\r$/, '')
  const [method, target] = first.split(' ')
  if (!method || !TOKEN.test(method) || !target?.startsWith('/')) return null
  return { method, target, long: end < 0 || end > REQUEST_LINE_LIMIT }
}

function shortPath(target: string): string {
  const q = target.indexOf('?')
  const path = q < 0 ? target : target.slice(0, q)
  return path.length > 200 ? `${path.slice(0, 200)}…` : path
}

function response(answer: Answer, now: Date): string {
  const { error } = answer
  const body = JSON.stringify(
    errorBody({
      now,
      status: error.status,
      exception: error.exception,
      message: error.message,
      path: answer.path,
    }),
  )
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
    ...answer.headers,
  }
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`)
  return `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\n${lines.join('')}\r\n${body}`
}
