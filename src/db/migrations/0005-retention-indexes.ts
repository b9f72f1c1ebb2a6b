import type { Kysely } from 'kysely'
import type { DialectCapabilities } from '../capabilities.js'

/**
 * Retention (src/ops/retention.ts) removes old rows in small batches: finished jobs by state and last
 * update, `received` by its time. Without these indexes every batch read the whole table.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>, _caps: DialectCapabilities): Promise<void> {
  await db.schema
    .createIndex('jobs_finished_updated')
    .ifNotExists()
    .on('jobs')
    .columns(['state', 'updated_at'])
    .execute()
  await db.schema
    .createIndex('received_received_at')
    .ifNotExists()
    .on('received')
    .column('received_at')
    .execute()
}
