import { Agent, request } from 'undici'
import { checkEndpoint, redactEndpoint } from './endpoint.js'
import { SIGNATURE_HEADER, signBody } from './signing.js'

/**
 * One POST of an event to a push endpoint, as the reference's RestTemplate does it (`application/json`,
 * connect and read timeouts of `difi.move.webhooks.*`, 10 s each), plus ours: the signature header when
 * the subscription has a secret, `user:password@` in the URL sent as HTTP Basic, no redirects followed
 * (a 3xx is a failure: a redirect must not lead the request past the allow-list). Never throws.
 *
 * A failure says only the status code or the class of network error, never the answer's body or the
 * raw error text: without an allow-list anyone who may subscribe points the ping at internal services,
 * and the error would show them what answers there (issue 13; docs/webhooks.md).
 */
export type PushResult = { ok: true; status: number } | { ok: false; error: string; retryable: boolean }

export type Push = (endpoint: string, secret: string | null, body: string) => Promise<PushResult>

export interface PushOptions {
  connectTimeoutMs: number
  readTimeoutMs: number
  allowedHosts: readonly string[]
}

export function createPush(opts: PushOptions): Push {
  const agent = new Agent({ connect: { timeout: opts.connectTimeoutMs } })
  return async (endpoint, secret, body) => {
    const check = checkEndpoint(endpoint, opts.allowedHosts)
    if (!check.ok) {
      const why =
        check.reason === 'host' ? 'its host is not in difi.move.webhooks.allowed-hosts' : 'not an http(s) URL'
      return { ok: false, retryable: false, error: `push endpoint ${redactEndpoint(endpoint)}: ${why}` }
    }
    const { url, authorization } = splitCredentials(check.url)
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (authorization) headers.authorization = authorization
    if (secret) headers[SIGNATURE_HEADER] = signBody(body, secret)
    try {
      const res = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: agent,
        headersTimeout: opts.readTimeoutMs,
        bodyTimeout: opts.readTimeoutMs,
        // one connection per delivery: nothing lingers towards a receiver that may go away
        reset: true,
      })
      // the answer's body is never read into anything: it is nobody's business here
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined)
      if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode }
      return { ok: false, retryable: true, error: `HTTP ${res.statusCode}` }
    } catch (err) {
      return { ok: false, retryable: true, error: describe(err, opts) }
    }
  }
}

function splitCredentials(url: URL): { url: string; authorization: string | null } {
  if (!url.username && !url.password) return { url: url.toString(), authorization: null }
  const user = decodeURIComponent(url.username)
  const password = decodeURIComponent(url.password)
  const bare = new URL(url)
  bare.username = ''
  bare.password = ''
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
  return { url: bare.toString(), authorization }
}

/** Network error classes, by the codes Node and undici give; the rest is "connection failed". */
const ERROR_CLASSES: [RegExp, string][] = [
  [/^ECONNREFUSED$/, 'connection refused'],
  [/^(ECONNRESET|EPIPE|UND_ERR_SOCKET|UND_ERR_CLOSED)$/, 'connection closed by the other side'],
  [/^(ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NODATA|EAI_NONAME)$/, 'DNS failure'],
  [/^(ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT)$/, 'timeout'],
  [/^(EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ENETDOWN)$/, 'host unreachable'],
  [/^(EPROTO|ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/, 'TLS error'],
  [/^(HPE_|UND_ERR_INFO|UND_ERR_RES_|UND_ERR_HEADERS_OVERFLOW)/, 'not an HTTP answer'],
]

/**
 * The class of a network error and its code (a fixed identifier such as ECONNREFUSED), never the error's
 * message: that names the address a host name resolved to, or what a TLS peer presented.
 */
function describe(err: unknown, opts: PushOptions): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } }
  const code = [e.cause?.code, e.code].find(
    (c): c is string => typeof c === 'string' && /^[A-Z0-9_]+$/.test(c),
  )
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `timeout: could not connect within ${opts.connectTimeoutMs} ms`
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `timeout: no answer within ${opts.readTimeoutMs} ms`
  }
  if (!code) return 'connection failed'
  const known = ERROR_CLASSES.find(([pattern]) => pattern.test(code))
  return `${known ? known[1] : 'connection failed'} (${code})`
}
