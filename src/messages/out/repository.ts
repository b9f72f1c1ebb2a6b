import { type SelectQueryBuilder, sql } from 'kysely'
import type { Db, Executor } from '../../db/open.js'
import { pageOf } from '../../db/page-query.js'
import type { Database, NewOutFile, NewOutMessage, OutFileRow, OutMessageRow } from '../../db/schema.js'

export async function insertOutMessage(db: Executor, values: NewOutMessage): Promise<OutMessageRow> {
  return db.insertInto('out_messages').values(values).returningAll().executeTakeFirstOrThrow()
}

export async function outMessageByMessageId(
  db: Executor,
  messageId: string,
): Promise<OutMessageRow | undefined> {
  return db.selectFrom('out_messages').selectAll().where('message_id', '=', messageId).executeTakeFirst()
}

/**
 * Whether an outgoing message has `messageId`, or (with `orConversation`) any conversation has: one
 * statement, a round trip fewer than asking each table.
 */
export async function messageIdTaken(
  db: Executor,
  messageId: string,
  orConversation: boolean,
): Promise<boolean> {
  const row = await db
    .selectNoFrom((eb) => [
      eb.exists(eb.selectFrom('out_messages').select('id').where('message_id', '=', messageId)).as('out'),
      (orConversation
        ? eb.exists(eb.selectFrom('conversations').select('id').where('message_id', '=', messageId))
        : eb.lit(false)
      ).as('conversation'),
    ])
    .executeTakeFirstOrThrow()
  // SQLite answers 0 or 1, PostgreSQL a boolean
  return Boolean(row.out) || Boolean(row.conversation)
}

export async function outMessageByConversationId(
  db: Executor,
  conversationId: string,
): Promise<OutMessageRow | undefined> {
  return db
    .selectFrom('out_messages')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .orderBy('id')
    .executeTakeFirst()
}

export async function filesOf(db: Executor, messageFk: number): Promise<OutFileRow[]> {
  return db
    .selectFrom('out_files')
    .selectAll()
    .where('message_fk', '=', messageFk)
    .orderBy('dokumentnummer')
    .execute()
}

/**
 * An outgoing message with its files in filesOf's order. On PostgreSQL in one statement, the files as JSON
 * (their integer columns come back as numbers, as the pg driver's parsers make them): each statement is a
 * round trip there (one-statement.ts); SQLite runs in the process and keeps the two.
 */
export async function outMessageWithFiles(
  db: Db,
  messageId: string,
): Promise<{ message: OutMessageRow; files: OutFileRow[] } | undefined> {
  if (db.caps.name !== 'postgres') {
    const message = await outMessageByMessageId(db.kysely, messageId)
    return message && { message, files: await filesOf(db.kysely, message.id) }
  }
  const row = await db.kysely
    .selectFrom('out_messages as m')
    .selectAll('m')
    .select(
      sql<OutFileRow[]>`(select coalesce(json_agg(f order by f.dokumentnummer), '[]'::json)
        from out_files f where f.message_fk = m.id)`.as('files'),
    )
    .where('m.message_id', '=', messageId)
    .executeTakeFirst()
  if (!row) return undefined
  const { files, ...message } = row
  return { message, files }
}

export async function insertFile(db: Executor, values: NewOutFile): Promise<OutFileRow> {
  return db.insertInto('out_files').values(values).returningAll().executeTakeFirstOrThrow()
}

/** Several files in one statement (a one-step send's attachments). */
export async function insertFiles(db: Executor, values: NewOutFile[]): Promise<void> {
  if (values.length) await db.insertInto('out_files').values(values).execute()
}

export async function nextDokumentnummer(db: Executor, messageFk: number): Promise<number> {
  const row = await db
    .selectFrom('out_files')
    .select(sql<number | null>`max(dokumentnummer)`.as('n'))
    .where('message_fk', '=', messageFk)
    .executeTakeFirst()
  return Number(row?.n ?? 0) + 1
}

/** Moves a message to SENDING only if it is still CREATED; false when another request got there first. */
export async function markSending(db: Executor, id: number, now: number): Promise<boolean> {
  const r = await db
    .updateTable('out_messages')
    .set({ state: 'SENDING', last_updated: now })
    .where('id', '=', id)
    .where('state', '=', 'CREATED')
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function touch(db: Executor, id: number, now: number): Promise<void> {
  await db.updateTable('out_messages').set({ last_updated: now }).where('id', '=', id).execute()
}

export async function deleteOutMessage(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('out_messages').where('id', '=', id).execute()
}

/** Deletes the outgoing message with `messageId` (its files' rows with it); whether there was one. */
export async function deleteOutMessageById(db: Executor, messageId: string): Promise<boolean> {
  const r = await db.deleteFrom('out_messages').where('message_id', '=', messageId).executeTakeFirst()
  return Number(r.numDeletedRows) > 0
}

type OutQuery<O> = SelectQueryBuilder<Database, 'out_messages', O>
export type OutFilter = <O>(q: OutQuery<O>) => OutQuery<O>

export function searchOutMessages(
  db: Executor,
  filter: OutFilter,
  sort: { column: string; direction: 'asc' | 'desc' }[],
  page: { limit: number; offset: number },
): Promise<{ rows: OutMessageRow[]; total: number }> {
  return pageOf(db, 'out_messages', filter, sort, page)
}
