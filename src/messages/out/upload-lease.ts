// What keeps the requests on one outgoing message from running under each other, on any number of
// instances sharing one database: every change to a message first locks its row (lockMessage), and a
// file upload still streaming is a row in out_uploads with a lease its instance renews. A send that
// finds a live upload answers 409; a delete takes the row with the message, and the upload then finds
// the message gone. An upload whose instance died stops counting when its lease runs out.

import { sql } from 'kysely'
import type { Db, Executor } from '../../db/open.js'
import type { OutMessageRow } from '../../db/schema.js'
import { ApiError } from '../../errors/api-error.js'
import type { Clock } from '../../util/time.js'

/**
 * Reads the message and holds its row until the transaction ends (PostgreSQL: the row lock a no-op
 * update takes; SQLite: the one writer). Statements after it see whatever a concurrent request
 * committed before it, so checks made here cannot be overtaken.
 */
export async function lockMessage(trx: Executor, messageId: string): Promise<OutMessageRow | undefined> {
  return trx
    .updateTable('out_messages')
    .set({ last_updated: sql<number>`last_updated` })
    .where('message_id', '=', messageId)
    .returningAll()
    .executeTakeFirst()
}

/** Whether an upload to the message is streaming now (its lease has not run out). */
export async function uploadInProgress(db: Executor, messageFk: number, now: number): Promise<boolean> {
  const row = await db
    .selectFrom('out_uploads')
    .select('id')
    .where('message_fk', '=', messageFk)
    .where('lease_until', '>=', now)
    .limit(1)
    .executeTakeFirst()
  return row !== undefined
}

/** The 409 for a send or a delete while a file of the message is still arriving. */
export function uploadBusy(messageId: string): ApiError {
  return new ApiError('UploadInProgress', ['messageId', messageId])
}

export interface UploadLease {
  id: number
  /** aborted when a renewal finds the lease gone: the message was deleted, so the upload is cancelled */
  cancelled: AbortSignal
  /** ends the lease in the transaction that stores the file */
  end(trx: Executor): Promise<void>
  /** stops renewing and removes the row, if the file was not stored (idempotent) */
  release(): Promise<void>
}

/**
 * Registers an upload to a message that is still CREATED (else the reference's answer for a sent or
 * missing message) and renews its lease while it streams.
 */
export async function beginUpload(deps: LeaseDeps, messageId: string): Promise<UploadLease> {
  const db = deps.db.kysely
  const id = await db.transaction().execute(async (trx) => {
    const message = await lockMessage(trx, messageId)
    if (!message) throw new ApiError('MessageNotFound', ['messageId', messageId])
    if (message.state !== 'CREATED') throw new ApiError('MessageAlreadySent', ['messageId', messageId])
    const now = deps.clock.now().getTime()
    const row = await trx
      .insertInto('out_uploads')
      .values({ message_fk: message.id, lease_until: now + deps.leaseMs, created_at: now })
      .returning('id')
      .executeTakeFirstOrThrow()
    return Number(row.id)
  })
  const renewal = renewWhileStreaming(deps, id, messageId)
  const remove = (trx: Executor) => trx.deleteFrom('out_uploads').where('id', '=', id).execute()
  return {
    id,
    cancelled: renewal.cancelled,
    end: async (trx) => {
      await remove(trx)
    },
    release: async () => {
      renewal.stop()
      await remove(db)
    },
  }
}

interface LeaseDeps {
  db: Db
  clock: Clock
  leaseMs: number
  onRenewError: (err: unknown) => void
}

/** Renews the lease a third of its length before it runs out; a lease found gone cancels the upload. */
function renewWhileStreaming(deps: LeaseDeps, id: number, messageId: string) {
  const cancel = new AbortController()
  const renew = setInterval(
    () => {
      deps.db.kysely
        .updateTable('out_uploads')
        .set({ lease_until: deps.clock.now().getTime() + deps.leaseMs })
        .where('id', '=', id)
        .executeTakeFirst()
        .then((r) => {
          // the row goes with its message: a delete cancelled this upload
          if (Number(r.numUpdatedRows) === 0)
            cancel.abort(new ApiError('MessageNotFound', ['messageId', messageId]))
        })
        .catch(deps.onRenewError)
    },
    Math.max(1000, Math.floor(deps.leaseMs / 3)),
  )
  renew.unref?.()
  return { cancelled: cancel.signal, stop: () => clearInterval(renew) }
}

/**
 * At start: with SQLite one process owns the store, so every upload lease left is a dead process's and
 * need not block its message until it runs out. With PostgreSQL another instance may be uploading.
 */
export async function releaseDeadUploads(db: Db): Promise<number> {
  if (db.caps.name !== 'sqlite') return 0
  const r = await db.kysely.deleteFrom('out_uploads').executeTakeFirst()
  return Number(r.numDeletedRows)
}
