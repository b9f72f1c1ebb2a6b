// An Altinn token as the reference makes one for DPO and DPV: a Maskinporten JWT grant signed with the
// organisation's business key (its certificate in `x5c`), traded at Maskinporten for an access token, which
// Altinn's exchange turns into an Altinn token. Each channel says what the grant claims besides the scope and
// the consumer (DPO: its system user). The Altinn token is cached per scope and fetched again 5 minutes
// before its 30-minute lifetime ends (the reference caches 25). Without an exchange (DPF: KS Fiks takes the
// Maskinporten token itself) the Maskinporten access token is the token, kept for its `expires_in`.

import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto'
import { SignJWT } from 'jose'
import type { Clock } from '../util/time.js'
import { BrokerError, httpError, MAX_PROBLEM_BYTES, networkError } from './altinn-errors.js'

export interface AltinnTokenSource<S extends string> {
  token(scope: S): Promise<string>
}

export interface AltinnTokenOptions {
  /** the organisation number, nine digits without `0192:` */
  org: string
  keyPem: string
  certPem: string
  /** Maskinporten's audience, `https://(test.)maskinporten.no/` */
  maskinportenAudience: string
  /**
   * Altinn's `/authentication/api/v1/exchange/maskinporten`; null when the service takes the Maskinporten
   * access token as it is (KS Fiks), which then needs `maskinportenUrl`
   */
  exchangeUrl: string | null
  /**
   * Maskinporten's token endpoint (`difi.move.oidc.url`): the grant is traded there for an access token,
   * which is exchanged. null sends the grant straight to the exchange (`difi.move.oidc.enable=false`).
   */
  maskinportenUrl: string | null
  /** what the grant claims besides `scope` and `consumer` (DPO: `authorization_details`) */
  extraClaims?: Record<string, unknown>
  clock: Clock
  timeoutMs: number
  fetch?: typeof fetch
}

/** Altinn tokens live 30 minutes; one is used until 5 minutes before that. */
export const ALTINN_TOKEN_LIFETIME_MS = 30 * 60_000
export const ALTINN_TOKEN_MARGIN_MS = 5 * 60_000
/** Maskinporten grants live 120 s (docs.digdir.no, Maskinporten's JWT grant). */
const GRANT_LIFETIME_S = 120
const ISO6523 = 'iso6523-actorid-upis'

interface Cached {
  token: string
  useUntil: number
}

export function createAltinnTokenSource<S extends string>(opts: AltinnTokenOptions): AltinnTokenSource<S> {
  const key = createPrivateKey(opts.keyPem)
  const x5c = [new X509Certificate(opts.certPem).raw.toString('base64')]
  const cache = new Map<S, Cached>()
  // one exchange per scope at a time: concurrent callers share it instead of each making one
  const pending = new Map<S, Promise<string>>()

  const fetchFresh = async (scope: S): Promise<string> => {
    const now = opts.clock.now().getTime()
    const claims = { scope, consumer: { authority: ISO6523, ID: `0192:${opts.org}` }, ...opts.extraClaims }
    const grant = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', x5c })
      .setIssuer(`MOVE_IP_${opts.org}`)
      .setAudience(opts.maskinportenAudience)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + GRANT_LIFETIME_S)
      .setJti(randomUUID())
      .sign(key)
    if (opts.exchangeUrl === null) {
      if (!opts.maskinportenUrl) throw new Error('a Maskinporten token needs Maskinporten (no token URL)')
      const { token, expiresInS } = await maskinporten(opts, opts.maskinportenUrl, grant)
      // used until a quarter of its life (at most a minute) is left: a call made now still carries a live one
      const lifeMs = expiresInS * 1000
      cache.set(scope, { token, useUntil: now + lifeMs - Math.min(lifeMs / 4, 60_000) })
      return token
    }
    const maskinportenToken = opts.maskinportenUrl
      ? (await maskinporten(opts, opts.maskinportenUrl, grant)).token
      : grant
    const token = await exchange(opts, opts.exchangeUrl, maskinportenToken)
    cache.set(scope, { token, useUntil: now + ALTINN_TOKEN_LIFETIME_MS - ALTINN_TOKEN_MARGIN_MS })
    return token
  }

  return {
    token(scope) {
      const cached = cache.get(scope)
      if (cached && opts.clock.now().getTime() < cached.useUntil) return Promise.resolve(cached.token)
      let running = pending.get(scope)
      if (!running) {
        running = fetchFresh(scope).finally(() => pending.delete(scope))
        pending.set(scope, running)
      }
      return running
    },
  }
}

/**
 * POST the JWT-bearer grant to Maskinporten; the answer's `access_token` is what Altinn exchanges, and
 * `expires_in` its lifetime (Maskinporten's default, 120 s, when the answer gives none).
 */
async function maskinporten(
  opts: AltinnTokenOptions,
  url: string,
  grant: string,
): Promise<{ token: string; expiresInS: number }> {
  const what = `Maskinporten POST ${url}`
  const { status, text } = await call(opts, what, url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: JWT_BEARER, assertion: grant }).toString(),
  })
  let answer: { access_token?: unknown; expires_in?: unknown } = {}
  try {
    answer = JSON.parse(text) ?? {}
  } catch {
    answer = {}
  }
  const token = answer.access_token
  if (typeof token !== 'string' || token === '')
    throw new BrokerError(`${what} answered ${status} without an access_token`, { status, retryable: false })
  const expires = answer.expires_in
  return { token, expiresInS: typeof expires === 'number' && expires > 0 ? expires : 120 }
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'

/** GET the exchange with the Maskinporten token as bearer; the answer is the Altinn token as plain text. */
async function exchange(opts: AltinnTokenOptions, url: string, bearer: string): Promise<string> {
  const what = `The Altinn token exchange GET ${url}`
  const { status, text } = await call(opts, what, url, {
    method: 'GET',
    headers: { authorization: `Bearer ${bearer}`, accept: 'text/plain, application/json' },
  })
  const token = unquote(text.trim())
  if (!token || /\s/.test(token))
    throw new BrokerError(`${what} answered ${status} without a token`, { status, retryable: false })
  return token
}

/** One call with the timeout; a 2xx answer's status and text, anything else a BrokerError. */
async function call(
  opts: AltinnTokenOptions,
  what: string,
  url: string,
  init: RequestInit,
): Promise<{ status: number; text: string }> {
  const signal = AbortSignal.timeout(opts.timeoutMs)
  let res: Response
  let text: string
  try {
    res = await (opts.fetch ?? fetch)(url, { ...init, signal })
    text = await res.text()
  } catch (cause) {
    throw networkError(what, opts.timeoutMs, signal.aborted, cause)
  }
  if (res.status < 200 || res.status > 299)
    throw httpError(what, res.status, text.slice(0, MAX_PROBLEM_BYTES))
  return { status: res.status, text }
}

/** Altinn answers the token as text; some deployments wrap it in JSON quotes. */
function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text
}
