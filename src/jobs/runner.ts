import type { Logger } from 'pino'
import type { Db } from '../db/open.js'
import type { JobRow } from '../db/schema.js'
import { endsWithin } from '../util/async.js'
import { forMessage } from '../util/log.js'
import type { Clock } from '../util/time.js'
import { createLoop, type Loop } from './loop.js'
import { claim, complete, defer, fail, releaseLeases, renewLease } from './outbox.js'
import { nextRunAt, type RetryPolicy } from './retry-policy.js'

/**
 * What a handler says about a job: done, or failed with whether another try may help. A handler
 * that throws is treated as a retryable failure.
 */
export type JobOutcome =
  | { ok: true }
  /** `quiet`: the handler reports the failure itself, so a retry is logged at debug level only */
  | { ok: false; error: string; retryable: boolean; quiet?: boolean }
  /** not this job's turn yet (it waits for another): run again at `until`, no attempt used, no failure */
  | { defer: true; until: number; reason: string }

export type JobHandler = (job: JobRow) => Promise<JobOutcome>

/** How a run of a job ended, as recorded in its row. */
export type JobEnd = 'ok' | 'retry' | 'given_up' | 'deferred'

/** Told of every job run this worker recorded (metrics). */
export interface JobObserver {
  finished(e: { kind: string; outcome: JobEnd; seconds: number }): void
}

export interface JobRunnerOptions {
  db: Db
  clock: Clock
  logger: Logger
  handlers: Record<string, JobHandler>
  workerId: string
  /** jobs running at once */
  concurrency: number
  /** a claimed job is this worker's for this long, renewed while it runs */
  leaseMs: number
  retry: RetryPolicy
  /** the sleep between rounds when nothing is due (a nudge wakes it at once) */
  intervalMs: number
  /** called when a job is given up (FAILED), after the row says so */
  onGiveUp?: (job: JobRow, error: string) => Promise<void>
  observer?: JobObserver
  /**
   * How long `stop()` waits for running jobs (default: until they end). Jobs still running then are
   * abandoned: their leases are released, so they run again at once at the next start instead of after
   * the lease; what they did meanwhile is idempotent (a send finds its committed broker transfer).
   */
  shutdownGraceMs?: number
}

export interface JobRunner extends Loop {
  /** resolves when every job started so far has finished (tests, shutdown) */
  idle(): Promise<void>
  /** runs rounds until nothing is due and nothing runs (tests) */
  drain(): Promise<void>
}

/**
 * The workers over the outbox: each round claims as many due jobs as there are free slots and starts
 * them; a finished job frees its slot and nudges the loop. Leases are renewed while a job runs, so
 * only a crashed worker's jobs are claimed again by another.
 */
export function createJobRunner(opts: JobRunnerOptions): JobRunner {
  const running = new Set<Promise<void>>()
  const kinds = Object.keys(opts.handlers)
  let loop: Loop
  // whether the last round filled every free slot: if not, it took every job that was due
  let claimedAll = true

  const tick = async (): Promise<number> => {
    const free = opts.concurrency - running.size
    if (free <= 0) return 0
    const now = opts.clock.now().getTime()
    const jobs = await claim(opts.db.kysely, opts.db.caps, {
      kinds,
      workerId: opts.workerId,
      leaseMs: opts.leaseMs,
      limit: free,
      now,
    })
    claimedAll = jobs.length === free
    for (const job of jobs) {
      const p = run(job).finally(() => {
        running.delete(p)
        loop.nudge()
      })
      running.add(p)
    }
    return jobs.length
  }

  async function run(job: JobRow): Promise<void> {
    const renew = setInterval(
      () => {
        const now = opts.clock.now().getTime()
        renewLease(opts.db.kysely, job.id, opts.workerId, now + opts.leaseMs, now).catch((err) => {
          if (!abandoned)
            forMessage(opts.logger, job.message_id).warn({ err, job: job.id }, 'could not renew a job lease')
        })
      },
      Math.max(1000, Math.floor(opts.leaseMs / 3)),
    )
    renew.unref?.()
    const started = performance.now()
    let outcome: JobOutcome
    try {
      outcome = await opts.handlers[job.kind]!(job)
    } catch (error) {
      outcome = { ok: false, error: describe(error), retryable: true }
    } finally {
      clearInterval(renew)
    }
    try {
      const end = await settle(job, outcome)
      const seconds = (performance.now() - started) / 1000
      opts.observer?.finished({ kind: job.kind, outcome: end, seconds })
    } catch (err) {
      // the lease runs out and the job is claimed again: nothing is lost
      if (!abandoned)
        forMessage(opts.logger, job.message_id).error(
          { err, job: job.id, kind: job.kind },
          'could not record the end of a job',
        )
    }
  }

  async function settle(job: JobRow, outcome: JobOutcome): Promise<JobEnd> {
    const now = opts.clock.now().getTime()
    const db = opts.db.kysely
    if ('defer' in outcome) {
      await defer(db, job.id, opts.workerId, outcome.until, now)
      return 'deferred'
    }
    if (outcome.ok) {
      await complete(db, job.id, opts.workerId, now)
      return 'ok'
    }
    const policy = { ...opts.retry, maxAttempts: Math.min(opts.retry.maxAttempts, job.max_attempts) }
    const retryAt = nextRunAt(policy, job.attempts, now, outcome.retryable)
    const log = { job: job.id, kind: job.kind, messageId: job.message_id, attempts: job.attempts }
    const logger = forMessage(opts.logger, job.message_id)
    if (retryAt === null) {
      logger.error({ ...log, error: outcome.error }, `job ${job.kind} given up: ${outcome.error}`)
      await fail(db, job.id, opts.workerId, outcome.error, null, now)
      await opts.onGiveUp?.(job, outcome.error)
      return 'given_up'
    } else {
      logger[outcome.quiet ? 'debug' : 'warn'](
        { ...log, error: outcome.error, retryInMs: retryAt - now },
        `job ${job.kind} failed, will try again: ${outcome.error}`,
      )
      await fail(db, job.id, opts.workerId, outcome.error, retryAt, now)
      return 'retry'
    }
  }

  loop = createLoop({
    name: 'jobs',
    intervalMs: opts.intervalMs,
    tick,
    // a round that found fewer due jobs than free slots saw them all: the next commit or finish nudges
    mayHaveMore: () => claimedAll,
    onError: (err) => opts.logger.error({ err }, 'claiming jobs failed; trying again'),
  })

  const idle = async () => {
    while (running.size > 0) await Promise.allSettled([...running])
  }
  // set when stop() gave up waiting: the jobs still running are no longer this worker's
  let abandoned = false
  return {
    ...loop,
    async stop() {
      await loop.stop()
      if (!(await endsWithin(idle(), opts.shutdownGraceMs))) {
        abandoned = true
        opts.logger.warn(
          { jobs: running.size, graceMs: opts.shutdownGraceMs },
          'jobs still running at shutdown are abandoned; they run again at the next start',
        )
      }
      await releaseLeases(opts.db.kysely, opts.workerId, opts.clock.now().getTime())
    },
    idle,
    async drain() {
      for (;;) {
        const started = await tick()
        await idle()
        if (started === 0 && running.size === 0) return
      }
    },
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
