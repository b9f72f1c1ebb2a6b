import type { Executor } from '../db/open.js'
import type { ConversationRow, MessageStatusRow, NewConversation, OutFileRow } from '../db/schema.js'
import { enqueueStatusEvents } from '../webhooks/deliveries.js'
import { enqueueStatusEntry } from './status-queue.js'
import { finishes, stopsPolling } from './statuses.js'

export async function insertConversation(db: Executor, values: NewConversation): Promise<ConversationRow> {
  return db.insertInto('conversations').values(values).returningAll().executeTakeFirstOrThrow()
}

export async function conversationById(db: Executor, id: number): Promise<ConversationRow | undefined> {
  return db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function conversationsByMessageId(
  db: Executor,
  messageId: string,
  direction?: 'OUTGOING' | 'INCOMING',
): Promise<ConversationRow[]> {
  let q = db.selectFrom('conversations').selectAll().where('message_id', '=', messageId)
  if (direction) q = q.where('direction', '=', direction)
  return q.orderBy('id').execute()
}

export async function conversationsByConversationId(
  db: Executor,
  conversationId: string,
  direction?: 'OUTGOING' | 'INCOMING',
): Promise<ConversationRow[]> {
  let q = db.selectFrom('conversations').selectAll().where('conversation_id', '=', conversationId)
  if (direction) q = q.where('direction', '=', direction)
  return q.orderBy('id').execute()
}

export async function statusesOf(db: Executor, conversationFks: number[]): Promise<MessageStatusRow[]> {
  if (!conversationFks.length) return []
  return db
    .selectFrom('message_statuses')
    .selectAll()
    .where('conversation_fk', 'in', conversationFks)
    .orderBy('id')
    .execute()
}

export async function updateConversation(
  db: Executor,
  id: number,
  values: {
    message_title?: string | null
    message_reference?: string | null
    external_system_reference?: string | null
    pollable?: number
    last_update: number
  },
): Promise<void> {
  await db.updateTable('conversations').set(values).where('id', '=', id).execute()
}

export interface StatusInput {
  status: string
  description?: string | null
  rawReceipt?: string | null
}

/**
 * Registers a status once per conversation (as the reference: a second registration of the same
 * status is a no-op) and updates `finished`/`pollable`. A new status also gets its webhook deliveries
 * and its status-queue entry, in the caller's transaction, so they exist exactly when it does. Returns
 * the new row, or undefined when the conversation already had that status.
 */
export async function registerStatus(
  db: Executor,
  conversation: Pick<ConversationRow, 'id'>,
  input: StatusInput,
  now: number,
): Promise<MessageStatusRow | undefined> {
  const row = await insertStatus(db, conversation, input, now)
  if (row) {
    const updated = await applyStatus(db, conversation.id, input.status, now)
    await enqueueStatusEntry(db, updated, row, now)
    await enqueueStatusEvents(db, updated, row, now)
  }
  return row
}

async function insertStatus(
  db: Executor,
  conversation: Pick<ConversationRow, 'id'>,
  input: StatusInput,
  now: number,
): Promise<MessageStatusRow | undefined> {
  return db
    .insertInto('message_statuses')
    .values({
      conversation_fk: conversation.id,
      status: input.status,
      description: input.description ?? null,
      raw_receipt: input.rawReceipt ?? null,
      last_update: now,
    })
    .onConflict((oc) => oc.columns(['conversation_fk', 'status']).doNothing())
    .returningAll()
    .executeTakeFirst()
}

async function applyStatus(
  db: Executor,
  conversationId: number,
  status: string,
  now: number,
): Promise<ConversationRow> {
  return db
    .updateTable('conversations')
    .set({
      last_update: now,
      latest_status: status,
      ...(finishes(status) ? { finished: 1 } : {}),
      ...(stopsPolling(status) ? { pollable: 0 } : {}),
    })
    .where('id', '=', conversationId)
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function deleteConversation(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('conversations').where('id', '=', id).execute()
}

export async function deleteConversationsByMessageId(db: Executor, messageId: string): Promise<void> {
  await db.deleteFrom('conversations').where('message_id', '=', messageId).execute()
}

/** Open conversations whose expiry has passed, for the expiry job. */
export async function expiredOpenConversations(
  db: Executor,
  now: number,
  limit: number,
): Promise<ConversationRow[]> {
  return db
    .selectFrom('conversations')
    .selectAll()
    .where('finished', '=', 0)
    .where('expiry', 'is not', null)
    .where('expiry', '<', now)
    .orderBy('expiry')
    .limit(limit)
    .execute()
}

/** What the operator's page shows of a file once the outgoing message and its payload are gone. */
export interface KeptFile {
  filename: string
  title: string | null
  mimeType: string
  size: number
  primary: boolean
}

export function keptFileOf(f: OutFileRow): KeptFile {
  return {
    filename: f.filename,
    title: f.title,
    mimeType: f.mime_type,
    size: Number(f.size),
    primary: Boolean(f.primary_document),
  }
}

/** Records the files an outgoing message carried on its conversation, in the transaction that removes them. */
export async function keepFileList(db: Executor, messageId: string, files: OutFileRow[]): Promise<void> {
  if (!files.length) return
  const kept = files.map(keptFileOf)
  await db
    .updateTable('conversations')
    .set({ files: JSON.stringify(kept) })
    .where('message_id', '=', messageId)
    .where('direction', '=', 'OUTGOING')
    .execute()
}

/** The kept file list of a conversation; empty when none was kept (older rows, incoming messages). */
export function keptFiles(row: ConversationRow): KeptFile[] {
  if (!row.files) return []
  try {
    const parsed: unknown = JSON.parse(row.files)
    return Array.isArray(parsed) ? (parsed as KeptFile[]) : []
  } catch {
    return []
  }
}
