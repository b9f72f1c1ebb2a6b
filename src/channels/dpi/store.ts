// What the DPI channel keeps in the database besides the conversations: for each letter handed to the access
// point, its channel (`kanal`) and the certificate it was encrypted to, since receipts name only the
// conversation and must be signed by the provider the letter went to; and each receipt it has taken from the
// access point, so one seen again after a restart (stored, then the process died before `read`) is only
// acknowledged, and one that could not be read is kept for the operator instead of blocking the others.

import { type Kysely, sql } from 'kysely'
import type { Migration } from '../../db/migrations.js'
import type { Executor } from '../../db/open.js'

export const DPI_MIGRATION: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
  async up(db: Kysely<any>, caps) {
    await db.schema
      .createTable('dpi_sent')
      .ifNotExists()
      .addColumn('message_id', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('conversation_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('kanal', 'varchar(255)', (c) => c.notNull())
      // `0192:<orgnr>` of the mailbox or print provider (the business message's receiver)
      .addColumn('provider', 'varchar(255)', (c) => c.notNull())
      // SHA-256 (hex) of the DER of the certificate the package was encrypted to
      .addColumn('provider_certificate', 'varchar(64)', (c) => c.notNull())
      .addColumn('created_at', caps.bigint, (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('dpi_sent_conversation')
      .ifNotExists()
      .on('dpi_sent')
      .column('conversation_id')
      .execute()
    await db.schema
      .createTable('dpi_receipts')
      .ifNotExists()
      // the receipt's own instanceIdentifier, or `sha256:<hex>` of an item that has none we could read
      .addColumn('receipt_id', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('kanal', 'varchar(255)', (c) => c.notNull())
      // registered | set-aside | unknown-conversation
      .addColumn('outcome', 'varchar(32)', (c) => c.notNull())
      .addColumn('message_id', 'varchar(255)')
      .addColumn('reason', 'text')
      .addColumn('raw', 'text', (c) => c.notNull())
      .addColumn('received_at', caps.bigint, (c) => c.notNull())
      .execute()
  },
}

export interface SentLetter {
  messageId: string
  conversationId: string
  kanal: string
  provider: string
  providerCertificate: string
}

// The channel's tables are not in the generic schema type (db/schema.ts): the statements are written in SQL.

/** records (or updates, on a retry through another channel) the letter before it is handed over */
export async function rememberSent(db: Executor, s: SentLetter, now: number): Promise<void> {
  await sql`insert into dpi_sent (message_id, conversation_id, kanal, provider, provider_certificate, created_at)
    values (${s.messageId}, ${s.conversationId}, ${s.kanal}, ${s.provider}, ${s.providerCertificate}, ${now})
    on conflict (message_id) do update set conversation_id = excluded.conversation_id, kanal = excluded.kanal,
      provider = excluded.provider, provider_certificate = excluded.provider_certificate`.execute(db)
}

/** the letters of a conversation (a receipt names only the conversation), newest first */
export async function sentInConversation(db: Executor, conversationId: string): Promise<SentLetter[]> {
  const { rows } = await sql<{
    message_id: string
    conversation_id: string
    kanal: string
    provider: string
    provider_certificate: string
  }>`select message_id, conversation_id, kanal, provider, provider_certificate from dpi_sent
    where conversation_id = ${conversationId} order by created_at desc`.execute(db)
  return rows.map((r) => ({
    messageId: r.message_id,
    conversationId: r.conversation_id,
    kanal: r.kanal,
    provider: r.provider,
    providerCertificate: r.provider_certificate,
  }))
}

export type ReceiptOutcome = 'registered' | 'set-aside' | 'unknown-conversation'

export interface TakenReceipt {
  receiptId: string
  kanal: string
  outcome: ReceiptOutcome
  messageId: string | null
  reason: string | null
  raw: string
}

/** records a receipt taken from the access point; false when it was recorded already */
export async function recordReceipt(db: Executor, r: TakenReceipt, now: number): Promise<boolean> {
  const { numAffectedRows } = await sql`insert into dpi_receipts
    (receipt_id, kanal, outcome, message_id, reason, raw, received_at)
    values (${r.receiptId}, ${r.kanal}, ${r.outcome}, ${r.messageId}, ${r.reason}, ${r.raw}, ${now})
    on conflict (receipt_id) do nothing`.execute(db)
  return (numAffectedRows ?? 0n) > 0n
}

export async function receiptRecorded(db: Executor, receiptId: string): Promise<boolean> {
  const { rows } = await sql<{
    n: number
  }>`select 1 as n from dpi_receipts where receipt_id = ${receiptId}`.execute(db)
  return rows.length > 0
}

/** receipts set aside (could not be read or verified), newest first, for the operator */
export async function setAsideReceipts(db: Executor, limit: number): Promise<TakenReceipt[]> {
  const { rows } = await sql<{
    receipt_id: string
    kanal: string
    outcome: ReceiptOutcome
    message_id: string | null
    reason: string | null
    raw: string
  }>`select receipt_id, kanal, outcome, message_id, reason, raw from dpi_receipts
    where outcome = 'set-aside' order by received_at desc limit ${limit}`.execute(db)
  return rows.map((r) => ({
    receiptId: r.receipt_id,
    kanal: r.kanal,
    outcome: r.outcome,
    messageId: r.message_id,
    reason: r.reason,
    raw: r.raw,
  }))
}
