import type { Logger } from 'pino'
import type { Db } from '../db/open.js'
import type { JobRow } from '../db/schema.js'
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
  | { ok: false; error: string; retryable: boolean }
  /** not this job's turn yet (it waits for another): run again at `until`, no attempt used, no failure */
  | { defer: true; until: number; reason: string }

export type JobHandler = (job: JobRow) => Promise<JobOutcome>

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
        renewLease(opts.db.kysely, job.id, opts.workerId, now + opts.leaseMs, now).catch((err) =>
          opts.logger.warn({ err, job: job.id }, 'could not renew a job lease'),
        )
      },
      Math.max(1000, Math.floor(opts.leaseMs / 3)),
    )
    renew.unref?.()
    let outcome: JobOutcome
    try {
      outcome = await opts.handlers[job.kind]!(job)
    } catch (error) {
      outcome = { ok: false, error: describe(error), retryable: true }
    } finally {
      clearInterval(renew)
    }
    try {
      await settle(job, outcome)
    } catch (err) {
      // the lease runs out and the job is claimed again: nothing is lost
      opts.logger.error({ err, job: job.id, kind: job.kind }, 'could not record the end of a job')
    }
  }

  async function settle(job: JobRow, outcome: JobOutcome): Promise<void> {
    const now = opts.clock.now().getTime()
    const db = opts.db.kysely
    if ('defer' in outcome) {
      await defer(db, job.id, opts.workerId, outcome.until, now)
      return
    }
    if (outcome.ok) {
      await complete(db, job.id, opts.workerId, now)
      return
    }
    const policy = { ...opts.retry, maxAttempts: Math.min(opts.retry.maxAttempts, job.max_attempts) }
    const retryAt = nextRunAt(policy, job.attempts, now, outcome.retryable)
    const log = { job: job.id, kind: job.kind, messageId: job.message_id, attempts: job.attempts }
    if (retryAt === null) {
      opts.logger.error({ ...log, error: outcome.error }, `job ${job.kind} given up: ${outcome.error}`)
      await fail(db, job.id, opts.workerId, outcome.error, null, now)
      await opts.onGiveUp?.(job, outcome.error)
    } else {
      opts.logger.warn(
        { ...log, error: outcome.error, retryInMs: retryAt - now },
        `job ${job.kind} failed, will try again: ${outcome.error}`,
      )
      await fail(db, job.id, opts.workerId, outcome.error, retryAt, now)
    }
  }

  loop = createLoop({
    name: 'jobs',
    intervalMs: opts.intervalMs,
    tick,
    onError: (err) => opts.logger.error({ err }, 'claiming jobs failed; trying again'),
  })

  const idle = async () => {
    while (running.size > 0) await Promise.allSettled([...running])
  }
  return {
    ...loop,
    async stop() {
      await loop.stop()
      await idle()
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
