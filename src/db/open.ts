import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { type DialectCapabilities, POSTGRES, SQLITE } from './capabilities.js'
import type { Datasource } from './datasource.js'
import { type Migration, migrateToLatest } from './migrations.js'
import { namePreparedStatements, StatementNames } from './pg-prepared.js'
import type { Database } from './schema.js'
import { GroupCommitSqliteDialect } from './sqlite-group-commit.js'

export interface Db {
  kysely: Kysely<Database>
  caps: DialectCapabilities
  close(): Promise<void>
}

export type Executor = Kysely<Database>

const INT8_OID = 20
const NUMERIC_OID = 1700

/** Opens the store and runs the migrations, so a started integration point always has its tables. */
export async function openDb(
  source: Datasource,
  opts: { cwd: string; migrate?: boolean; migrations?: Readonly<Record<string, Migration>> },
): Promise<Db> {
  const db =
    source.kind === 'sqlite' ? openSqlite(resolve(opts.cwd, source.path)) : await openPostgres(source)
  if (opts.migrate !== false) {
    try {
      await migrateToLatest(db, opts.migrations)
    } catch (error) {
      await db.close()
      throw error
    }
  }
  return db
}

function openSqlite(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const database = new SQLite(path)
  database.pragma('journal_mode = WAL')
  // durable at each commit, as `synchronous = FULL` is: the group-commit driver sets NORMAL and fsyncs the
  // WAL after each commit itself, on the thread pool, answering no one before it is done
  database.pragma('foreign_keys = ON')
  database.pragma('busy_timeout = 5000')
  const kysely = new Kysely<Database>({ dialect: new GroupCommitSqliteDialect(database) })
  return { kysely, caps: SQLITE, close: () => kysely.destroy() }
}

async function openPostgres(source: Extract<Datasource, { kind: 'postgres' }>): Promise<Db> {
  // loaded only here: a start on SQLite does not pay for node-postgres (about 10 ms of a start)
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({
    connectionString: source.connectionString,
    max: 10,
    connectionTimeoutMillis: 10_000,
    ...(source.schema ? { options: `-c search_path=${quoteIdent(source.schema)}` } : {}),
    types: {
      getTypeParser: (oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID || oid === NUMERIC_OID ? Number : pg.types.getTypeParser(oid, format),
    },
  })
  // an idle client losing its server must not crash the process; the next query reconnects
  pool.on('error', () => {})
  // nor one that is checked out between two statements (inside a transaction, or between the checkout
  // and its first query): pg emits the socket's error on the client then, with no query to fail; the
  // client is marked unusable, its next statement fails, and the pool drops it when it is released
  const names = new StatementNames(source.prepareThreshold)
  pool.on('connect', (client) => {
    client.on('error', () => {})
    namePreparedStatements(client, names)
  })
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return { kysely, caps: POSTGRES, close: () => kysely.destroy() }
}

function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid schema name ${name}`)
  return name
}

/** Cheap liveness probe for health checks and tests. */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db.kysely)
}
