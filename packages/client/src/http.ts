/**
 * The one place requests are made: base URL (with any path prefix), basic auth, TLS, user agent,
 * timeouts and retries. Request bodies that stream come from a factory called once per attempt, so a
 * retry re-opens its files instead of resending a half-read stream.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, fetch as undiciFetch } from 'undici'
import { apiErrorFor, IntegrasjonspunktError, NetworkError } from './errors.js'
import {
  errorCode,
  isRetryableStatus,
  isTransientNetworkError,
  type RetryPolicy,
  retryDelay,
} from './retry.js'

export const DEFAULT_URL = 'http://localhost:9093'
const VERSION = '0.1.0'

export interface TlsOptions {
  ca?: string | Buffer
  cert?: string | Buffer
  key?: string | Buffer
  rejectUnauthorized?: boolean
}

export interface ClientOptions {
  /** default `http://localhost:9093`; may carry a path prefix (`https://host/ip`) */
  url?: string
  /** HTTP basic auth (`difi.security.user.name` / `.password` on the server) */
  username?: string
  password?: string
  tls?: TlsOptions
  /** e.g. Node's built-in fetch; default undici's fetch (with an undici Agent when `tls` is given) */
  fetch?: typeof globalThis.fetch
  /** attempts after the first for transient network errors and 502/503/504; default 3 */
  retries?: number
  /** the first back-off; it doubles; default 500 */
  retryDelayMs?: number
  /** per request without a streamed body, until its answer is read; default 60 000 */
  timeoutMs?: number
  userAgent?: string
}

export type QueryValue = string | number | boolean | undefined | null | readonly string[]

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** from the API root, e.g. `/api/statuses/x`; ids already encoded */
  path: string
  query?: Record<string, QueryValue>
  headers?: Record<string, string>
  json?: unknown
  /** a streamed body, opened anew for each attempt; such a request has no overall timeout */
  body?: () => ReadableStream<Uint8Array>
  signal?: AbortSignal | undefined
  /** hand a success answer's body over as a stream (the timeout then ends with the headers) */
  streamResponse?: boolean
  /** default true */
  retry?: boolean
}

export interface Answer {
  status: number
  statusText: string
  headers: Headers
  /** the body as text; '' when streamed */
  text: string
  stream: ReadableStream<Uint8Array> | null
  /** an earlier attempt of this request failed without an answer we could read */
  retried: boolean
  path: string
}

class RequestTimeout extends Error {
  readonly code = 'REQUEST_TIMEOUT'
  constructor(ms: number) {
    super(`no answer within ${ms} ms`)
  }
}

export class Http {
  readonly url: string
  readonly #base: string
  readonly #fetch: typeof globalThis.fetch
  readonly #agent: Agent | undefined
  readonly #policy: RetryPolicy
  readonly #timeoutMs: number
  readonly #headers: Record<string, string>

  constructor(options: ClientOptions = {}) {
    const base = new URL(options.url ?? DEFAULT_URL)
    this.#base = `${base.origin}${base.pathname.replace(/\/+$/, '')}`
    this.url = this.#base
    this.#agent = options.tls ? new Agent({ connect: { ...options.tls } }) : undefined
    // undici's fetch and the global one differ only in their TypeScript types
    this.#fetch = options.fetch ?? (undiciFetch as unknown as typeof globalThis.fetch)
    this.#policy = { retries: options.retries ?? 3, retryDelayMs: options.retryDelayMs ?? 500 }
    this.#timeoutMs = options.timeoutMs ?? 60_000
    this.#headers = {
      'user-agent': options.userAgent ?? `integrasjonspunkt-client/${VERSION} (Node.js ${process.version})`,
    }
    if (options.username !== undefined) {
      const token = Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')
      this.#headers.authorization = `Basic ${token}`
    }
  }

  /** Makes the request, retrying transient failures; any HTTP status is returned, not thrown. */
  async request(spec: RequestSpec): Promise<Answer> {
    const url = this.#urlOf(spec)
    const retries = spec.retry === false ? 0 : this.#policy.retries
    for (let attempt = 0; ; attempt++) {
      const retried = attempt > 0
      let answer: Omit<Answer, 'retried' | 'path'>
      try {
        answer = await this.#attempt(url, spec)
      } catch (error) {
        if (spec.signal?.aborted) throw spec.signal.reason
        const own = ownError(error)
        if (own) throw own
        if (attempt >= retries || !isTransientNetworkError(error))
          throw new NetworkError(url, error, errorCode(error))
        await pause(retryDelay(this.#policy, attempt + 1), spec.signal)
        continue
      }
      if (attempt < retries && isRetryableStatus(answer.status)) {
        await answer.stream?.cancel().catch(() => {})
        await pause(retryDelay(this.#policy, attempt + 1, answer.headers.get('retry-after')), spec.signal)
        continue
      }
      return { ...answer, retried, path: spec.path }
    }
  }

  /** Throws the ApiError of a non-success answer (unless its status is in `accept`). */
  check(answer: Answer, accept: readonly number[] = []): Answer {
    if ((answer.status >= 200 && answer.status < 300) || accept.includes(answer.status)) return answer
    throw apiErrorFor({
      status: answer.status,
      statusText: answer.statusText,
      body: answer.text,
      path: answer.path,
    })
  }

  /** A JSON request whose success answer is parsed. */
  async json<T>(spec: RequestSpec): Promise<T> {
    const answer = this.check(await this.request(spec))
    return parseJson<T>(answer)
  }

  async close(): Promise<void> {
    await this.#agent?.close()
  }

  #urlOf(spec: RequestSpec): string {
    const params = new URLSearchParams()
    for (const [name, value] of Object.entries(spec.query ?? {})) {
      if (value === undefined || value === null) continue
      for (const v of Array.isArray(value) ? value : [value]) params.append(name, String(v))
    }
    const qs = params.toString()
    return `${this.#base}${spec.path}${qs ? `?${qs}` : ''}`
  }

  async #attempt(url: string, spec: RequestSpec): Promise<Omit<Answer, 'retried' | 'path'>> {
    const controller = new AbortController()
    const forward = () => controller.abort(spec.signal?.reason)
    spec.signal?.addEventListener('abort', forward, { once: true })
    if (spec.signal?.aborted) forward()
    const timer = spec.body
      ? undefined
      : setTimeout(() => controller.abort(new RequestTimeout(this.#timeoutMs)), this.#timeoutMs)
    try {
      const response = await this.#fetch(url, this.#init(spec, controller.signal))
      // an error answer is read whole either way: its body is the error JSON
      if (spec.streamResponse && response.ok) {
        clearTimeout(timer)
        return { ...statusOf(response), text: '', stream: response.body }
      }
      return { ...statusOf(response), text: await response.text(), stream: null }
    } catch (error) {
      // undici rejects with the abort reason itself: our timeout, or the caller's signal
      throw controller.signal.aborted && !spec.signal?.aborted ? (controller.signal.reason ?? error) : error
    } finally {
      clearTimeout(timer)
      spec.signal?.removeEventListener('abort', forward)
    }
  }

  #init(spec: RequestSpec, signal: AbortSignal): RequestInit {
    const headers: Record<string, string> = { accept: 'application/json', ...this.#headers }
    let body: BodyInit | undefined
    if (spec.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(spec.json)
    } else if (spec.body) {
      body = spec.body() as BodyInit
    }
    Object.assign(headers, spec.headers)
    const init: RequestInit & { duplex?: 'half'; dispatcher?: Agent } = {
      method: spec.method,
      headers,
      signal,
    }
    if (body !== undefined) init.body = body
    if (spec.body) init.duplex = 'half'
    if (this.#agent) init.dispatcher = this.#agent
    return init
  }
}

/** Waits, or throws the signal's reason as soon as it fires. */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal })
  } catch (error) {
    throw signal?.aborted ? signal.reason : error
  }
}

function statusOf(response: Response) {
  return { status: response.status, statusText: response.statusText, headers: response.headers }
}

/** Our own error raised inside a request body (a file that changed while it was sent): never retried. */
function ownError(error: unknown): IntegrasjonspunktError | undefined {
  for (let e = error, depth = 0; e && depth < 8; depth++) {
    if (e instanceof IntegrasjonspunktError) return e
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

export function parseJson<T>(answer: Answer): T {
  try {
    return JSON.parse(answer.text) as T
  } catch (error) {
    throw new IntegrasjonspunktError(
      `${answer.path} answered ${answer.status} with a body that is not JSON: ${answer.text.slice(0, 200)}`,
      { cause: error },
    )
  }
}
