import type { Kysely } from 'kysely'
import type { DialectCapabilities } from '../capabilities.js'

/**
 * One row per `PUT /api/messages/out/{id}` still streaming, with a lease its instance renews: a send or
 * a delete of the message waits for it (409) on any instance, and a crashed instance's upload stops
 * blocking once its lease has run out. The row goes with its message.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>, caps: DialectCapabilities): Promise<void> {
  const big = caps.bigint
  await caps
    .idColumn(db.schema.createTable('out_uploads').ifNotExists())
    .addColumn('message_fk', big, (c) => c.notNull().references('out_messages.id').onDelete('cascade'))
    .addColumn('lease_until', big, (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('out_uploads_message')
    .ifNotExists()
    .on('out_uploads')
    .columns(['message_fk', 'lease_until'])
    .execute()
}
