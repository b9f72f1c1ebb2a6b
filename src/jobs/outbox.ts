import { sql } from 'kysely'
import type { DialectCapabilities } from '../db/capabilities.js'
import type { Executor } from '../db/open.js'
import type { JobRow } from '../db/schema.js'

/**
 * The outbox: background work as rows. A job is enqueued in the caller's transaction (so it exists
 * exactly when the state change that asks for it is committed), claimed with one atomic statement and a
 * lease, and completed or failed by its claimer. A crashed worker's lease runs out and the job is
 * claimed again (style rules 2 and 3).
 */
export interface NewJob {
  kind: string
  payload: unknown
  messageId?: string | null
  /** enqueueing a second job with the same key is a no-op */
  dedupeKey?: string | null
  runAt: number
  maxAttempts?: number
}

export async function enqueue(db: Executor, job: NewJob, now: number): Promise<void> {
  await db
    .insertInto('jobs')
    .values(jobRow(job, now))
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .execute()
}

/** The row `enqueue` inserts for a job (enqueued at `now`). */
export function jobRow(job: NewJob, now: number) {
  return {
    kind: job.kind,
    payload: JSON.stringify(job.payload ?? null),
    message_id: job.messageId ?? null,
    dedupe_key: job.dedupeKey ?? null,
    run_at: job.runAt,
    attempts: 0,
    max_attempts: job.maxAttempts ?? 1000,
    state: 'PENDING' as const,
    created_at: now,
    updated_at: now,
  }
}

export interface ClaimOptions {
  kinds: string[]
  workerId: string
  leaseMs: number
  limit: number
  now: number
}

/** Claims due jobs: unlocked or with an expired lease. One statement, so two workers never share a job. */
export async function claim(db: Executor, caps: DialectCapabilities, opts: ClaimOptions): Promise<JobRow[]> {
  const due = db
    .selectFrom('jobs')
    .select('id')
    .where('state', '=', 'PENDING')
    .where('kind', 'in', opts.kinds)
    .where('run_at', '<=', opts.now)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', opts.now)]))
    .orderBy('run_at')
    .orderBy('id')
    .limit(opts.limit)
  return db
    .updateTable('jobs')
    .set({
      locked_by: opts.workerId,
      locked_until: opts.now + opts.leaseMs,
      attempts: sql`attempts + 1`,
      updated_at: opts.now,
    })
    .where('id', 'in', caps.skipLocked ? due.forUpdate().skipLocked() : due)
    .returningAll()
    .execute()
}

export async function complete(db: Executor, id: number, workerId: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('jobs')
    .set({ state: 'DONE', locked_by: null, locked_until: null, updated_at: now })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

/** Records a failure; `retryAt` null gives the job up (state FAILED). */
export async function fail(
  db: Executor,
  id: number,
  workerId: string,
  error: string,
  retryAt: number | null,
  now: number,
): Promise<boolean> {
  const r = await db
    .updateTable('jobs')
    .set({
      state: retryAt === null ? 'FAILED' : 'PENDING',
      run_at: retryAt ?? now,
      last_error: error.slice(0, 4000),
      locked_by: null,
      locked_until: null,
      updated_at: now,
    })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

/** Releases this worker's leases at shutdown so its jobs run again at once elsewhere. */
export async function releaseLeases(db: Executor, workerId: string, now: number): Promise<number> {
  const r = await db
    .updateTable('jobs')
    .set({ locked_by: null, locked_until: null, updated_at: now })
    .where('locked_by', '=', workerId)
    .where('state', '=', 'PENDING')
    .executeTakeFirst()
  return Number(r.numUpdatedRows)
}

/**
 * Makes a job due now, for an operator: a PENDING job waiting for its next try, or a given-up (FAILED)
 * one, which starts again with its attempts counted from zero. Only while the row is as `job` was read,
 * so a worker that claimed it meanwhile wins; false then.
 */
export async function runNow(db: Executor, job: JobRow, now: number): Promise<boolean> {
  const revive = job.state === 'FAILED'
  const r = await db
    .updateTable('jobs')
    .set(
      revive
        ? { state: 'PENDING', attempts: 0, run_at: now, locked_by: null, locked_until: null, updated_at: now }
        : { run_at: now, updated_at: now },
    )
    .where('id', '=', job.id)
    .where('updated_at', '=', job.updated_at)
    .where('state', '=', job.state)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function jobsForMessage(db: Executor, messageId: string): Promise<JobRow[]> {
  return db.selectFrom('jobs').selectAll().where('message_id', '=', messageId).orderBy('id').execute()
}

/** Removes a message's pending jobs (a deleted message has nothing left to do). */
export async function cancelJobsForMessage(db: Executor, messageId: string, kinds: string[]): Promise<void> {
  await db
    .deleteFrom('jobs')
    .where('message_id', '=', messageId)
    .where('kind', 'in', kinds)
    .where('state', '=', 'PENDING')
    .execute()
}

/** Extends a running job's lease (a long upload outlives one lease); false when the lease was lost. */
export async function renewLease(
  db: Executor,
  id: number,
  workerId: string,
  lockedUntil: number,
  now: number,
): Promise<boolean> {
  const r = await db
    .updateTable('jobs')
    .set({ locked_until: lockedUntil, updated_at: now })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

/** Puts a claimed job back to run at `runAt` without counting the claim as an attempt. */
export async function defer(
  db: Executor,
  id: number,
  workerId: string,
  runAt: number,
  now: number,
): Promise<boolean> {
  const r = await db
    .updateTable('jobs')
    .set({
      run_at: runAt,
      attempts: sql`attempts - 1`,
      locked_by: null,
      locked_until: null,
      updated_at: now,
    })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}
