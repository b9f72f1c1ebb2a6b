import { type Compilable, CompiledQuery, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../src/db/open.js'
import { finishedJobsBatch, receivedBatch } from '../src/ops/retention.js'
import { createTestStore, STORES, type TestStore, warnIfPostgresSkipped } from './support/db.js'

warnIfPostgresSkipped()

/**
 * Retention's batches find their rows through an index (migration 0005), so a sweep of a large table
 * costs its batch, not the table: SQLite's plan names the index; PostgreSQL's, with sequential scans
 * priced out, has no Seq Scan left (it would keep one only if no index could serve the query).
 */
describe.each(STORES)('retention batches on %s read through an index', (kind) => {
  let store: TestStore
  let db: Db
  beforeAll(async () => {
    store = await createTestStore(kind)
    db = await store.open()
  })
  afterAll(async () => {
    await db?.close()
    await store?.cleanup()
  })

  async function plan(query: Compilable<unknown>): Promise<string> {
    const { sql: text, parameters } = query.compile()
    if (kind === 'sqlite') {
      const r = await db.kysely.executeQuery(CompiledQuery.raw(`explain query plan ${text}`, [...parameters]))
      return (r.rows as { detail: string }[]).map((row) => row.detail).join('\n')
    }
    return db.kysely.connection().execute(async (c) => {
      await sql`set enable_seqscan = off`.execute(c)
      const r = await c.executeQuery(CompiledQuery.raw(`explain ${text}`, [...parameters]))
      await sql`reset enable_seqscan`.execute(c)
      return (r.rows as Record<string, string>[]).map((row) => Object.values(row)[0]).join('\n')
    })
  }

  it('finished jobs by state and last update', async () => {
    const p = await plan(finishedJobsBatch(db.kysely, Date.now(), 500))
    expect(p).toContain('jobs_finished_updated')
    expect(p).not.toMatch(/SCAN jobs\b|Seq Scan/)
  })

  it('received rows by their time', async () => {
    const p = await plan(receivedBatch(db.kysely, Date.now(), 500))
    expect(p).toContain('received_received_at')
    expect(p).not.toMatch(/SCAN received\b|Seq Scan/)
  })
})
