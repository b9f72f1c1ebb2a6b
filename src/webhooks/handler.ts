import type { Logger } from 'pino'
import type { Config } from '../config/types.js'
import type { Db } from '../db/open.js'
import type { JobRow } from '../db/schema.js'
import type { JobHandler, JobOutcome } from '../jobs/runner.js'
import { forMessage } from '../util/log.js'
import type { Clock } from '../util/time.js'
import { earlierPending, finishDelivery, PARK_MS, type WebhookJobPayload } from './deliveries.js'
import { redactEndpoint } from './endpoint.js'
import { FailureLog } from './failure-log.js'
import { createPush, type Push } from './push.js'
import { recordDelivered, recordFailure, subscriptionById } from './repository.js'

/**
 * What happened to a delivery attempt, for metrics (issue 6 plugs prom-client in here) and tests.
 * `attempt` counts every run of the job, waiting turns included.
 */
export interface WebhookObserver {
  delivered?(e: { subscriptionId: number; attempt: number; ageMs: number }): void
  failed?(e: { subscriptionId: number; attempt: number; error: string; givenUp: boolean }): void
}

export interface WebhookDeps {
  db: Db
  clock: Clock
  logger: Logger
  config: Config['webhooks']
  /** tests may replace the HTTP POST */
  push?: Push
  observer?: WebhookObserver
  /** how long a delivery waits for an earlier one of its chain that is being sent right now */
  waitForEarlierMs?: number
}

/**
 * The `webhook` job: POSTs one event to its subscription's current push endpoint. Retried with the
 * outbox's exponential backoff (`difi.move.nextmove.retry.*`) while the receiver is down, times out or
 * answers non-2xx; given up after `difi.move.webhooks.maximum-retry-hours` (or the outbox's attempt
 * limit), after which the next event of the message goes on. A delivery whose subscription was deleted
 * is dropped.
 */
export function webhookJobHandler(deps: WebhookDeps): JobHandler {
  const push = deps.push ?? createPush(deps.config)
  const maxAgeMs = deps.config.maximumRetryHours * 3_600_000
  const waitMs = deps.waitForEarlierMs ?? deps.config.connectTimeoutMs + deps.config.readTimeoutMs + 1000
  const now = () => deps.clock.now().getTime()
  const failures = new FailureLog(deps.logger)

  return async (job: JobRow): Promise<JobOutcome> => {
    const { subscriptionId, event } = JSON.parse(job.payload) as WebhookJobPayload
    const sub = await subscriptionById(deps.db.kysely, subscriptionId)
    if (!sub) return { ok: true }
    const lastTry = job.attempts >= job.max_attempts
    const waiting = await mustWait(deps, job, subscriptionId, waitMs)
    // not its turn: parked again, no attempt used (the earlier one's end wakes it, or PARK_MS does)
    if (waiting) return { defer: true, until: now() + PARK_MS, reason: waiting }
    const result = await push(sub.push_endpoint, sub.secret, JSON.stringify(event))
    const at = now()
    if (result.ok) {
      await finishDelivery(deps.db, job, subscriptionId, { state: 'DONE', error: null }, at, (trx) =>
        recordDelivered(trx, subscriptionId, at),
      )
      deps.observer?.delivered?.({ subscriptionId, attempt: job.attempts, ageMs: at - job.created_at })
      failures.delivered(subscriptionId)
      return { ok: true }
    }
    const error = `${redactEndpoint(sub.push_endpoint)}: ${result.error}`
    if (!result.retryable || lastTry || at - job.created_at >= maxAgeMs)
      return giveUp(deps, job, subscriptionId, error)
    await recordFailure(deps.db.kysely, subscriptionId, error, at, false)
    deps.observer?.failed?.({ subscriptionId, attempt: job.attempts, error, givenUp: false })
    failures.failed(sub, redactEndpoint(sub.push_endpoint), result.error, job.message_id, at)
    return { ok: false, retryable: true, error, quiet: true }
  }
}

/**
 * Null when this delivery is next in its chain; otherwise why it must wait. An earlier delivery being
 * sent right now is waited for (briefly), so the usual case needs no retry round.
 */
async function mustWait(deps: WebhookDeps, job: JobRow, subscriptionId: number, waitMs: number) {
  const until = Date.now() + waitMs
  for (;;) {
    const earlier = await earlierPending(deps.db.kysely, job, subscriptionId)
    if (!earlier) return null
    const running = earlier.locked_until !== null && earlier.locked_until > deps.clock.now().getTime()
    if (!running || Date.now() >= until)
      return `waiting for an earlier event of message ${job.message_id} to be delivered (job ${earlier.id})`
    await new Promise((r) => setTimeout(r, 25))
  }
}

async function giveUp(
  deps: WebhookDeps,
  job: JobRow,
  subscriptionId: number,
  error: string,
): Promise<JobOutcome> {
  const at = deps.clock.now().getTime()
  await finishDelivery(deps.db, job, subscriptionId, { state: 'FAILED', error }, at, (trx) =>
    recordFailure(trx, subscriptionId, error, at, true),
  )
  forMessage(deps.logger, job.message_id).error(
    { subscriptionId, messageId: job.message_id, job: job.id, attempts: job.attempts, error },
    `webhook delivery given up after ${job.attempts} attempts: ${error}`,
  )
  deps.observer?.failed?.({ subscriptionId, attempt: job.attempts, error, givenUp: true })
  return { ok: false, retryable: false, error }
}
