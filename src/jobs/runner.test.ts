import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestStore, STORES, type TestStore } from '../../test/support/db.js'
import type { Db } from '../db/open.js'
import type { JobRow } from '../db/schema.js'
import { ManualClock } from '../util/time.js'
import { enqueue } from './outbox.js'
import { createJobRunner, type JobOutcome } from './runner.js'

describe.each(STORES)('the job runner on %s', (kind) => {
  let store: TestStore
  let db: Db
  const clock = new ManualClock('2026-03-10T10:00:00Z')
  beforeEach(async () => {
    store = await createTestStore(kind)
    db = await store.open()
  })
  afterEach(async () => {
    await db.close()
    await store.cleanup()
  })

  function runner(handle: (job: JobRow) => Promise<JobOutcome>, givenUp: JobRow[] = []) {
    return createJobRunner({
      db,
      clock,
      logger: pino({ level: 'silent' }),
      handlers: { work: handle },
      workerId: 'w1',
      concurrency: 4,
      leaseMs: 60_000,
      retry: { baseMs: 1000, maxMs: 10_000, maxAttempts: 3 },
      intervalMs: 1000,
      onGiveUp: async (job) => {
        givenUp.push(job)
      },
    })
  }
  const add = (key: string) =>
    enqueue(
      db.kysely,
      { kind: 'work', payload: { key }, dedupeKey: key, runAt: clock.now().getTime() },
      clock.now().getTime(),
    )
  const job = (key: string) =>
    db.kysely.selectFrom('jobs').selectAll().where('dedupe_key', '=', key).executeTakeFirstOrThrow()

  it('completes, retries with backoff, gives up after the attempts, and defers without using one', async () => {
    const seen: string[] = []
    let deferrals = 0
    const givenUp: JobRow[] = []
    const r = runner(async (j) => {
      const { key } = JSON.parse(j.payload) as { key: string }
      seen.push(key)
      if (key === 'ok') return { ok: true }
      if (key === 'wait' && deferrals++ < 2)
        return { defer: true, until: clock.now().getTime() + 500, reason: 'not yet' }
      if (key === 'wait') return { ok: true }
      if (key === 'final') return { ok: false, retryable: false, error: 'refused' }
      return { ok: false, retryable: true, error: 'down' }
    }, givenUp)
    for (const k of ['ok', 'wait', 'final', 'flaky']) await add(k)
    await r.drain()
    expect((await job('ok')).state).toBe('DONE')
    expect(await job('final')).toMatchObject({ state: 'FAILED', last_error: 'refused', attempts: 1 })
    expect(await job('flaky')).toMatchObject({ state: 'PENDING', attempts: 1, last_error: 'down' })
    expect((await job('flaky')).run_at).toBeGreaterThan(clock.now().getTime())
    expect(await job('wait')).toMatchObject({ state: 'PENDING', attempts: 0, last_error: null })

    for (let i = 0; i < 5; i++) {
      clock.advance(20_000)
      await r.drain()
    }
    expect(await job('wait')).toMatchObject({ state: 'DONE', attempts: 1 })
    expect(await job('flaky')).toMatchObject({ state: 'FAILED', attempts: 3 })
    expect(givenUp.map((j) => JSON.parse(j.payload).key).sort()).toEqual(['final', 'flaky'])
    expect(seen.filter((k) => k === 'ok')).toHaveLength(1)
  })
})
