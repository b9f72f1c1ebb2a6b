import { sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestStore, STORES, type TestStore, warnIfPostgresSkipped } from '../../test/support/db.js'
import { parseDatasource } from './datasource.js'
import { migrateToLatest } from './migrations.js'

warnIfPostgresSkipped()

describe.each(STORES)('store on %s', (kind) => {
  let store: TestStore
  afterEach(async () => store?.cleanup())

  it('migrates to the latest schema, and again without harm', async () => {
    store = await createTestStore(kind)
    const db = await store.open()
    try {
      expect(await migrateToLatest(db)).toEqual([])
      const now = Date.now()
      const row = await db.kysely
        .insertInto('conversations')
        .values({
          conversation_id: 'c',
          message_id: 'm',
          service_identifier: 'DPO',
          direction: 'OUTGOING',
          finished: 0,
          pollable: 0,
          created_at: now,
          last_update: now,
          expiry: 1_900_000_000_000,
        })
        .returningAll()
        .executeTakeFirstOrThrow()
      expect(typeof row.id).toBe('number')
      expect(row.expiry).toBe(1_900_000_000_000)
      await db.kysely
        .insertInto('message_statuses')
        .values({ conversation_fk: row.id, status: 'OPPRETTET', last_update: now })
        .execute()
      await expect(
        db.kysely
          .insertInto('message_statuses')
          .values({ conversation_fk: row.id, status: 'OPPRETTET', last_update: now })
          .execute(),
      ).rejects.toThrow()
      // statuses go with their conversation
      await db.kysely.deleteFrom('conversations').where('id', '=', row.id).execute()
      const left = await sql<{ n: number }>`select count(*) as n from message_statuses`.execute(db.kysely)
      expect(Number(left.rows[0]!.n)).toBe(0)
    } finally {
      await db.close()
    }
  })
})

describe('parseDatasource', () => {
  it('reads the reference JDBC forms and postgres URLs', () => {
    expect(parseDatasource('jdbc:sqlite:data/ip.sqlite', null, null)).toEqual({
      kind: 'sqlite',
      path: 'data/ip.sqlite',
    })
    const pg = parseDatasource('jdbc:postgresql://db.example:5433/ip', 'svc', 'p@ss')
    expect(pg).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://svc:p%40ss@db.example:5433/ip',
      schema: null,
      prepareThreshold: 5,
    })
    expect(parseDatasource('postgres://u:p@h/d?currentSchema=ip', null, null)).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://u:p@h/d',
      schema: 'ip',
      prepareThreshold: 5,
    })
  })
  it("reads PgJDBC's prepareThreshold and refuses one that is not a whole number", () => {
    const threshold = (url: string) => {
      const parsed = parseDatasource(url, null, null)
      if (parsed.kind !== 'postgres') throw new Error('not postgres')
      expect(parsed.connectionString).not.toContain('prepareThreshold')
      return parsed.prepareThreshold
    }
    expect(threshold('jdbc:postgresql://h/d?prepareThreshold=0')).toBe(0)
    expect(threshold('jdbc:postgresql://h/d?prepareThreshold=3&ssl=true')).toBe(3)
    expect(threshold('postgres://h/d?prepareThreshold=-1')).toBe(1)
    expect(() => parseDatasource('jdbc:postgresql://h/d?prepareThreshold=often', null, null)).toThrow(
      /prepareThreshold must be a whole number .*"often"/,
    )
    expect(() => parseDatasource('jdbc:postgresql://h/d?prepareThreshold=1.5', null, null)).toThrow(
      /prepareThreshold/,
    )
  })
  it('refuses other databases with a message that says what works', () => {
    expect(() => parseDatasource('jdbc:h2:file:./integrasjonspunkt', null, null)).toThrow(
      /H2 is not supported; SQLite and PostgreSQL are\): use jdbc:sqlite/,
    )
    expect(() => parseDatasource('jdbc:sqlite:', null, null)).toThrow(/needs a file path/)
  })
})

describe.runIf(STORES.includes('postgres'))('a PostgreSQL connection lost between two statements', () => {
  let store: TestStore
  afterEach(async () => store?.cleanup())

  it('fails that transaction only: the process lives on and the next query gets a new connection', async () => {
    store = await createTestStore('postgres')
    const db = await store.open()
    const other = await store.open()
    try {
      const lost = db.kysely.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)
        // the server ends this connection while no statement of it runs (as a restart or a proxy would)
        await sql`select pg_terminate_backend(${rows[0]!.pid})`.execute(other.kysely)
        await new Promise((r) => setTimeout(r, 200))
        await sql`select 1`.execute(trx)
      })
      await expect(lost).rejects.toThrow()
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db.kysely)
      expect(rows).toEqual([{ one: 1 }])
    } finally {
      await other.close()
      await db.close()
    }
  })
})
