import { type Kysely, sql } from 'kysely'
import type { DialectCapabilities } from '../capabilities.js'

/**
 * Issue 8, the operator's web pages over a million conversations: every page query reads through an
 * index. `latest_status` is the conversation's newest status, kept by registerStatus in the same
 * transaction, so the list filters and colours by it without reading the statuses; the composite
 * indexes serve each filter in last-update order, so a page stops after its rows; the title gets a
 * word-prefix search (src/db/title-search.ts). On an existing database the backfill and the index
 * builds read each table once, inside the migration's transaction.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>, caps: DialectCapabilities): Promise<void> {
  await db.schema.alterTable('conversations').addColumn('latest_status', 'text').execute()
  await db.schema.alterTable('conversations').addColumn('files', 'text').execute()
  await sql`update conversations set latest_status = (
      select s.status from message_statuses s where s.conversation_fk = conversations.id
      order by s.id desc limit 1)`.execute(db)

  const conversationIndexes: [string, string[]][] = [
    ['conversations_latest_status', ['latest_status', 'last_update']],
    ['conversations_service', ['service_identifier', 'last_update']],
    ['conversations_sender', ['sender_identifier', 'last_update']],
    ['conversations_receiver', ['receiver_identifier', 'last_update']],
    ['conversations_reference', ['message_reference']],
    ['conversations_created', ['created_at']],
  ]
  for (const [name, columns] of conversationIndexes)
    await db.schema.createIndex(name).ifNotExists().on('conversations').columns(columns).execute()

  // the overview's charts and failure lists: one status in a time range, joined to its conversation
  await db.schema
    .createIndex('message_statuses_status_time')
    .ifNotExists()
    .on('message_statuses')
    .columns(['status', 'last_update', 'conversation_fk'])
    .execute()

  await caps.titleSearch.create(db)
}
