import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { POSTGRES_URL, warnIfPostgresSkipped } from '../../test/support/db.js'
import { MAX_NAMED, namePreparedStatements, StatementNames } from './pg-prepared.js'

warnIfPostgresSkipped()

describe('StatementNames', () => {
  it('names a text from its threshold-th use on, and the same name every time', () => {
    const names = new StatementNames(3)
    expect(names.nameFor('select 1')).toBeUndefined()
    expect(names.nameFor('select 1')).toBeUndefined()
    const name = names.nameFor('select 1')
    expect(name).toMatch(/^ip_0_\d+$/)
    expect(names.nameFor('select 1')).toBe(name)
    expect(names.nameFor('select 2')).toBeUndefined()
  })

  it('names nothing at threshold 0', () => {
    const names = new StatementNames(0)
    for (let i = 0; i < 20; i++) expect(names.nameFor('select 1')).toBeUndefined()
  })

  it(`names at most ${MAX_NAMED} texts, then runs the rest unnamed`, () => {
    const names = new StatementNames(1)
    const given = new Set<string>()
    for (let i = 0; i < MAX_NAMED; i++) given.add(names.nameFor(`select ${i}`) ?? 'none')
    expect(given.size).toBe(MAX_NAMED)
    expect(given.has('none')).toBe(false)
    expect(names.nameFor('select -1')).toBeUndefined()
    // a named text keeps its name
    expect(names.nameFor('select 0')).toBe('ip_0_0')
  })

  it('renew gives every text a new name in a new generation', () => {
    const names = new StatementNames(1)
    expect(names.nameFor('select 1')).toBe('ip_0_0')
    names.renew()
    expect(names.generation).toBe(1)
    expect(names.nameFor('select 1')).toBe('ip_1_0')
  })
})

describe.skipIf(!POSTGRES_URL)('named statements on PostgreSQL', () => {
  const schema = `prep_${randomBytes(6).toString('hex')}`
  const clients: pg.Client[] = []

  async function connect(threshold: number): Promise<{ client: pg.Client; names: StatementNames }> {
    const client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` })
    clients.push(client)
    await client.connect()
    const names = new StatementNames(threshold)
    namePreparedStatements(client, names)
    return { client, names }
  }

  /** what the server holds prepared on this connection (asked unnamed, in the form the wrapper passes by) */
  async function prepared(client: pg.Client): Promise<string[]> {
    const r = await client.query({ text: 'select name from pg_prepared_statements order by name' })
    return r.rows.map((row) => row.name as string)
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.end().catch(() => {})
    const admin = new pg.Client({ connectionString: POSTGRES_URL })
    await admin.connect()
    await admin.query(`drop schema if exists ${schema} cascade`)
    await admin.end()
  })

  async function table(client: pg.Client) {
    await client.query(`create schema if not exists ${schema}`)
    await client.query(`create table ${schema}.t (id int primary key, a text)`)
    await client.query(`insert into ${schema}.t values (1, 'one'), (2, 'two')`)
  }

  it('prepares a statement on the server once it reaches the threshold, and reuses it', async () => {
    const { client } = await connect(2)
    await table(client)
    const select = 'select a from t where id = $1'
    expect((await client.query(select, [1])).rows).toEqual([{ a: 'one' }])
    expect(await prepared(client)).toEqual([])
    expect((await client.query(select, [2])).rows).toEqual([{ a: 'two' }])
    expect(await prepared(client)).toEqual(['ip_0_0'])
    expect((await client.query(select, [1])).rows).toEqual([{ a: 'one' }])
    expect(await prepared(client)).toEqual(['ip_0_0'])
    // the update's command and row count come back as from an unnamed statement
    const update = 'update t set a = $1 where id = $2'
    await client.query(update, ['uno', 1])
    const r = await client.query(update, ['uno', 1])
    expect(r.command).toBe('UPDATE')
    expect(r.rowCount).toBe(1)
    expect(await prepared(client)).toEqual(['ip_0_0', 'ip_0_1'])
  })

  it('prepares nothing at threshold 0', async () => {
    const { client } = await connect(0)
    await table(client)
    for (let i = 0; i < 10; i++) await client.query('select a from t where id = $1', [1])
    expect(await prepared(client)).toEqual([])
  })

  it('runs a statement again when another connection altered its table, outside a transaction', async () => {
    const { client, names } = await connect(1)
    const { client: other } = await connect(0)
    await table(client)
    const select = 'select * from t where id = $1'
    expect((await client.query(select, [1])).rows).toEqual([{ id: 1, a: 'one' }])
    await other.query('alter table t add column b int default 7')
    // PostgreSQL refuses the old plan (its result has a new column); the statement is run again, unnamed
    expect((await client.query(select, [1])).rows).toEqual([{ id: 1, a: 'one', b: 7 }])
    expect(names.generation).toBe(1)
    // named afresh from its next use
    expect((await client.query(select, [2])).rows).toEqual([{ id: 2, a: 'two', b: 7 }])
    expect(await prepared(client)).toEqual(['ip_0_0', 'ip_1_0'])
  })

  it('fails a statement in a transaction whose table changed, and the next transaction succeeds', async () => {
    const { client, names } = await connect(1)
    const { client: other } = await connect(0)
    await table(client)
    const select = 'select * from t where id = $1'
    await client.query(select, [1])
    await other.query('alter table t add column b int default 7')
    await client.query('begin', [])
    await expect(client.query(select, [1])).rejects.toMatchObject({ code: '0A000' })
    await client.query('rollback', [])
    expect(names.generation).toBe(1)
    await client.query('begin', [])
    expect((await client.query(select, [1])).rows).toEqual([{ id: 1, a: 'one', b: 7 }])
    await client.query('commit', [])
  })

  it('passes other errors through and keeps the names', async () => {
    const { client, names } = await connect(1)
    await table(client)
    await expect(client.query('insert into t values ($1, $2)', [1, 'dup'])).rejects.toMatchObject({
      code: '23505',
    })
    await client.query('insert into t values ($1, $2)', [3, 'three'])
    expect(names.generation).toBe(0)
  })
})
