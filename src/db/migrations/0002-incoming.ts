import type { Kysely } from 'kysely'
import type { DialectCapabilities } from '../capabilities.js'

/**
 * Issue 4: the incoming queue, the record of everything ever received (deduplication for good, not
 * only while a message is queued), and the broker transfers this integration point has made (so a
 * retry after a lost answer finds its transfer instead of making a second).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>, caps: DialectCapabilities): Promise<void> {
  const big = caps.bigint

  await caps
    .idColumn(db.schema.createTable('in_messages').ifNotExists())
    .addColumn('message_id', 'text', (c) => c.notNull().unique())
    .addColumn('conversation_id', 'text', (c) => c.notNull())
    .addColumn('service_identifier', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('process_identifier', 'text')
    .addColumn('sender_identifier', 'text')
    .addColumn('receiver_identifier', 'text')
    .addColumn('sbd', 'text', (c) => c.notNull())
    .addColumn('asic_key', 'text')
    .addColumn('asic_size', big)
    .addColumn('lock_timeout', big)
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('last_updated', big, (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('in_messages_peek')
    .ifNotExists()
    .on('in_messages')
    .columns(['lock_timeout', 'last_updated'])
    .execute()
  await db.schema
    .createIndex('in_messages_last_updated')
    .ifNotExists()
    .on('in_messages')
    .column('last_updated')
    .execute()

  await caps
    .idColumn(db.schema.createTable('received').ifNotExists())
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('service_identifier', 'text', (c) => c.notNull())
    .addColumn('transfer_ref', 'text')
    .addColumn('received_at', big, (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('received_transfer_ref')
    .ifNotExists()
    .on('received')
    .column('transfer_ref')
    .execute()

  await caps
    .idColumn(db.schema.createTable('broker_transfers').ifNotExists())
    .addColumn('purpose', 'text', (c) => c.notNull().unique())
    .addColumn('transfer_id', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .execute()
}
