import type { Kysely } from 'kysely'
import type { DialectCapabilities } from '../capabilities.js'

/**
 * Issue 5: webhook subscriptions (with the delivery health we show on them) and the status queue
 * behind `GET /api/statuses/peek`. Deliveries themselves are job rows (kind `webhook`).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>, caps: DialectCapabilities): Promise<void> {
  const big = caps.bigint

  await caps
    .idColumn(db.schema.createTable('webhook_subscriptions').ifNotExists())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('push_endpoint', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('filter', 'text')
    .addColumn('secret', 'text')
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('failing_since', big)
    .addColumn('last_error', 'text')
    .addColumn('last_error_at', big)
    .addColumn('last_delivered_at', big)
    .addColumn('given_up', 'integer', (c) => c.notNull().defaultTo(0))
    .addUniqueConstraint('webhook_subscriptions_name_endpoint', ['name', 'push_endpoint'])
    .execute()

  await caps
    .idColumn(db.schema.createTable('status_queue').ifNotExists())
    .addColumn('status_fk', big, (c) =>
      c.notNull().unique().references('message_statuses.id').onDelete('cascade'),
    )
    .addColumn('service_identifier', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .execute()
}
