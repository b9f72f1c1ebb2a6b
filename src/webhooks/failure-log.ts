import type { Logger } from 'pino'
import { forMessage } from '../util/log.js'

/** How often, at most, one failing subscription is logged. */
export const FAILURE_LOG_INTERVAL_MS = 5 * 60_000

/**
 * A receiver that is down would otherwise log a warning per attempt: hundreds of lines in minutes for one
 * forgotten subscription. Each subscription's failures are logged at most once per interval, with how
 * many attempts failed since its last line; every attempt stays at debug level (the job runner), and
 * the subscription's `delivery` (API and web pages) keeps the state. Kept in memory on purpose: it only
 * paces the log; after a restart the first failure is logged again, which is what an operator wants.
 */
export class FailureLog {
  readonly #seen = new Map<number, { loggedAt: number; failed: number }>()
  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = FAILURE_LOG_INTERVAL_MS,
  ) {}

  /** `messageId`: the message whose event failed just now; its line carries that message's correlation_id */
  failed(
    sub: { id: number; name: string },
    endpoint: string,
    error: string,
    messageId: string | null,
    now: number,
  ): void {
    const entry = this.#seen.get(sub.id)
    if (entry && now - entry.loggedAt < this.intervalMs) {
      entry.failed++
      return
    }
    const failed = (entry?.failed ?? 0) + 1
    const minutes = Math.round(this.intervalMs / 60_000)
    const since = entry ? ` (${failed} failed attempts in the last ${minutes} min)` : ''
    forMessage(this.logger, messageId).warn(
      {
        kind: 'webhook',
        subscriptionId: sub.id,
        subscription: sub.name,
        endpoint,
        failedAttempts: failed,
        messageId,
        error,
      },
      `webhook subscription ${sub.id} "${sub.name}" is failing${since}; trying again: ${error}`,
    )
    this.#seen.set(sub.id, { loggedAt: now, failed: 0 })
  }

  /** a delivery went through: the next failure is news again */
  delivered(subscriptionId: number): void {
    this.#seen.delete(subscriptionId)
  }
}
