import { pipeline, Readable } from 'node:stream'
import type { Logger } from 'pino'
import { conversationsByMessageId, registerStatus } from '../../conversations/repository.js'
import type { Db } from '../../db/open.js'
import type { InMessageRow } from '../../db/schema.js'
import { ApiError } from '../../errors/api-error.js'
import type { PayloadStore } from '../../files/payload-store.js'
import { CmsError, decryptStream } from '../../packaging/cms.js'
import type { BusinessKeys } from '../../packaging/keys.js'
import { forMessage } from '../../util/log.js'
import type { Clock } from '../../util/time.js'
import { lockedMessage, removeIncomingPayload } from './queue.js'
import { deleteInMessage } from './repository.js'

/** Receipts carry no ASiC: pop answers 204 for them, as the reference. */
const RECEIPT_TYPES = new Set(['arkivmelding_kvittering', 'einnsyn_kvittering', 'dialogmelding_kvittering'])

export const ASIC_FILENAME = 'asic.zip'

/** What pop needs (the routes pass their AppDeps, a superset). */
export interface PopDeps {
  db: Db
  clock: Clock
  payloads: PayloadStore
  logger: Logger
  /** the business key that opens the stored CMS; without it nothing can be popped */
  keys?: BusinessKeys | null
}

/**
 * `GET /api/messages/in/pop/{messageId}`: the decrypted ASiC-E as a stream, or null for 204.
 *
 * The stored file is the CMS the sender encrypted to our certificate; it is decrypted while it is
 * sent, in constant memory. The first plaintext bytes are awaited before answering, so what fails
 * early (wrong key, not CMS, file gone) still gets the reference's answer: the message is deleted, FEIL
 * registered and 404 `FileNotFoundException` (500 `AsicReadException` when the file is gone). What fails
 * later makes the stream error, and the HTTP layer then drops the connection: a client never gets a
 * short body that looks complete.
 */
export async function pop(deps: PopDeps, messageId: string): Promise<Readable | null> {
  const row = await lockedMessage(deps.db.kysely, messageId, deps.clock.now().getTime())
  if (RECEIPT_TYPES.has(row.type) || !row.asic_key) return null
  const keys = deps.keys
  if (!keys) {
    throw new ApiError('AsicRead', [], {
      message:
        'Cannot decrypt the message: no business certificate is configured (set difi.move.org.keystore.*)',
    })
  }
  const plaintext = pipeline(
    deps.payloads.read(row.asic_key),
    decryptStream(keys.keyPem, keys.certPem),
    () => {},
  )
  const chunks = plaintext[Symbol.asyncIterator]()
  let first: IteratorResult<Buffer>
  try {
    first = await chunks.next()
  } catch (error) {
    plaintext.destroy()
    throw await unreadable(deps, row, error)
  }
  return Readable.from(rest(first, chunks), { objectMode: false })
}

async function* rest(first: IteratorResult<Buffer>, chunks: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    for (let next = first; !next.done; next = await chunks.next()) yield next.value
  } finally {
    // the client went away or the stream failed: stop reading the file
    await chunks.return?.()
  }
}

/**
 * As the reference: a file that does not decrypt (or is gone) cannot become readable by waiting, so
 * the message leaves the queue with FEIL on its conversation. Any other read error (a disk fault) is
 * a 500 that keeps the message, since it may pass.
 */
async function unreadable(deps: PopDeps, row: InMessageRow, error: unknown): Promise<ApiError> {
  const gone = (error as NodeJS.ErrnoException)?.code === 'ENOENT'
  if (!gone && !(error instanceof CmsError)) {
    return new ApiError('AsicRead', [], {
      message: `Can not read file "${ASIC_FILENAME}" for message [messageId=${row.message_id}]: ${(error as Error)?.message}`,
      cause: error,
    })
  }
  const who = `message [messageId=${row.message_id}, sender=${row.sender_identifier}]`
  const description = gone
    ? `Can not retrieve file "${ASIC_FILENAME}" for ${who}, removing from queue.`
    : `Can not read file "${ASIC_FILENAME}" for ${who}, removing from queue.`
  const now = deps.clock.now().getTime()
  await deps.db.kysely.transaction().execute(async (trx) => {
    if (!(await deleteInMessage(trx, row.id))) return
    for (const c of await conversationsByMessageId(trx, row.message_id, 'INCOMING'))
      await registerStatus(trx, c, { status: 'FEIL', description }, now)
  })
  await removeIncomingPayload(deps.payloads, row.asic_key)
  forMessage(deps.logger, row.message_id).warn({ err: error, messageId: row.message_id }, description)
  return gone
    ? new ApiError('AsicRead', [], { message: description, cause: error })
    : new ApiError('FileNotFound', [ASIC_FILENAME], { cause: error })
}
