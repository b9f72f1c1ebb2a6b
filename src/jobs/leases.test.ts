import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestStore, STORES, type TestStore, warnIfPostgresSkipped } from '../../test/support/db.js'
import type { Db } from '../db/open.js'
import type { Clock } from '../util/time.js'
import { beat, incompatiblePeer, leave, livePeers } from './instances.js'
import { createLeasedLoop, releaseLeases, takeLease } from './leases.js'

warnIfPostgresSkipped()

const logger = pino({ level: 'silent' })

describe.each(STORES)('leases on %s', (kind) => {
  let store: TestStore
  let db: Db
  let other: Db
  beforeEach(async () => {
    store = await createTestStore(kind)
    db = await store.open()
    // a second connection (pool), as a second instance has
    other = await store.open()
  })
  afterEach(async () => {
    await other.close()
    await db.close()
    await store.cleanup()
  })

  it('gives a lease to one holder at a time, keeps it while renewed, and hands it over once it runs out', async () => {
    expect(await takeLease(db, 'poll:X', 'a', 1000, 500)).toBe(true)
    expect(await takeLease(other, 'poll:X', 'b', 1200, 500)).toBe(false)
    // the holder renews it
    expect(await takeLease(db, 'poll:X', 'a', 1400, 500)).toBe(true)
    expect(await takeLease(other, 'poll:X', 'b', 1800, 500)).toBe(false)
    // the holder dies: nobody renews, and after lease_until the next to try takes it
    expect(await takeLease(other, 'poll:X', 'b', 1901, 500)).toBe(true)
    expect(await takeLease(db, 'poll:X', 'a', 1950, 500)).toBe(false)
    // other names are other tasks
    expect(await takeLease(db, 'poll:Y', 'a', 1950, 500)).toBe(true)
    const rows = await db.kysely.selectFrom('leases').selectAll().orderBy('name').execute()
    expect(rows.map((r) => [r.name, r.holder, Number(r.lease_until)])).toEqual([
      ['poll:X', 'b', 2401],
      ['poll:Y', 'a', 2450],
    ])
    // a clean stop gives them up at once
    expect(await releaseLeases(other, 'b')).toBe(1)
    expect(await takeLease(db, 'poll:X', 'a', 1960, 500)).toBe(true)
  })

  it('lets exactly one of many racing instances win a free lease', async () => {
    const holders = Array.from({ length: 8 }, (_, i) => `i${i}`)
    const won = await Promise.all(
      holders.map((h, i) => takeLease(i % 2 ? other : db, 'poll:race', h, 5000, 1000)),
    )
    expect(won.filter(Boolean)).toHaveLength(1)
    const row = await db.kysely.selectFrom('leases').selectAll().executeTakeFirstOrThrow()
    expect(row.holder).toBe(holders[won.indexOf(true)])
  })

  it('runs a leased loop only on the holder; a follower takes over when the holder stops renewing', async () => {
    let now = 10_000
    const clock: Clock = { now: () => new Date(now) }
    const rounds: string[] = []
    const loop = (holder: string, on: Db) =>
      createLeasedLoop({
        name: 'poll:DPO:incoming:910075918',
        db: on,
        clock,
        logger,
        holder,
        leaseMs: 1000,
        intervalMs: 60_000,
        tick: async () => {
          rounds.push(holder)
          return 0
        },
        onError: (err) => {
          throw err
        },
      })
    const a = loop('a', db)
    const b = loop('b', other)
    await a.tick()
    await b.tick()
    now += 500
    await b.tick()
    await a.tick()
    expect(rounds).toEqual(['a', 'a'])
    // a is SIGKILLed: it renews no more; within the lease time b takes the task over
    now += 1001
    await b.tick()
    await a.tick()
    expect(rounds).toEqual(['a', 'a', 'b'])
  })

  it('renews the lease while a long round runs, so no one else starts the task meanwhile', async () => {
    const clock: Clock = { now: () => new Date() }
    let release: () => void = () => {}
    const long = createLeasedLoop({
      name: 'poll:long',
      db,
      clock,
      logger,
      holder: 'a',
      leaseMs: 300,
      intervalMs: 60_000,
      tick: () => new Promise<number>((resolve) => (release = () => resolve(1))),
      onError: () => {},
    })
    const round = long.tick()
    // three lease times later the round still runs, and the lease is still a's
    await new Promise((r) => setTimeout(r, 900))
    expect(await takeLease(other, 'poll:long', 'b', Date.now(), 300)).toBe(false)
    release()
    expect(await round).toBe(1)
  })
})

describe.each(STORES)('instances on %s', (kind) => {
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

  const info = (id: string, payloadStore: 'database' | 'files') => ({
    id,
    url: `http://127.0.0.1/${id}`,
    payloadStore,
    services: ['DPO'],
    version: '0.1.0',
  })

  it('sees the instances that beat recently, not the silent ones nor itself, and forgets one that leaves', async () => {
    await beat(db, info('a', 'database'), 100_000, 100_000)
    await beat(db, info('b', 'database'), 100_000, 100_000)
    await beat(db, info('c', 'database'), 60_000, 60_000)
    const peers = await livePeers(db, 'a', 100_000, 10_000)
    expect(peers.map((p) => p.id)).toEqual(['b'])
    expect(JSON.parse(peers[0]!.services)).toEqual(['DPO'])
    await leave(db, 'b', 100_000)
    expect(await livePeers(db, 'a', 100_000, 10_000)).toEqual([])
  })

  it('names a peer that keeps payloads elsewhere, and the setting that makes them agree', async () => {
    await beat(db, info('b', 'files'), 100_000, 100_000)
    const peers = await livePeers(db, 'a', 100_000, 10_000)
    expect(incompatiblePeer('files', peers)).toBeNull()
    expect(incompatiblePeer('database', peers)).toMatch(
      /keeps payloads in files and this one in the database: .*difi\.move\.nextmove\.use-db-persistence/,
    )
  })
})
