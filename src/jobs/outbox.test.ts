import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestStore, STORES, type TestStore, warnIfPostgresSkipped } from '../../test/support/db.js'
import type { Db } from '../db/open.js'
import { claim, complete, enqueue, fail, releaseLeases } from './outbox.js'
import { DEFAULT_RETRY, nextRunAt } from './retry-policy.js'

warnIfPostgresSkipped()

describe.each(STORES)('the outbox on %s', (kind) => {
  let store: TestStore
  let db: Db
  beforeEach(async () => {
    store = await createTestStore(kind)
    db = await store.open()
  })
  afterEach(async () => {
    await db.close()
    await store.cleanup()
  })

  const opts = (workerId: string, now: number) => ({
    kinds: ['send'],
    workerId,
    leaseMs: 1000,
    limit: 10,
    now,
  })

  it('enqueues once per dedupe key, in the caller’s transaction', async () => {
    await db.kysely.transaction().execute(async (trx) => {
      await enqueue(
        trx,
        { kind: 'send', payload: { m: 1 }, messageId: 'm1', dedupeKey: 'send:m1', runAt: 0 },
        0,
      )
      await enqueue(
        trx,
        { kind: 'send', payload: { m: 1 }, messageId: 'm1', dedupeKey: 'send:m1', runAt: 0 },
        0,
      )
    })
    await expect(
      db.kysely.transaction().execute(async (trx) => {
        await enqueue(trx, { kind: 'send', payload: {}, messageId: 'm2', runAt: 0 }, 0)
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    const rows = await db.kysely.selectFrom('jobs').selectAll().execute()
    expect(rows.map((r) => r.message_id)).toEqual(['m1'])
  })

  it('gives a due job to one worker at a time, and again when its lease runs out', async () => {
    await enqueue(db.kysely, { kind: 'send', payload: {}, messageId: 'm1', runAt: 100 }, 0)
    expect(await claim(db.kysely, db.caps, opts('a', 50))).toEqual([])
    const [job] = await claim(db.kysely, db.caps, opts('a', 100))
    expect(job).toMatchObject({ locked_by: 'a', attempts: 1 })
    expect(await claim(db.kysely, db.caps, opts('b', 500))).toEqual([])
    // worker a crashed: the lease runs out and b takes it
    const [again] = await claim(db.kysely, db.caps, opts('b', 1200))
    expect(again).toMatchObject({ id: job!.id, locked_by: 'b', attempts: 2 })
    // a's late completion does not count
    expect(await complete(db.kysely, job!.id, 'a', 1300)).toBe(false)
    expect(await complete(db.kysely, job!.id, 'b', 1300)).toBe(true)
    expect(await claim(db.kysely, db.caps, opts('c', 99_999))).toEqual([])
  })

  it('retries a failed job at its next run time and gives it up when told', async () => {
    await enqueue(db.kysely, { kind: 'send', payload: {}, messageId: 'm1', runAt: 0 }, 0)
    const [job] = await claim(db.kysely, db.caps, opts('a', 0))
    expect(await fail(db.kysely, job!.id, 'a', 'broker said 503', 5000, 10)).toBe(true)
    expect(await claim(db.kysely, db.caps, opts('a', 4999))).toEqual([])
    const [retry] = await claim(db.kysely, db.caps, opts('a', 5000))
    expect(retry).toMatchObject({ attempts: 2, last_error: 'broker said 503' })
    expect(await fail(db.kysely, retry!.id, 'a', 'broker said 400', null, 5001)).toBe(true)
    const [row] = await db.kysely.selectFrom('jobs').selectAll().execute()
    expect(row).toMatchObject({ state: 'FAILED', last_error: 'broker said 400' })
  })

  it('releases a stopping worker’s leases so its jobs run again at once', async () => {
    await enqueue(db.kysely, { kind: 'send', payload: {}, messageId: 'm1', runAt: 0 }, 0)
    await claim(db.kysely, db.caps, opts('a', 0))
    expect(await releaseLeases(db.kysely, 'a', 1)).toBe(1)
    expect(await claim(db.kysely, db.caps, opts('b', 2))).toHaveLength(1)
  })
})

describe('the retry policy', () => {
  it('backs off exponentially with jitter up to the cap, and stops when told', () => {
    const p = { baseMs: 1000, maxMs: 8000, maxAttempts: 5 }
    expect(nextRunAt(p, 1, 0, true, () => 0)).toBe(1000)
    expect(nextRunAt(p, 3, 0, true, () => 0)).toBe(4000)
    expect(nextRunAt(p, 4, 0, true, () => 0)).toBe(8000)
    expect(nextRunAt(p, 4, 0, true, () => 1)).toBe(9600)
    expect(nextRunAt(p, 5, 0, true)).toBeNull()
    expect(nextRunAt(p, 1, 0, false)).toBeNull()
    expect(nextRunAt(DEFAULT_RETRY, 1, 0, true, () => 0)).toBe(20_000)
  })
})
