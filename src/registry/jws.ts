import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose'
import type { Clock } from '../util/time.js'
import { ServiceRegistryLookupError, ServiceRegistryUnavailableError } from './errors.js'
import type { HttpAnswer } from './http.js'
import { parseJsonText } from './parse.js'

/**
 * Verifies the ServiceRegistry's signed answers (compact JWS, RS256) against its JWK set.
 *
 * The reference (move-common `JWTDecoder`) loads the JWK set on every call and takes its first RSA
 * key. We keep the set for {@link JWK_SET_TTL_MS}, pick the key by the header's `kid` (the first RSA
 * key when there is no `kid`, as the reference), and fetch the set again once when the `kid` is
 * not in it, so a key the registry has just rotated in is found without waiting for the expiry.
 */
export const JWK_SET_TTL_MS = 60_000

export interface JwsVerifier {
  /** The payload text of `compact` when its signature holds; `url` is the call it answered. */
  verify(compact: string, url: string): Promise<string>
  clear(): void
}

interface KeySet {
  keys: JWK[]
  expiresAt: number
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/

export function createJwsVerifier(opts: {
  jwkUrl: string
  clock: Clock
  get: (url: string) => Promise<HttpAnswer>
}): JwsVerifier {
  let cached: KeySet | undefined
  let inFlight: Promise<KeySet> | undefined
  const imported = new WeakMap<JWK, Promise<CryptoKey | Uint8Array>>()

  async function keySet(refresh: boolean): Promise<{ set: KeySet; fetched: boolean }> {
    if (!refresh && cached && cached.expiresAt > opts.clock.now().getTime())
      return { set: cached, fetched: false }
    inFlight ??= loadKeySet(opts).finally(() => {
      inFlight = undefined
    })
    cached = await inFlight
    return { set: cached, fetched: true }
  }

  async function keyFor(kid: string | undefined, url: string): Promise<JWK> {
    let { set, fetched } = await keySet(false)
    let key = pickKey(set.keys, kid)
    if (!key && kid !== undefined && !fetched) {
      ;({ set } = await keySet(true))
      key = pickKey(set.keys, kid)
    }
    if (!key) {
      const which = kid === undefined ? 'no RSA key' : `no key with kid '${kid}'`
      throw badSignature(url, `${which} in the JWK set at ${opts.jwkUrl}`)
    }
    return key
  }

  async function importKey(jwk: JWK, url: string): Promise<CryptoKey | Uint8Array> {
    let key = imported.get(jwk)
    if (!key) {
      key = importJWK(jwk, 'RS256')
      imported.set(jwk, key)
    }
    try {
      return await key
    } catch (err) {
      throw badSignature(url, `the key '${jwk.kid}' in the JWK set at ${opts.jwkUrl} cannot be used`, err)
    }
  }

  return {
    async verify(compact, url) {
      const jws = compact.trim()
      if (!COMPACT_JWS.test(jws)) throw badSignature(url, 'the answer is not signed (expected a compact JWS)')
      const kid = readKid(jws, url)
      const jwk = await keyFor(kid, url)
      const key = await importKey(jwk, url)
      try {
        const { payload } = await compactVerify(jws, key, { algorithms: ['RS256'] })
        return new TextDecoder().decode(payload)
      } catch (err) {
        throw badSignature(url, 'the signature does not verify', err)
      }
    },
    clear() {
      cached = undefined
    },
  }
}

function readKid(jws: string, url: string): string | undefined {
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(jws)
  } catch (err) {
    throw badSignature(url, 'the JWS header cannot be read', err)
  }
  if (header.alg !== 'RS256') throw badSignature(url, `algorithm '${header.alg}' is not RS256`)
  return typeof header.kid === 'string' ? header.kid : undefined
}

function pickKey(keys: JWK[], kid: string | undefined): JWK | undefined {
  return kid === undefined ? keys[0] : keys.find((k) => k.kid === kid)
}

async function loadKeySet(opts: { jwkUrl: string; clock: Clock; get: (url: string) => Promise<HttpAnswer> }) {
  const url = opts.jwkUrl
  const answer = await opts.get(url)
  if (answer.status >= 500) {
    throw new ServiceRegistryUnavailableError(
      `ServiceRegistry is unavailable: GET ${url} answered ${answer.status}`,
      {
        url,
        status: answer.status,
      },
    )
  }
  if (answer.status !== 200) {
    throw new ServiceRegistryLookupError(`Cannot load the JWK set: GET ${url} answered ${answer.status}`, {
      url,
      status: answer.status,
    })
  }
  let keys: JWK[]
  try {
    const set = parseJsonText(answer.body) as { keys?: unknown }
    if (!Array.isArray(set?.keys)) throw new Error('no "keys" list')
    keys = set.keys.filter((k): k is JWK => typeof k === 'object' && k !== null && (k as JWK).kty === 'RSA')
  } catch (err) {
    throw new ServiceRegistryLookupError(
      `The answer to GET ${url} is not a JWK set: ${(err as Error).message}`,
      {
        url,
        cause: err,
      },
    )
  }
  return { keys, expiresAt: opts.clock.now().getTime() + JWK_SET_TTL_MS }
}

function badSignature(url: string, why: string, cause?: unknown): ServiceRegistryLookupError {
  // as the reference: "Bad signature in response from service registry"
  return new ServiceRegistryLookupError(
    `Bad signature in response from service registry (GET ${url}): ${why}`,
    {
      url,
      cause,
    },
  )
}
