import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely'
import type { DialectCapabilities } from './capabilities.js'
import * as m0001 from './migrations/0001-init.js'
import * as m0002 from './migrations/0002-incoming.js'
import * as m0003 from './migrations/0003-webhooks.js'
import type { Db } from './open.js'

/** Numbered migrations, one set for both stores; names sort in the order they run. */
// biome-ignore lint/suspicious/noExplicitAny: migrations see the schema as it was
const MIGRATIONS: Record<string, { up(db: Kysely<any>, caps: DialectCapabilities): Promise<void> }> = {
  '0001-init': m0001,
  '0002-incoming': m0002,
  '0003-webhooks': m0003,
}

class InCodeProvider implements MigrationProvider {
  constructor(private readonly caps: DialectCapabilities) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {}
    for (const [name, migration] of Object.entries(MIGRATIONS)) {
      out[name] = {
        // Kysely does not wrap SQLite migrations in a transaction; we do, so a crash leaves none half done
        // biome-ignore lint/suspicious/noExplicitAny: see 0001-init
        up: (db: Kysely<any>) =>
          this.caps.name === 'sqlite'
            ? db.transaction().execute((trx) => migration.up(trx, this.caps))
            : migration.up(db, this.caps),
      }
    }
    return out
  }
}

export class MigrationError extends Error {}

export async function migrateToLatest(db: Db): Promise<string[]> {
  // Kysely looks for its bookkeeping tables in every schema unless told which one: a second
  // integration point's schema in the same database would make it skip creating ours
  const schema =
    db.caps.name === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db.kysely)).rows[0]?.schema
      : undefined
  const migrator = new Migrator({
    db: db.kysely,
    ...(schema ? { migrationTableSchema: schema } : {}),
    provider: new InCodeProvider(db.caps),
    migrationTableName: 'ip_migrations',
    migrationLockTableName: 'ip_migrations_lock',
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
    throw new MigrationError(
      `database migration ${failed} failed: ${String((error as Error).message ?? error)}`,
      {
        cause: error,
      },
    )
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}
