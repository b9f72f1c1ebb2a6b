// Everything known about one messageId, each read by key: its conversations (both directions when
// a message went to ourselves) with their statuses, the outgoing message and its files while they are
// kept, the queued incoming message, and the jobs that carry it.

import { conversationsByMessageId, statusesOf } from '../conversations/repository.js'
import type { Db, Executor } from '../db/open.js'
import type {
  ConversationRow,
  InMessageRow,
  JobRow,
  MessageStatusRow,
  OutFileRow,
  OutMessageRow,
} from '../db/schema.js'
import { missingFiles, type PayloadStore } from '../files/payload-store.js'
import { jobsForMessage } from '../jobs/outbox.js'
import { inMessageByMessageId } from '../messages/in/repository.js'
import { filesOf, outMessageByMessageId } from '../messages/out/repository.js'
import { isSendJob } from '../messages/out/send.js'

export interface MessageView {
  messageId: string
  conversations: { row: ConversationRow; statuses: MessageStatusRow[] }[]
  out: { message: OutMessageRow; files: OutFileRow[] } | undefined
  incoming: InMessageRow | undefined
  jobs: JobRow[]
}

/** Undefined when nothing at all is known of this messageId. */
export async function loadMessage(db: Db, messageId: string): Promise<MessageView | undefined> {
  const k = db.kysely
  const rows = await conversationsByMessageId(k, messageId)
  const statuses = await statusesOf(
    k,
    rows.map((r) => r.id),
  )
  const message = await outMessageByMessageId(k, messageId)
  const incoming = await inMessageByMessageId(k, messageId)
  if (!rows.length && !message && !incoming) return undefined
  return {
    messageId,
    conversations: rows.map((row) => ({
      row,
      statuses: statuses.filter((s) => s.conversation_fk === row.id),
    })),
    out: message ? { message, files: await filesOf(k, message.id) } : undefined,
    incoming,
    jobs: await jobsForMessage(k, messageId),
  }
}

/** What "retry now" would do for this message's send, or why it is not offered. */
export type RetryPlan =
  | { kind: 'run-now'; job: JobRow }
  | { kind: 'revive'; job: JobRow }
  | { kind: 'none'; reason: string }

/**
 * A send job waiting for its backoff can run now. A given-up send (FAILED) can start again only while its
 * message and files are still kept: giving up normally registers FEIL and removes them (as the
 * reference's dead letter), in one transaction, so this is the case of an instance that stopped between
 * the two steps.
 */
export async function retryPlan(
  db: Executor,
  payloads: Pick<PayloadStore, 'missing'>,
  messageId: string,
  now: number,
): Promise<RetryPlan> {
  const message = await outMessageByMessageId(db, messageId)
  const files = message ? await filesOf(db, message.id) : []
  return planRetry(await jobsForMessage(db, messageId), message, files, payloads, now)
}

/**
 * The storage keys of a message's files that the payload store still has. Asked before a transaction
 * that plans a retry, never inside it: the store may be this very database, whose one SQLite connection
 * the transaction holds.
 */
export async function keptFiles(
  db: Executor,
  payloads: Pick<PayloadStore, 'missing'>,
  messageId: string,
): Promise<Set<string>> {
  const message = await outMessageByMessageId(db, messageId)
  const files = message ? await filesOf(db, message.id) : []
  const gone = new Set(await payloads.missing(files.map((f) => f.storage_key)))
  return new Set(files.map((f) => f.storage_key).filter((key) => !gone.has(key)))
}

/** The plan from rows already read (the message page has them in its view). */
export async function planRetry(
  jobs: JobRow[],
  message: OutMessageRow | undefined,
  files: OutFileRow[],
  payloads: Pick<PayloadStore, 'missing'>,
  now: number,
): Promise<RetryPlan> {
  const job = jobs.find((j) => isSendJob(j.kind))
  if (!job) return { kind: 'none', reason: 'There is no send job for this message.' }
  if (job.state === 'DONE') return { kind: 'none', reason: 'The send job has finished.' }
  if (job.state === 'PENDING') {
    if (job.locked_until !== null && job.locked_until >= now)
      return { kind: 'none', reason: 'The message is being sent right now.' }
    if (job.run_at <= now) return { kind: 'none', reason: 'The send is due now and waits for a free worker.' }
    return { kind: 'run-now', job }
  }
  if (message?.state !== 'SENDING')
    return {
      kind: 'none',
      reason:
        'The send was given up and, as in the reference, the message and its files were removed with it: the fagsystem must send it again.',
    }
  const [gone] = await missingFiles(payloads, files)
  if (gone) return { kind: 'none', reason: `The send was given up and its file ${gone.filename} is gone.` }
  return { kind: 'revive', job }
}
