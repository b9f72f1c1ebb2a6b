import type { Clock } from '../util/time.js'
import {
  NotFoundInServiceRegistryError,
  ServiceRegistryLookupError,
  ServiceRegistryUnavailableError,
} from './errors.js'
import { type HttpAnswer, statusText } from './http.js'
import type { JwsVerifier } from './jws.js'

/** As the reference's `getSasKey` cache (CacheConfig): a fetched key is used for a day. */
export const SAS_KEY_TTL_MS = 24 * 60 * 60 * 1000

/** The Service Bus SAS key DPE signs its requests with (the reference's ServiceRegistryClient.getSasKey). */
export interface SasKeySource {
  /**
   * `GET {sr}/sastoken`, verified against the registry's JWK set; the payload is the key. Cached for
   * {@link SAS_KEY_TTL_MS}; while the registry cannot be reached, the last key it gave.
   */
  sasKey(auth?: SasKeyAuth): Promise<string>
  /** Forgets the cached key, so the next `sasKey()` asks the registry (the reference does on a 401 from Service Bus). */
  invalidateSasKey(): void
}

/** The Maskinporten token the registry wants for `/sastoken` (scope eformidling:dpe), made by the caller. */
export interface SasKeyAuth {
  bearer(): Promise<string>
}

export interface SasKeySourceOptions {
  /** `{endpoint}/sastoken` */
  url: string
  get: (url: string, accept: string, headers?: Record<string, string>) => Promise<HttpAnswer>
  verifier: JwsVerifier
  clock: Clock
  /** told when the registry could not be reached and the last good key was used instead */
  onStaleSasKey?: (error: ServiceRegistryUnavailableError) => void
}

/**
 * The reference keeps the last key in a table (`SasKeyWrapper`) for registry outages; this keeps it in
 * memory, so it lasts as long as the process: an integration point that starts while the registry is
 * down has no key until it comes back.
 */
export function createSasKeySource(opts: SasKeySourceOptions): SasKeySource {
  const { url } = opts
  let cached: { key: string; expiresAt: number } | undefined
  let lastGood: string | undefined
  let inFlight: Promise<string> | undefined
  // a fetch that began before an invalidation may still bring the old key: it is returned, not cached
  let generation = 0

  async function fetchKey(auth: SasKeyAuth | undefined): Promise<string> {
    let headers: Record<string, string> | undefined
    if (auth) {
      const token = await auth.bearer().catch((cause: unknown) => {
        // no token is no answer from the registry: the key it gave last is still good meanwhile
        throw new ServiceRegistryUnavailableError(
          `No Maskinporten token for GET ${url}: ${(cause as Error).message}`,
          { url, cause },
        )
      })
      headers = { authorization: `Bearer ${token}` }
    }
    // the registry answers this only as application/jose, whatever difi.move.sign.enable says
    const answer = await opts.get(url, 'application/jose', headers)
    if (answer.status !== 200) throw errorFor(answer.status, url)
    const key = await opts.verifier.verify(answer.body, url)
    if (key === '')
      throw new ServiceRegistryLookupError(`The answer to GET ${url} holds an empty SAS key`, { url })
    return key
  }

  async function load(auth: SasKeyAuth | undefined): Promise<string> {
    const started = generation
    const keep = (key: string) => {
      if (started === generation) cached = { key, expiresAt: opts.clock.now().getTime() + SAS_KEY_TTL_MS }
      return key
    }
    try {
      const key = await fetchKey(auth)
      lastGood = key
      return keep(key)
    } catch (err) {
      // only an outage falls back: a registry that answers "no key" or with a bad signature is believed
      if (!(err instanceof ServiceRegistryUnavailableError) || lastGood === undefined) throw err
      opts.onStaleSasKey?.(err)
      // as the reference, whose day-long cache holds whatever getSasKey gave, the kept key included: a
      // 401 from Service Bus (a key rotated meanwhile) invalidates it and the registry is asked again
      return keep(lastGood)
    }
  }

  return {
    sasKey(auth) {
      if (cached && cached.expiresAt > opts.clock.now().getTime()) return Promise.resolve(cached.key)
      if (!inFlight) {
        const pending = load(auth).finally(() => {
          if (inFlight === pending) inFlight = undefined
        })
        inFlight = pending
      }
      return inFlight
    },
    invalidateSasKey() {
      generation++
      cached = undefined
      inFlight = undefined
    },
  }
}

function errorFor(status: number, url: string): Error {
  const { name, reason } = statusText(status)
  const answered = `GET ${url} answered ${status} ${name} (${reason})`
  if (status === 404)
    return new NotFoundInServiceRegistryError(
      `The ServiceRegistry has no Service Bus SAS key: ${answered}; DPE cannot send or receive until it has one`,
      { url, status },
    )
  if (status >= 500)
    return new ServiceRegistryUnavailableError(`ServiceRegistry is unavailable: ${answered}`, { url, status })
  const scope =
    status === 401 || status === 403
      ? ': the registry wants a Maskinporten token with scope eformidling:dpe'
      : ''
  return new ServiceRegistryLookupError(`Cannot get the Service Bus SAS key: ${answered}${scope}`, {
    url,
    status,
  })
}
