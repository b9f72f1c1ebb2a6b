/**
 * The retry policy, pure: what is worth another attempt and how long to wait first. Only transient
 * trouble is retried: no answer (refused, reset, timed out) and 502/503/504 from a proxy or a server
 * that is starting or stopping. Whether a retried request may have landed twice is the caller's
 * business (send() makes it harmless with the messageId).
 */

export interface RetryPolicy {
  /** attempts after the first */
  retries: number
  /** the wait before the first retry; it doubles each time */
  retryDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, retryDelayMs: 500 }

/** No single wait is longer than this, whatever the doubling or a Retry-After says. */
export const MAX_RETRY_DELAY_MS = 30_000

const RETRYABLE_STATUSES = new Set([502, 503, 504])

/** System and undici codes of connections that failed or broke without an answer. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'REQUEST_TIMEOUT',
])

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status)
}

/** The first system/undici error code on the cause chain, if any. */
export function errorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

/** Whether a failed fetch is worth another attempt: a connection that failed or broke. */
export function isTransientNetworkError(error: unknown): boolean {
  const code = errorCode(error)
  return code !== undefined && TRANSIENT_CODES.has(code)
}

/**
 * The wait before retry number `retry` (1-based): retryDelayMs, doubling, at most MAX_RETRY_DELAY_MS;
 * a server's Retry-After (seconds) is honoured when longer.
 */
export function retryDelay(policy: RetryPolicy, retry: number, retryAfter?: string | null): number {
  const backoff = Math.min(policy.retryDelayMs * 2 ** Math.max(0, retry - 1), MAX_RETRY_DELAY_MS)
  const seconds = retryAfter && /^\d{1,6}$/.test(retryAfter.trim()) ? Number(retryAfter) : 0
  return Math.max(backoff, Math.min(seconds * 1000, MAX_RETRY_DELAY_MS))
}
