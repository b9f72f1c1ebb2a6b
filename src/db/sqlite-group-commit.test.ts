import { fstatSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { type Generated, Kysely, sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type GroupCommitOptions, GroupCommitSqliteDialect } from './sqlite-group-commit.js'

interface Tables {
  items: { id: Generated<number>; name: string; parent: number | null }
}

/**
 * A real file with the integration point's settings, a Kysely on the group-commit driver, and a second
 * connection that sees only what is committed (as another process, or the file after a crash, would).
 */
describe('group commit on SQLite', () => {
  let dir: string
  let path: string
  let db: Kysely<Tables>
  let observer: SQLite.Database
  let commits: number

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'group-commit-'))
    path = join(dir, 'db.sqlite')
    const database = new SQLite(path)
    database.pragma('journal_mode = WAL')
    database.pragma('synchronous = FULL')
    database.pragma('foreign_keys = ON')
    database.exec(`create table items (id integer primary key, name text not null unique,
      parent integer references items(id) deferrable initially deferred)`)
    database.exec(`create trigger poison before insert on items when new.name = 'poison'
      begin select raise(rollback, 'poisoned'); end`)
    commits = 0
    // counts the COMMITs that reach SQLite: one per group
    const prepare = database.prepare.bind(database)
    database.prepare = ((text: string) => {
      const stmt = prepare(text)
      if (text !== 'commit') return stmt
      const run = stmt.run.bind(stmt)
      stmt.run = ((...args: unknown[]) => {
        commits++
        return run(...(args as []))
      }) as typeof stmt.run
      return stmt
    }) as typeof database.prepare
    db = new Kysely<Tables>({ dialect: new GroupCommitSqliteDialect(database) })
    observer = new SQLite(path, { readonly: true })
  })

  afterEach(async () => {
    observer.close()
    await db.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  const committedNames = () =>
    (observer.prepare('select name from items order by name').all() as { name: string }[]).map((r) => r.name)

  const insert = (name: string, parent: number | null = null) =>
    db.insertInto('items').values({ name, parent }).execute()

  it('answers a write only once another connection sees it', async () => {
    await insert('a')
    expect(committedNames()).toEqual(['a'])
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name: 'b', parent: null }).execute()
      await trx.insertInto('items').values({ name: 'c', parent: null }).execute()
    })
    expect(committedNames()).toEqual(['a', 'b', 'c'])
  })

  it('commits concurrent transactions together, each answered after the shared commit', async () => {
    const seen: string[][] = []
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db
          .transaction()
          .execute((trx) =>
            trx
              .insertInto('items')
              .values({ name: `t${i}`, parent: null })
              .execute(),
          )
          .then(() => seen.push(committedNames())),
      ),
    )
    expect(committedNames()).toHaveLength(20)
    // every caller found its row committed when answered
    for (const [i, names] of seen.entries()) expect(names.length).toBeGreaterThanOrEqual(i + 1)
    expect(seen.every((names) => names.length === 20)).toBe(true)
    expect(commits).toBeLessThan(5)
  })

  it('rolls back a failed transaction alone; the others of its group commit', async () => {
    await insert('taken')
    const results = await Promise.allSettled([
      insert('x1'),
      db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ name: 'half', parent: null }).execute()
        await trx.insertInto('items').values({ name: 'taken', parent: null }).execute()
      }),
      insert('x2'),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/)
    expect(committedNames()).toEqual(['taken', 'x1', 'x2'])
  })

  it('fails every write of a group whose commit fails, and keeps none of them', async () => {
    // a deferred foreign key is checked at COMMIT: the group's commit fails
    const results = await Promise.allSettled([insert('good'), insert('orphan', 999), insert('also good')])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected'])
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/commit failed/)
    expect(committedNames()).toEqual([])
    // the next group starts clean
    await insert('later')
    expect(committedNames()).toEqual(['later'])
  })

  it('fails the writes that went before in the group when SQLite rolls the whole transaction back', async () => {
    const results = await Promise.allSettled([
      insert('before'),
      db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ name: 'mine', parent: null }).execute()
        await trx.insertInto('items').values({ name: 'poison', parent: null }).execute()
      }),
    ])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/rolled the transaction back/)
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/poisoned/)
    expect(committedNames()).toEqual([])
    await insert('after')
    expect(committedNames()).toEqual(['after'])
  })

  it('makes a read that may have seen uncommitted writes wait for their commit', async () => {
    const write = insert('w')
    const read = db
      .selectFrom('items')
      .select('name')
      .execute()
      .then((rows) => ({ rows, committed: committedNames() }))
    const { rows, committed } = await read
    await write
    expect(rows.map((r) => r.name)).toEqual(['w'])
    expect(committed).toEqual(['w'])
  })

  it('commits the group before a stream gives its first row', async () => {
    const write = insert('s')
    let committedAtFirstRow: string[] | null = null
    for await (const _row of db.selectFrom('items').select('name').stream()) {
      committedAtFirstRow ??= committedNames()
    }
    await write
    expect(committedAtFirstRow).toEqual(['s'])
  })

  it('runs a read outside any group when none is open: no transaction, nothing to wait for', async () => {
    await insert('r')
    await new Promise((resolve) => setImmediate(resolve))
    const before = commits
    const rows = await db.selectFrom('items').select('name').execute()
    expect(rows.map((r) => r.name)).toEqual(['r'])
    await new Promise((resolve) => setImmediate(resolve))
    expect(commits).toBe(before)
  })

  it('keeps savepoints and streams working inside the group', async () => {
    const trx = await db.startTransaction().execute()
    await trx.insertInto('items').values({ name: 'kept', parent: null }).execute()
    const sp = await trx.savepoint('inner').execute()
    await sp.insertInto('items').values({ name: 'undone', parent: null }).execute()
    await sp.rollbackToSavepoint('inner').execute()
    await trx.commit().execute()
    const streamed: string[] = []
    for await (const row of db.selectFrom('items').select('name').stream()) streamed.push(row.name)
    expect(streamed).toEqual(['kept'])
    expect(committedNames()).toEqual(['kept'])
    const count = await sql<{ n: number }>`select count(*) as n from items`.execute(db)
    expect(count.rows[0]!.n).toBe(1)
  })

  /** The same file through a driver whose WAL sync the test controls. */
  async function reopen(options: GroupCommitOptions): Promise<void> {
    await db.destroy()
    const database = new SQLite(path)
    database.pragma('journal_mode = WAL')
    db = new Kysely<Tables>({ dialect: new GroupCommitSqliteDialect(database, options) })
  }

  /** A WAL sync that waits until the test lets it finish (or fail). */
  function heldSync() {
    const calls: { fd: number; finish: (error?: Error) => void }[] = []
    let called: () => void = () => {}
    const syncWal = (fd: number) =>
      new Promise<void>((resolve, reject) => {
        calls.push({ fd, finish: (error) => (error ? reject(error) : resolve()) })
        called()
      })
    const nextCall = () =>
      new Promise<void>((resolve) => {
        called = resolve
      })
    return { calls, syncWal, nextCall }
  }

  it('answers a write, and runs any other use, only once the WAL is synced after the commit', async () => {
    const sync = heldSync()
    await reopen({ syncWal: sync.syncWal })
    const synced = sync.nextCall()
    let answered = false
    const write = insert('w').then(() => {
      answered = true
    })
    await synced
    // committed (another connection sees it) but not yet durable: nobody is answered, nothing else runs
    expect(committedNames()).toEqual(['w'])
    let readDone = false
    const read = db
      .selectFrom('items')
      .select('name')
      .execute()
      .then((rows) => {
        readDone = true
        return rows
      })
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(answered).toBe(false)
    expect(readDone).toBe(false)
    // the descriptor synced is the WAL file's
    expect(fstatSync(sync.calls[0]!.fd).ino).toBe(statSync(`${path}-wal`).ino)
    sync.calls[0]!.finish()
    await write
    expect((await read).map((r) => r.name)).toEqual(['w'])
    expect(answered).toBe(true)
  })

  it('syncs the WAL only after a group that changed a row: polls that find nothing cost no fsync', async () => {
    const synced: number[] = []
    await reopen({
      syncWal: async (fd) => {
        synced.push(fd)
      },
    })
    const syncsAfter = async (use: () => Promise<unknown>) => {
      const before = synced.length
      await use()
      // a group that wrote nothing answers before its commit: wait until that commit has run
      await new Promise((resolve) => setTimeout(resolve, 5))
      return synced.length - before
    }
    await insert('a')
    expect(synced).toHaveLength(1)
    // an update and a delete that match nothing, an update ... returning with no row, a transaction
    // that only reads: each begins a group (the write lock) and commits it, with nothing to sync
    expect(
      await syncsAfter(() => db.updateTable('items').set({ name: 'x' }).where('id', '=', 99).execute()),
    ).toBe(0)
    expect(await syncsAfter(() => db.deleteFrom('items').where('name', '=', 'none').execute())).toBe(0)
    const none = () =>
      db.updateTable('items').set({ parent: null }).where('name', '=', 'none').returningAll().execute()
    expect(await syncsAfter(none)).toBe(0)
    expect(
      await syncsAfter(() =>
        db.transaction().execute((trx) => trx.selectFrom('items').selectAll().execute()),
      ),
    ).toBe(0)
    expect(
      await syncsAfter(() =>
        db
          .insertInto('items')
          .values({ name: 'a', parent: null })
          .onConflict((oc) => oc.doNothing())
          .execute(),
      ),
    ).toBe(0)
    // each that changed a row syncs: run, returning, inside a transaction
    expect(
      await syncsAfter(() => db.updateTable('items').set({ parent: null }).where('name', '=', 'a').execute()),
    ).toBe(1)
    const some = () =>
      db.updateTable('items').set({ parent: null }).where('name', '=', 'a').returningAll().execute()
    expect(await syncsAfter(some)).toBe(1)
    expect(
      await syncsAfter(() =>
        db.transaction().execute(async (trx) => {
          await trx.selectFrom('items').selectAll().execute()
          await trx.deleteFrom('items').where('name', '=', 'a').execute()
        }),
      ),
    ).toBe(1)
    // a statement whose changes SQLite does not count (DDL) syncs; so does one that failed
    expect(await syncsAfter(() => sql`create table other (id integer primary key)`.execute(db))).toBe(1)
    await insert('b')
    expect(await syncsAfter(() => insert('b').catch(() => {}))).toBe(1)
    expect(committedNames()).toEqual(['b'])
    // an unchanged group among changed ones: the group syncs once, and every caller sees its rows durable
    const before = synced.length
    await Promise.all([
      db.updateTable('items').set({ name: 'x' }).where('id', '=', 99).execute(),
      insert('c'),
      db.deleteFrom('items').where('name', '=', 'none').execute(),
    ])
    expect(synced.length - before).toBe(1)
    expect(committedNames()).toEqual(['b', 'c'])
  })

  it('leaves the fsync to the driver: the connection commits with synchronous=NORMAL', async () => {
    const database = new SQLite(path)
    database.pragma('journal_mode = WAL')
    database.pragma('synchronous = FULL')
    const other = new Kysely<Tables>({ dialect: new GroupCommitSqliteDialect(database) })
    expect(database.pragma('synchronous', { simple: true })).toBe(1)
    await other.insertInto('items').values({ name: 'durable', parent: null }).execute()
    expect(committedNames()).toEqual(['durable'])
    await other.destroy()
  })

  it('fails the group, refuses every later use and stops the process when the WAL cannot be synced', async () => {
    const lost: Error[] = []
    await reopen({
      syncWal: () => Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })),
      onDurabilityLost: (error) => lost.push(error),
    })
    const results = await Promise.allSettled([insert('a'), insert('b')])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/could not make a commit durable/)
    expect(lost).toHaveLength(1)
    expect(String((lost[0]!.cause as Error).message)).toMatch(/EIO/)
    await expect(db.selectFrom('items').select('name').execute()).rejects.toThrow(
      /could not make a commit durable/,
    )
    await expect(insert('c')).rejects.toThrow(/could not make a commit durable/)
    expect(lost).toHaveLength(1)
  })
})
