import type { Readable } from 'node:stream'
import type { Logger } from 'pino'
import { uploadLimitOf } from '../../channels/registry.js'
import type { Config } from '../../config/types.js'
import { isUniqueViolation } from '../../db/errors.js'
import type { Db } from '../../db/open.js'
import type { OutFileRow, OutMessageRow } from '../../db/schema.js'
import { ApiError } from '../../errors/api-error.js'
import { ContentDispositionError, parseContentDisposition } from '../../files/content-disposition.js'
import type { PayloadStore } from '../../files/payload-store.js'
import { collidesWith, documentNameProblem } from '../../packaging/document-names.js'
import { parseArkivmelding } from '../../sbd/arkivmelding.js'
import { checkNewFile, formatDataSize, isPrimaryDocument, mimeTypeFor } from '../../sbd/files.js'
import type { ServiceIdentifier, StandardBusinessDocument } from '../../sbd/types.js'
import type { Clock } from '../../util/time.js'
import { outPayloadKey } from './orphans.js'
import { filesOf, insertFile, nextDokumentnummer, outMessageByMessageId, touch } from './repository.js'
import {
  ARKIVMELDING_FILE,
  MAX_ARKIVMELDING_BYTES,
  readText,
  requireOutMessage,
  storedSbd,
  titleConversation,
  toFileInfo,
} from './stored.js'
import { beginUpload, lockMessage, type UploadLease } from './upload-lease.js'

/** What a file upload needs (the routes pass their AppDeps, a superset). */
export interface UploadDeps {
  config: Config
  db: Db
  clock: Clock
  payloads: PayloadStore
  logger: Logger
  newUuid: () => string
}

export interface UploadRequest {
  messageId: string
  contentType: string | undefined
  contentDisposition: string | undefined
  contentLength: string | undefined
  title: string | undefined
  body: Readable
}

/** A file to add: what the client said about it. */
export interface IncomingFile {
  filename: string
  title: string | null
  mimeType: string
  /** declared size, or -1 when unknown before reading */
  size: number
}

/**
 * `PUT /api/messages/out/{messageId}`: checks, streams to disk within the limit, then the row.
 * While the body streams, the upload holds a lease in the database, so a send of the message on any
 * instance waits for it (409) instead of sending without the file; a delete cancels it (404 at its end).
 */
export async function uploadFile(deps: UploadDeps, req: UploadRequest): Promise<void> {
  const message = await requireOutMessage(deps.db.kysely, req.messageId)
  if (message.state !== 'CREATED') throw new ApiError('MessageAlreadySent', ['messageId', req.messageId])
  const file = describeUpload(req)
  const sbd = storedSbd(message)
  const si = message.service_identifier as ServiceIdentifier
  const limit = uploadLimit(deps, si)
  const used = await checkUpload(deps, message, sbd, file, limit)
  const lease = await beginUpload(
    {
      db: deps.db,
      clock: deps.clock,
      leaseMs: deps.config.jobs.leaseMs,
      onRenewError: (err) =>
        deps.logger.warn({ err, messageId: req.messageId }, 'could not renew an upload lease'),
    },
    message.message_id,
  )
  try {
    const key = outPayloadKey(message.message_id, deps.newUuid())
    const written = await deps.payloads.write(key, req.body, {
      maxBytes: Math.max(0, limit - used),
      onLimit: (seen) => tooLarge(used + seen, si, limit),
      signal: lease.cancelled,
    })
    const stored = { ...file, size: written.size }
    const { sha256, crc32 } = written
    await storeOrRemove(deps, { message, sbd, file: stored, key, sha256, crc32, lease })
  } catch (error) {
    throw await unlessDeleted(deps, message.message_id, error)
  } finally {
    // a lease left behind (the database gone) runs out by itself
    await lease.release().catch((err) => deps.logger.warn({ err }, 'could not end an upload lease'))
  }
}

/** the file checks (src/sbd/files.ts) before a byte is read, with the declared size; resolves with the bytes already used. */
async function checkUpload(
  deps: UploadDeps,
  message: OutMessageRow,
  sbd: StandardBusinessDocument,
  file: IncomingFile,
  limit: number,
): Promise<number> {
  const existing = await filesOf(deps.db.kysely, message.id)
  checkNotColliding(existing, file.filename)
  const refused = checkNewFile({
    sbd,
    serviceIdentifier: message.service_identifier as ServiceIdentifier,
    existing: existing.map(toFileInfo),
    file: { ...file, size: Math.max(0, file.size) },
    limitBytes: limit,
  })
  if (refused) throw refused
  return existing.reduce((sum, f) => sum + f.size, 0)
}

/**
 * A delete cancels an upload streaming to its message; a failure of the payload store meanwhile (its
 * folder removed under the write) is then the delete's doing: the reference's 404, not a 500.
 */
async function unlessDeleted(deps: UploadDeps, messageId: string, error: unknown): Promise<unknown> {
  if (error instanceof ApiError) return error
  const gone = await outMessageByMessageId(deps.db.kysely, messageId).then(
    (row) => row === undefined,
    () => false,
  )
  return gone ? new ApiError('MessageNotFound', ['messageId', messageId], { cause: error }) : error
}

/** addStoredFile, removing the written file when it is refused. */
async function storeOrRemove(deps: UploadDeps, input: Parameters<typeof addStoredFile>[1]): Promise<void> {
  try {
    await addStoredFile(deps, input)
  } catch (error) {
    await deps.payloads.remove(input.key)
    throw error
  }
}

/** What the client said about the file, from the headers (size -1 when not declared). */
function describeUpload(req: UploadRequest): IncomingFile {
  if (req.contentType === undefined) throw new ApiError('MissingRequestHeader', ['Content-Type'])
  if (req.contentDisposition === undefined)
    throw new ApiError('MissingRequestHeader', ['Content-Disposition'])
  const disposition = readDisposition(req.contentDisposition)
  return {
    filename: disposition.filename,
    title: nonEmpty(req.title) ?? nonEmpty(disposition.name),
    mimeType: mimeTypeFor(disposition.filename, req.contentType),
    size: req.contentLength !== undefined && /^\d+$/.test(req.contentLength) ? Number(req.contentLength) : -1,
  }
}

/** What the API accepts for a message by `si` (the channel's packing takes the rest of the service's limit). */
export function uploadLimit(deps: { config: Config }, si: ServiceIdentifier): number {
  return uploadLimitOf(deps.config, si)
}

export function tooLarge(total: number, si: ServiceIdentifier, limit: number): ApiError {
  return new ApiError('MaxFileSizeExceeded', [formatDataSize(total), si, formatDataSize(limit)])
}

/**
 * Records a file already in the payload store: the checks again under the message's lock (a parallel
 * upload may have won; a message whose upload lease ran out may have been sent or deleted), the row,
 * the end of the upload's lease, and the conversation's title and reference from arkivmelding.xml.
 */
export async function addStoredFile(
  deps: UploadDeps,
  input: {
    message: OutMessageRow
    sbd: StandardBusinessDocument
    file: IncomingFile
    key: string
    sha256: string
    crc32: number
    lease: UploadLease
  },
): Promise<OutFileRow> {
  const { message, sbd, file, key } = input
  const arkivmelding =
    file.filename === ARKIVMELDING_FILE
      ? parseArkivmelding(await readText(deps.payloads, key, MAX_ARKIVMELDING_BYTES))
      : null
  const now = deps.clock.now().getTime()
  return deps.db.kysely.transaction().execute(async (trx) => {
    const current = await lockMessage(trx, message.message_id)
    if (!current) throw new ApiError('MessageNotFound', ['messageId', message.message_id])
    if (current.state !== 'CREATED')
      throw new ApiError('MessageAlreadySent', ['messageId', message.message_id])
    const existing = await filesOf(trx, message.id)
    const si = message.service_identifier as ServiceIdentifier
    checkNotColliding(existing, file.filename)
    const refused = checkNewFile({
      sbd,
      serviceIdentifier: si,
      existing: existing.map(toFileInfo),
      file,
      limitBytes: uploadLimit(deps, si),
    })
    if (refused) throw refused
    let row: OutFileRow
    try {
      row = await insertFile(trx, {
        message_fk: message.id,
        dokumentnummer: await nextDokumentnummer(trx, message.id),
        filename: file.filename,
        title: file.title,
        mime_type: file.mimeType,
        size: file.size,
        primary_document: isPrimaryDocument(sbd, file.filename) ? 1 : 0,
        storage_key: key,
        sha256: input.sha256,
        crc32: input.crc32,
        created_at: now,
      })
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError('DuplicateFilename', [file.filename], { cause: error })
      throw error
    }
    await touch(trx, message.id, now)
    await input.lease.end(trx)
    if (arkivmelding) await titleConversation(trx, message.message_id, arkivmelding, now)
    return row
  })
}

function readDisposition(header: string): { filename: string; name: string | undefined } {
  let parsed: ReturnType<typeof parseContentDisposition>
  try {
    parsed = parseContentDisposition(header)
  } catch (error) {
    if (error instanceof ContentDispositionError) {
      throw new ApiError('IllegalArgument', [], {
        message: `Invalid content disposition format: ${error.message}`,
        cause: error,
      })
    }
    throw error
  }
  const filename = parsed.params.filename
  if (!filename) {
    throw new ApiError('IllegalArgument', [], {
      message: 'Content-Disposition must give the file a name: attachment; filename=<name>',
    })
  }
  checkFilename(filename)
  return { filename, name: parsed.params.name }
}

/** The packaging's rule for document names, as the API's 400: what is accepted here can be packed. */
export function checkFilename(name: string): void {
  const problem = documentNameProblem(name)
  if (problem)
    throw new ApiError('IllegalArgument', [], {
      message: `Filename ${JSON.stringify(name)} is not allowed: ${problem}`,
    })
}

/**
 * As checkNewFile's duplicate check, but also for names that differ only in case or Unicode form: the
 * packaging refuses those (they overwrite each other when unpacked).
 */
export function checkNotColliding(existing: readonly { filename: string }[], name: string): void {
  if (
    collidesWith(
      existing.map((f) => f.filename),
      name,
    )
  )
    throw new ApiError('DuplicateFilename', [name])
}

function nonEmpty(value: string | undefined | null): string | null {
  return value && value.trim() !== '' ? value : null
}
