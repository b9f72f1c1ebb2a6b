import type { Kysely } from 'kysely'
import type { DialectCapabilities } from '../capabilities.js'

/**
 * Payloads kept in the database (difi.move.nextmove.use-db-persistence), so every instance on one
 * PostgreSQL reads what another stored. A payload is written as a staged row (no key) and its chunks;
 * one transaction then gives it its key, so readers never see a half-written payload. `written_at` is
 * when it got its key, or, while staged, when its writer last added a chunk (the temp sweep's age).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>, caps: DialectCapabilities): Promise<void> {
  const big = caps.bigint
  await caps
    .idColumn(db.schema.createTable('payloads').ifNotExists())
    .addColumn('key', 'text', (c) => c.unique())
    .addColumn('size', big, (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('written_at', big, (c) => c.notNull())
    .execute()
  // the sweep of staged rows left by a crash
  await db.schema
    .createIndex('payloads_written_at')
    .ifNotExists()
    .on('payloads')
    .column('written_at')
    .execute()
  await db.schema
    .createTable('payload_chunks')
    .ifNotExists()
    .addColumn('payload_fk', big, (c) => c.notNull().references('payloads.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', caps.bytes, (c) => c.notNull())
    .addPrimaryKeyConstraint('payload_chunks_pk', ['payload_fk', 'seq'])
    .execute()
}
