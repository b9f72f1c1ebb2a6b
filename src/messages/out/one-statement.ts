import { sql } from 'kysely'
import { statusColumns } from '../../conversations/repository.js'
import type { Executor } from '../../db/open.js'
import type {
  ConversationRow,
  MessageStatusRow,
  NewOutFile,
  WebhookSubscriptionRow,
} from '../../db/schema.js'
import type { PayloadStore, SmallPayload } from '../../files/payload-store.js'
import { jobRow } from '../../jobs/outbox.js'
import { enqueueStatusEvents } from '../../webhooks/deliveries.js'
import {
  alreadyExists,
  type ConversationTitle,
  conversationRow,
  outMessageRow,
  type PreparedMessage,
} from './create.js'
import { sendJob } from './send.js'

/** The webhook subscriptions a new status's events are matched against, read in the same statement. */
const subscriptions = sql<
  StoredInOne['subscriptions']
>`(select coalesce(json_agg(w order by w.id), '[]'::json)
  from (select id, resource, event, filter from webhook_subscriptions) w)`

/** The first status of a message the one-step send stores. */
const CREATED = 'OPPRETTET'

/** What a statement here answers: a new status, its conversation, the webhook subscriptions to match. */
interface StoredInOne {
  status: MessageStatusRow
  conversation: ConversationRow
  subscriptions: Pick<WebhookSubscriptionRow, 'id' | 'resource' | 'event' | 'filter'>[]
}

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
  if (!payloads.withInserted) throw new Error('the payload store cannot insert within a statement')
  if (input.files.length === 0)
    throw new Error('a send without files has no files to insert in one statement')
  const created = payloads
    .withInserted(trx, input.small)
    .with('m', (q) =>
      q
        .insertInto('out_messages')
        .values(outMessageRow(prepared, 'SENDING', now))
        .returning('id'),
    )
    .with('f', (q) =>
      q
        .insertInto('out_files')
        .values((eb) => input.files.map((f) => ({ ...f, message_fk: eb.selectFrom('m').select('m.id') }))),
    )
    .with('c', (q) =>
      q
        .insertInto('conversations')
        .values({
          ...conversationRow(prepared, now, input.titled ?? undefined),
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
      subscriptions.as('subscriptions'),
    ])
  let stored: StoredInOne
  try {
    stored = await created.executeTakeFirstOrThrow()
  } catch (error) {
    throw alreadyExists(error, prepared.messageId)
  }
  await enqueueStatusEvents(trx, stored.conversation, stored.status, now, stored.subscriptions)
}
