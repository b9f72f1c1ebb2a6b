import { sql } from 'kysely'
import { capabilitiesOf } from '../db/capabilities.js'
import type { Executor } from '../db/open.js'
import type {
  ConversationRow,
  MessageStatusRow,
  NewConversation,
  OutFileRow,
  WebhookSubscriptionRow,
} from '../db/schema.js'
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
  if (capabilitiesOf(db).name === 'postgres') {
    const done = await registerInOneStatement(db, conversation, input, now)
    if (done) await enqueueStatusEvents(db, done.conversation, done.status, now, done.subscriptions)
    return done?.status
  }
  const row = await insertStatus(db, conversation, input, now)
  if (row) {
    const updated = await applyStatus(db, conversation.id, input.status, now)
    await enqueueStatusEntry(db, updated, row, now)
    await enqueueStatusEvents(db, updated, row, now)
  }
  return row
}

/**
 * What a one-statement status registration answers on PostgreSQL (here, and messages/out/one-statement.ts):
 * the new status, the conversation as updated, the webhook subscriptions its events are matched against.
 */
export interface RegisteredInOne {
  status: MessageStatusRow
  conversation: ConversationRow
  subscriptions: Pick<WebhookSubscriptionRow, 'id' | 'resource' | 'event' | 'filter'>[]
}

/** The webhook subscriptions as JSON, read in the statement that registers a status (subscriptionsForEvents' rows). */
export const subscriptionsJson = sql<RegisteredInOne['subscriptions']>`(select
  coalesce(json_agg(w order by w.id), '[]'::json)
  from (select id, resource, event, filter from webhook_subscriptions) w)`

/**
 * On PostgreSQL, what registerStatus does in four statements, in one: the status, the conversation's
 * update, the status-queue entry, and the webhook subscriptions the events are matched against. Each
 * statement is a round trip to the server, and on a small machine a round trip (waking the server's
 * process) costs the integration point more CPU than building the statement. SQLite runs in the process
 * and has no data-modifying WITH: it keeps the four. Undefined when the conversation had the status.
 */
async function registerInOneStatement(
  db: Executor,
  conversation: Pick<ConversationRow, 'id'>,
  input: StatusInput,
  now: number,
): Promise<RegisteredInOne | undefined> {
  const finished = finishes(input.status) ? sql`, finished = 1` : sql``
  const pollable = stopsPolling(input.status) ? sql`, pollable = 0` : sql``
  // rows come back as JSON: their integer columns are numbers, as the pg driver's parsers make them
  const r = await sql<RegisteredInOne>`
    with s as (
      insert into message_statuses (conversation_fk, status, description, raw_receipt, last_update)
      values (
        ${conversation.id}, ${input.status}, ${input.description ?? null}, ${input.rawReceipt ?? null}, ${now}
      )
      on conflict (conversation_fk, status) do nothing
      returning *
    ), c as (
      update conversations set last_update = ${now}, latest_status = ${input.status}${finished}${pollable}
      where id = ${conversation.id} and exists (select 1 from s)
      returning *
    ), q as (
      insert into status_queue (status_fk, service_identifier, created_at)
      select s.id, c.service_identifier, ${now} from s, c
      on conflict (status_fk) do nothing
    )
    select row_to_json(s) as status, row_to_json(c) as conversation, ${subscriptionsJson} as subscriptions
    from s, c`.execute(db)
  return r.rows[0]
}

/** What a new status sets on its conversation (registerStatus; a new conversation inserted with its first status). */
export function statusColumns(status: string, now: number) {
  return {
    last_update: now,
    latest_status: status,
    ...(finishes(status) ? { finished: 1 } : {}),
    ...(stopsPolling(status) ? { pollable: 0 } : {}),
  }
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
    .set(statusColumns(status, now))
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
