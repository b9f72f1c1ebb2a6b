import { STATUS_CODES } from 'node:http'
import { Agent, type Dispatcher, request } from 'undici'
import { ServiceRegistryLookupError, ServiceRegistryUnavailableError } from './errors.js'

/** One answer from the registry, read whole (answers are a few kB; the size is capped). */
export interface HttpAnswer {
  status: number
  contentType: string
  body: string
}

export interface HttpGetOptions {
  dispatcher: Dispatcher
  headers: Record<string, string>
  /** one deadline for connect, headers and body together */
  timeoutMs: number
  maxBytes: number
}

/** SR answers are small; anything near this is not an SR answer and is refused rather than buffered. */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024

/** An agent whose every phase gives up after `timeoutMs`, so a silent server cannot hang a caller. */
export function createAgent(timeoutMs: number): Agent {
  return new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
}

/**
 * GET `url` and read the body as UTF-8. Network failures and timeouts become
 * {@link ServiceRegistryUnavailableError}; any HTTP status is returned for the caller to judge.
 */
export async function httpGet(url: string, opts: HttpGetOptions): Promise<HttpAnswer> {
  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(), opts.timeoutMs)
  timer.unref()
  try {
    const res = await request(url, {
      method: 'GET',
      headers: opts.headers,
      dispatcher: opts.dispatcher,
      signal: deadline.signal,
    })
    const body = await readCapped(res.body, opts.maxBytes, url)
    const contentType = String(res.headers['content-type'] ?? '')
    return { status: res.statusCode, contentType, body }
  } catch (err) {
    if (err instanceof ServiceRegistryLookupError) throw err
    const what = deadline.signal.aborted ? `timed out after ${opts.timeoutMs} ms` : `failed: ${describe(err)}`
    throw new ServiceRegistryUnavailableError(`ServiceRegistry is unavailable: GET ${url} ${what}`, {
      url,
      cause: err,
    })
  } finally {
    clearTimeout(timer)
  }
}

async function readCapped(body: Dispatcher.ResponseData['body'], max: number, url: string): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > max) {
      body.destroy()
      throw new ServiceRegistryLookupError(`The answer to GET ${url} is larger than ${max} bytes`, { url })
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** `Bad Request` for 400 and `BAD_REQUEST` as Spring's `HttpStatus` prints it. */
export function statusText(status: number): { reason: string; name: string } {
  const reason = STATUS_CODES[status] ?? 'Unknown'
  return { reason, name: reason.toUpperCase().replace(/[^A-Z0-9]+/g, '_') }
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | null
  const code = e?.code ?? e?.cause?.code
  const message = String(e?.message ?? e?.cause?.message ?? err)
  if (code === 'ECONNREFUSED')
    return `connection refused (ECONNREFUSED): is the ServiceRegistry running there?`
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect timed out'
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return `no answer in time (${code})`
  return typeof code === 'string' ? `${message} (${code})` : message
}
