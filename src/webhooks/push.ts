import { Agent, request } from 'undici'
import { checkEndpoint, redactEndpoint } from './endpoint.js'
import { SIGNATURE_HEADER, signBody } from './signing.js'

/**
 * One POST of an event to a push endpoint, as the reference's RestTemplate does it (`application/json`,
 * connect and read timeouts of `difi.move.webhooks.*`, 10 s each), plus ours: the signature header when
 * the subscription has a secret, `user:password@` in the URL sent as HTTP Basic, no redirects followed
 * (a 3xx is a failure: a redirect must not lead the request past the allow-list). Never throws.
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
      const snippet = await readSnippet(res.body)
      if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode }
      const text = snippet ? `: ${snippet}` : ''
      return { ok: false, retryable: true, error: `HTTP ${res.statusCode}${text}` }
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

/** The first few hundred characters of the answer, for the error text; the rest is discarded. */
async function readSnippet(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  let text = ''
  try {
    for await (const chunk of body) {
      text += chunk.toString('utf8')
      if (text.length >= 300) break
    }
  } finally {
    body.destroy()
  }
  return text.slice(0, 300).replace(/\s+/g, ' ').trim()
}

function describe(err: unknown, opts: PushOptions): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } }
  switch (e.code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `could not connect within ${opts.connectTimeoutMs} ms`
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `no answer within ${opts.readTimeoutMs} ms`
  }
  const cause = e.cause?.code ?? e.code
  const message = e.cause?.message ?? e.message ?? String(err)
  return cause && !message.includes(cause) ? `${cause}: ${message}` : message
}
