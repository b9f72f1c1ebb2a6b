import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestStore, STORES, type TestStore } from '../../../test/support/db.js'
import { migrateToLatest } from '../../db/migrations.js'
import type { Db } from '../../db/open.js'
import { NotFoundInServiceRegistryError, ServiceRegistryUnavailableError } from '../../registry/errors.js'
import { ManualClock } from '../../util/time.js'
import { persistedSasKeySource, rememberedSasKey } from './sas-store.js'

const NAME = 'MoveDPE-pilotPolicy'

/** A registry whose answer the test sets: a key, down, or no key for us. */
function registry() {
  const r = {
    answer: 'key-1' as string | 'down' | 'none',
    calls: 0,
    invalidated: 0,
    async key() {
      r.calls++
      if (r.answer === 'down') throw new ServiceRegistryUnavailableError('connection refused')
      if (r.answer === 'none') throw new NotFoundInServiceRegistryError('no SAS key')
      return r.answer
    },
    invalidate() {
      r.invalidated++
    },
  }
  return r
}

describe.each(STORES)('the SAS key kept in the database on %s', (kind) => {
  let store: TestStore | undefined
  let db: Db | undefined
  afterEach(async () => {
    await db?.close()
    await store?.cleanup()
    db = undefined
    store = undefined
  })

  async function open(): Promise<Db> {
    store = await createTestStore(kind)
    db = await store.open()
    await migrateToLatest(db, (await import('./channel.js')).dpeChannel.migrations)
    return db
  }

  const source = (d: Db, r: ReturnType<typeof registry>) =>
    persistedSasKeySource({
      db: d,
      registry: r,
      keyName: NAME,
      clock: new ManualClock('2026-12-05T10:00:00Z'),
      logger: pino({ level: 'silent' }),
    })

  it("is the registry's, recorded when it changes, and used after a restart while the registry is down", async () => {
    const d = await open()
    const r = registry()
    const first = source(d, r)
    expect(await first.key()).toBe('key-1')
    expect(await rememberedSasKey(d.kysely, NAME)).toBe('key-1')
    r.answer = 'key-2'
    expect(await first.key()).toBe('key-2')
    expect(await rememberedSasKey(d.kysely, NAME)).toBe('key-2')

    // a new start (a new source, nothing in memory) while the registry cannot be reached
    r.answer = 'down'
    expect(await source(d, r).key()).toBe('key-2')
    first.invalidate()
    expect(r.invalidated).toBe(1)
  })

  it('is no key when the registry is down and none was ever recorded, or when the registry has none for us', async () => {
    const d = await open()
    const r = registry()
    r.answer = 'down'
    await expect(source(d, r).key()).rejects.toBeInstanceOf(ServiceRegistryUnavailableError)
    r.answer = 'key-1'
    await source(d, r).key()
    // the registry's own answer is not papered over by what was recorded
    r.answer = 'none'
    await expect(source(d, r).key()).rejects.toBeInstanceOf(NotFoundInServiceRegistryError)
  })
})
