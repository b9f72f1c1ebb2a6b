import { type Kysely, sql } from 'kysely'
import type { DialectCapabilities } from '../capabilities.js'

/**
 * The payloads of one message are found by a range of their keys (`key >= 'in/<id>/' and key <
 * 'in/<id>0'`, db-payload-store.ts), which needs the keys ordered by their bytes. SQLite's index on
 * `key` is (its BINARY collation); PostgreSQL's follows the database's collation, which may order '/'
 * by language rules, so PostgreSQL gets an index on the key in the "C" collation. Without it the
 * removal of a message's payloads read the whole table, once for each message.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>, caps: DialectCapabilities): Promise<void> {
  if (caps.name !== 'postgres') return
  await sql`create index if not exists payloads_key_bytes on payloads (key collate "C")`.execute(db)
}
