import { createHash, timingSafeEqual } from 'node:crypto'
import { isIPv6 } from 'node:net'

/**
 * HTTP Basic credentials check. Both sides are hashed first, so the comparison takes the same time
 * whatever the lengths, and a guess learns nothing from timing.
 */
export function basicAuthMatches(header: string | undefined, username: string, password: string): boolean {
  if (!header || !/^basic\s+/i.test(header)) return false
  const decoded = Buffer.from(header.replace(/^basic\s+/i, ''), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return false
  // both checked, always: no early return that tells a right user name from a wrong one
  const userOk = same(decoded.slice(0, colon), username)
  const passwordOk = same(decoded.slice(colon + 1), password)
  return userOk && passwordOk
}

function same(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()
  return timingSafeEqual(digest(a), digest(b))
}

/**
 * Route patterns served without the password, as the reference's security configuration leaves the
 * actuator and the API docs open. Protection is decided on the pattern the router matched, never on the
 * raw request target (which may spell the same route as `/%61pi/...`): a request no route matches is
 * protected too, so no spelling of a path can fall between the check and the router.
 */
const OPEN_PREFIXES = ['/manage', '/v3/api-docs', '/swagger-ui']

export function isOpenRoute(pattern: string | undefined): boolean {
  if (pattern === undefined) return false
  return OPEN_PREFIXES.some((p) => pattern === p || pattern.startsWith(`${p}/`))
}

/**
 * Only the origin form (`/path?query`) is a target a client of this API has any business sending;
 * the absolute form (`GET http://host/api/...`, meant for proxies) and the asterisk form are refused.
 */
export function isOriginForm(target: string): boolean {
  return target.startsWith('/')
}

/** How failed logins are slowed down: a bucket of guesses per source that refills with time. */
export interface LoginThrottleOptions {
  /** failed attempts a source may make at once */
  burst: number
  /** one more failed attempt allowed every this many milliseconds */
  refillMs: number
  /** sources remembered at most; the oldest is forgotten first */
  maxSources: number
}

export const LOGIN_THROTTLE_DEFAULTS: LoginThrottleOptions = { burst: 10, refillMs: 2000, maxSources: 10_000 }

/**
 * Throttles password guessing per source address (an IPv6 address by its /64, which one host usually
 * holds whole). Only failures spend from the bucket; while it is empty, requests with credentials from
 * that source are answered 429 without looking at the credentials, so a guess costs the attacker time
 * and tells them nothing. Nothing is locked for good: the bucket refills, and another source (the
 * fagsystem) is never affected. Kept in memory on purpose: it is a brake, not a record, and several
 * instances each brake on their own.
 */
export class LoginThrottle {
  readonly #buckets = new Map<string, { tokens: number; at: number }>()
  readonly #opts: LoginThrottleOptions
  constructor(opts: Partial<LoginThrottleOptions> = {}) {
    this.#opts = { ...LOGIN_THROTTLE_DEFAULTS, ...opts }
  }

  /** milliseconds until this source may try again; 0 when it may try now */
  waitMs(address: string, now: number): number {
    const bucket = this.#refilled(sourceKey(address), now)
    if (!bucket || bucket.tokens >= 1) return 0
    return Math.ceil((1 - bucket.tokens) * this.#opts.refillMs)
  }

  failed(address: string, now: number): void {
    const key = sourceKey(address)
    const bucket = this.#refilled(key, now) ?? { tokens: this.#opts.burst, at: now }
    bucket.tokens = Math.max(0, bucket.tokens - 1)
    this.#buckets.delete(key) // re-inserted last: the Map's order is the forgetting order
    this.#buckets.set(key, bucket)
    if (this.#buckets.size > this.#opts.maxSources) {
      const oldest = this.#buckets.keys().next().value
      if (oldest !== undefined) this.#buckets.delete(oldest)
    }
  }

  #refilled(key: string, now: number): { tokens: number; at: number } | undefined {
    const bucket = this.#buckets.get(key)
    if (!bucket) return undefined
    const gained = Math.max(0, now - bucket.at) / this.#opts.refillMs
    bucket.tokens = Math.min(this.#opts.burst, bucket.tokens + gained)
    bucket.at = now
    if (bucket.tokens >= this.#opts.burst) {
      this.#buckets.delete(key) // a full bucket is the default: nothing to remember
      return undefined
    }
    return bucket
  }
}

/** The throttling key of an address: IPv4 as it is, IPv6 by its first 64 bits. */
export function sourceKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1]!
  if (!isIPv6(address)) return address
  const [head = '', tail] = address.split('%')[0]!.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`
}
