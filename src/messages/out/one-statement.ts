import { sql } from 'kysely'
import {
  keptFileOf,
  type RegisteredInOne,
  statusColumns,
  subscriptionsJson,
} from '../../conversations/repository.js'
import { finishes, stopsPolling } from '../../conversations/statuses.js'
import type { Executor } from '../../db/open.js'
import type { ConversationRow, MessageStatusRow, NewOutFile, OutFileRow } from '../../db/schema.js'
import type { DirRemoval, PayloadStore, SmallPayload } from '../../files/payload-store.js'
import { jobRow } from '../../jobs/outbox.js'
import { enqueueStatusEvents } from '../../webhooks/deliveries.js'
import { alreadyExists, type ConversationTitle, outgoingRows, type PreparedMessage } from './create.js'
import { sendJob } from './send.js'

/** The first status of a message the one-step send stores. */
const CREATED = 'OPPRETTET'

/**
 * On PostgreSQL, what the one-step send stores in seven statements (its payloads and their chunks, the
 * message as SENDING, its files, its conversation, OPPRETTET with its status-queue entry, the send job), in
 * one, with data-modifying `WITH` clauses: on a small machine each statement's round trip (waking the
 * server's process) costs more CPU than building it (bench/README.md). The rows are those persistMessage,
 * insertFiles, enqueueSend and the payload store's insertInTransaction write; the conversation is inserted
 * with its first status's columns already set, since a statement cannot update a row it inserts. The
 * webhook deliveries of OPPRETTET follow in the caller's transaction when a subscription matches.
 */
export async function storeSendInOneStatement(
  trx: Executor,
  payloads: PayloadStore,
  input: {
    prepared: PreparedMessage
    titled: ConversationTitle | null
    files: Omit<NewOutFile, 'message_fk'>[]
    small: SmallPayload[]
    now: number
  },
): Promise<void> {
  const { prepared, now } = input
  const rows = outgoingRows(prepared, 'SENDING', now, input.titled ?? undefined)
  if (!payloads.withInserted) throw new Error('the payload store cannot insert within a statement')
  if (input.files.length === 0)
    throw new Error('a send without files has no files to insert in one statement')
  const created = payloads
    .withInserted(trx, input.small)
    .with('m', (q) => q.insertInto('out_messages').values(rows.message).returning('id'))
    .with('f', (q) =>
      q
        .insertInto('out_files')
        .values((eb) => input.files.map((f) => ({ ...f, message_fk: eb.selectFrom('m').select('m.id') }))),
    )
    .with('c', (q) =>
      q
        .insertInto('conversations')
        .values({
          ...rows.conversation,
          ...statusColumns(CREATED, now),
        })
        .returningAll(),
    )
    .with('s', (q) =>
      q
        .insertInto('message_statuses')
        .values((eb) => ({
          conversation_fk: eb.selectFrom('c').select('c.id'),
          status: CREATED,
          description: null,
          raw_receipt: null,
          last_update: now,
        }))
        .returningAll(),
    )
    .with('q', (q) =>
      q.insertInto('status_queue').values((eb) => ({
        status_fk: eb.selectFrom('s').select('s.id'),
        service_identifier: prepared.serviceIdentifier,
        created_at: now,
      })),
    )
    .with('j', (q) =>
      q
        .insertInto('jobs')
        .values(jobRow(sendJob(prepared.messageId, prepared.serviceIdentifier, now), now))
        .onConflict((oc) => oc.column('dedupe_key').doNothing()),
    )
    // rows come back as JSON: their integer columns are numbers, as the pg driver's parsers make them
    .selectFrom(['s', 'c'])
    .select([
      sql<MessageStatusRow>`row_to_json(s)`.as('status'),
      sql<ConversationRow>`row_to_json(c)`.as('conversation'),
      subscriptionsJson.as('subscriptions'),
    ])
  let stored: RegisteredInOne
  try {
    stored = await created.executeTakeFirstOrThrow()
  } catch (error) {
    throw alreadyExists(error, prepared.messageId)
  }
  await enqueueStatusEvents(trx, stored.conversation, stored.status, now, stored.subscriptions)
}

/** A send job's end (finishInOneStatement). */
export interface SendEnd {
  messageId: string
  /** the purpose its handover was recorded under */
  purpose: string
  files: OutFileRow[]
  status: { status: string; description?: string }
  now: number
  /** the message's payloads' removal, where the store can remove them in the statement */
  payloads?: DirRemoval
}

/**
 * On PostgreSQL, what a send job's end does in five statements (dispatch.ts `finish`: the final status on
 * each of the message's outgoing conversations with its status-queue entry, the message removed, its file
 * list kept on the conversations when it was there to remove, its handover record forgotten), in one. A
 * statement updates a row once, so the conversation's update does both: the status's columns where the
 * status is new, the file list where the message was removed. With `end.payloads`, the message's payloads
 * go in it too. Not for a delivery that sets a reference or statuses of its own (finish's other statements).
 *
 * With `alone`, outside a transaction, the statement commits by itself: `begin` and `commit` are two more
 * round trips. It then does its work only while no webhook subscription exists, since a subscription's
 * deliveries must commit with the status; it answers false when one did and it did nothing, and the caller
 * runs it again in a transaction, where the deliveries follow. Either way the subscriptions are read
 * in the statement's one snapshot, so a subscription committed meanwhile is treated alike.
 */
export async function finishInOneStatement(
  db: Executor,
  end: SendEnd,
  how: { alone: boolean },
): Promise<boolean> {
  const { messageId, purpose, files, status, now } = end
  const kept = files.length ? JSON.stringify(files.map(keptFileOf)) : null
  const newStatus = sql`id in (select conversation_fk from s)`
  const finished = finishes(status.status)
    ? sql`, finished = case when ${newStatus} then 1 else finished end`
    : sql``
  const pollable = stopsPolling(status.status)
    ? sql`, pollable = case when ${newStatus} then 0 else pollable end`
    : sql``
  const files_ =
    kept === null ? sql`` : sql`, files = case when exists (select 1 from d) then ${kept} else files end`
  // alone: every change waits for the guard; in a transaction the deliveries follow, so it always holds
  const free = how.alone ? sql<boolean>`(select free from g)` : sql<boolean>`true`
  const removal = end.payloads ? sql`, p as (${end.payloads.clause(free)})` : sql``
  const r = await sql<EndRow>`
    with g as (
      select not exists (select 1 from webhook_subscriptions) as free
    ), d as (
      delete from out_messages where message_id = ${messageId} and ${free} returning id
    ), h as (
      delete from handovers where purpose = ${purpose} and ${free}
    ), s as (
      insert into message_statuses (conversation_fk, status, description, raw_receipt, last_update)
      select id, ${status.status}, ${status.description ?? null}, null, ${now}::bigint
      from conversations where message_id = ${messageId} and direction = 'OUTGOING' and ${free}
      order by id
      on conflict (conversation_fk, status) do nothing
      returning *
    ), c as (
      update conversations set
        last_update = case when ${newStatus} then ${now}::bigint else last_update end,
        latest_status = case when ${newStatus} then ${status.status} else latest_status end
        ${finished}${pollable}${files_}
      where message_id = ${messageId} and direction = 'OUTGOING'
        and (${newStatus} or exists (select 1 from d))
      returning *
    ), q as (
      insert into status_queue (status_fk, service_identifier, created_at)
      select s.id, c.service_identifier, ${now}::bigint from s join c on c.id = s.conversation_fk
      on conflict (status_fk) do nothing
    )${removal}
    select g.free, row_to_json(s) as status, row_to_json(c) as conversation,
      ${subscriptionsJson} as subscriptions
    from g left join (s join c on c.id = s.conversation_fk) on true
    order by s.id`.execute(db)
  if (how.alone && r.rows[0]?.free === false) return false
  for (const row of r.rows)
    if (row.status && row.conversation)
      await enqueueStatusEvents(db, row.conversation, row.status, now, row.subscriptions)
  return true
}

/** A row of the end's statement: a new status with its conversation, or none (status null) with the guard's answer. */
type EndRow = Omit<RegisteredInOne, 'status' | 'conversation'> & {
  free: boolean
  status: MessageStatusRow | null
  conversation: ConversationRow | null
}
