/**
 * When to try a failed job again: exponential backoff from `baseMs`, capped at `maxMs`, with up to
 * 20 % jitter so many failed jobs do not retry in step; `retryable` false or the attempts used up give
 * the job up. Pure, so it is tested alone (style rule 6).
 */
export interface RetryPolicy {
  baseMs: number
  maxMs: number
  maxAttempts: number
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 20_000, maxMs: 3_600_000, maxAttempts: 1000 }

export function nextRunAt(
  policy: RetryPolicy,
  attempts: number,
  now: number,
  retryable: boolean,
  random: () => number = Math.random,
): number | null {
  if (!retryable || attempts >= policy.maxAttempts) return null
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempts - 1))
  return now + Math.round(exp * (1 + 0.2 * random()))
}
