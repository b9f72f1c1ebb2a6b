import { type Kysely, sql } from 'kysely'
import type { DialectCapabilities } from './capabilities.js'
import * as m0001 from './migrations/0001-init.js'
import * as m0002 from './migrations/0002-incoming.js'
import * as m0003 from './migrations/0003-webhooks.js'
import * as m0004 from './migrations/0004-web.js'
import * as m0005 from './migrations/0005-retention-indexes.js'
import * as m0006 from './migrations/0006-upload-leases.js'
import * as m0007 from './migrations/0007-payloads.js'
import * as m0008 from './migrations/0008-instances.js'
import * as m0009 from './migrations/0009-payload-key-order.js'
import * as m0010 from './migrations/0010-out-file-crc32.js'
import type { Db } from './open.js'

/** One step of the schema; it sees the schema as it was when it was written, not as it is. */
// biome-ignore lint/suspicious/noExplicitAny: migrations see the schema as it was
export type Migration = { up(db: Kysely<any>, caps: DialectCapabilities): Promise<void> }

/** Numbered migrations, one set for both stores; names sort in the order they run. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-init': m0001,
  '0002-incoming': m0002,
  '0003-webhooks': m0003,
  '0004-web': m0004,
  '0005-retention-indexes': m0005,
  '0006-upload-leases': m0006,
  '0007-payloads': m0007,
  '0008-instances': m0008,
  '0009-payload-key-order': m0009,
  '0010-out-file-crc32': m0010,
}

export class MigrationError extends Error {}

/** Any 64-bit key of our own, so instances of one database migrate one at a time. */
const ADVISORY_LOCK_KEY = 7_343_120_917

/**
 * Runs the migrations this database has not had, in name order, in one transaction that holds a lock,
 * so two instances starting together migrate once and a crash leaves none half done. Written here
 * rather than with Kysely's Migrator, which introspects every schema of a PostgreSQL database to find its
 * tables: another schema being dropped at that moment (another instance's, a test's) fails the start.
 * The bookkeeping table is the one Kysely's Migrator made (`ip_migrations(name, timestamp)`), so
 * databases it migrated carry on. `extra` are the channels' own migrations (src/channels/ports.ts), named
 * `<service>-NNNN-...` so they sort after the numbered ones.
 */
export async function migrateToLatest(
  db: Db,
  extra: Readonly<Record<string, Migration>> = {},
): Promise<string[]> {
  const all: Record<string, Migration> = { ...extra, ...MIGRATIONS }
  const ran: string[] = []
  try {
    await db.kysely.transaction().execute(async (trx) => {
      if (db.caps.name === 'postgres')
        await sql`select pg_advisory_xact_lock(${ADVISORY_LOCK_KEY})`.execute(trx)
      await sql`create table if not exists ip_migrations (name varchar(255) not null primary key, timestamp varchar(255) not null)`.execute(
        trx,
      )
      const done = new Set(
        (await sql<{ name: string }>`select name from ip_migrations`.execute(trx)).rows.map((r) => r.name),
      )
      for (const name of Object.keys(all).sort()) {
        if (done.has(name)) continue
        try {
          await all[name]!.up(trx, db.caps)
        } catch (error) {
          throw new MigrationError(`database migration ${name} failed: ${(error as Error).message}`, {
            cause: error,
          })
        }
        await sql`insert into ip_migrations (name, timestamp) values (${name}, ${new Date().toISOString()})`.execute(
          trx,
        )
        ran.push(name)
      }
    })
  } catch (error) {
    if (error instanceof MigrationError) throw error
    throw new MigrationError(`database migration failed: ${(error as Error).message}`, { cause: error })
  }
  return ran
}
