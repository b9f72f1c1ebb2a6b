import { readFile } from 'node:fs/promises'
import type { IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import type { Executor } from '../../db/open.js'
import { ApiError } from '../../errors/api-error.js'
import {
  discardMultipart,
  MultipartError,
  type MultipartFilePart,
  readMultipart,
} from '../../files/multipart.js'
import type { PayloadStore } from '../../files/payload-store.js'
import { documentNameKey } from '../../packaging/document-names.js'
import { parseArkivmelding } from '../../sbd/arkivmelding.js'
import { checkNewFile, checkSend, type FileInfo, isPrimaryDocument, mimeTypeFor } from '../../sbd/files.js'
import { serializeSbd } from '../../sbd/parse.js'
import {
  type ConversationTitle,
  type CreateDeps,
  type PreparedMessage,
  persistMessage,
  prepareMessage,
} from './create.js'
import { storeSendInOneStatement } from './one-statement.js'
import { outPayloadKey } from './orphans.js'
import { insertFiles } from './repository.js'
import { enqueueSend } from './send.js'
import { ARKIVMELDING_FILE, MAX_ARKIVMELDING_BYTES } from './stored.js'
import { checkFilename, uploadLimit } from './upload.js'

/** The reference's per-file ceiling for the one-step send: 5 MiB (`> 5242880` fails). */
export const MULTIPART_MAX_FILE_BYTES = 5 * 1024 * 1024

/**
 * arkivmelding.xml up to this size is kept in memory while it streams, so it is parsed without being
 * read back; a larger one (rare: it is metadata) is read back from its temp file after the body.
 */
export const ARKIVMELDING_IN_MEMORY_BYTES = 1024 * 1024

/**
 * Where payloads live in the database, a message's files up to this many bytes together are read whole
 * into memory and stored in the transaction that stores the message: one commit for the whole request.
 * Larger ones are adopted first, chunk by chunk, as an upload is. The file store that keeps small sends
 * in the database (choose-store.ts) takes them only when all were held in memory: reading temp files back
 * into SQLite's commit costs more than renaming them (bench/README.md).
 */
export const IN_TRANSACTION_MAX_BYTES = 4 * 1024 * 1024

/**
 * Where small payloads go into the database (`insertInTransaction`), a request's file parts up to this many
 * bytes together are held in memory while they stream in, so they get no temp file to write, read back or
 * rename and remove (about a dozen file-system calls per file); larger parts stream to a temp file as
 * before. Small, since a slow client holds it for as long as its body takes.
 */
export const IN_MEMORY_PART_BYTES = 256 * 1024

/** At most this many files go in one statement on PostgreSQL (inOneStatement); a send with more takes the statement-by-statement path. */
const ONE_STATEMENT_MAX_FILES = 1000

/** What the one-step send needs: a create's checks, then the files and the send job (routes pass AppDeps). */
export interface MultipartSendDeps extends CreateDeps {
  payloads: PayloadStore
  /** wakes the job runner once the send job is committed */
  onSendJob?: () => void
}

interface Attachment extends FileInfo {
  part: MultipartFilePart<string | null>
}

/**
 * `POST /api/messages/out/multipart`: create, attach and send in one request. Unlike the
 * reference it is atomic: every check runs before anything is stored, and the message, its files, its
 * conversation and its send job commit together, so a refused request leaves nothing behind and the
 * same messageId can be sent again.
 */
export async function createAndSend(
  deps: MultipartSendDeps,
  req: { headers: IncomingHttpHeaders; stream: Readable },
) {
  const contentType = req.headers['content-type'] ?? ''
  if (!/^multipart\/form-data\s*(;|$)/i.test(contentType))
    throw new ApiError('UnsupportedMediaType', [contentType])
  const result = await readParts(deps, req)
  let keys: string[] = []
  let adopted = false
  try {
    if (result.sbdPart === null)
      throw new ApiError('MissingRequestParameter', ['sbd', 'StandardBusinessDocument'])
    rejectDuplicates(result.files)
    const prepared = await prepareMessage(deps, parseJson(result.sbdPart), 'multipart')
    const attachments = checkFiles(deps, prepared, result.files)
    const arkivmelding = await readArkivmelding(attachments)
    const refused = checkSend({
      sbd: prepared.sbd,
      serviceIdentifier: prepared.serviceIdentifier,
      files: attachments,
      now: deps.clock.now(),
      arkivmeldingFiles: arkivmelding?.referencedFiles ?? null,
    })
    if (refused) throw refused
    const stored = attachments.map(() => outPayloadKey(prepared.messageId, deps.newUuid()))
    const total = attachments.reduce((sum, a) => sum + a.part.size, 0)
    const insert = deps.payloads.insertInTransaction
    const held = attachments.every((a) => a.part.tempPath === null)
    const inTransaction = held || !deps.payloads.tempFilesNeedSync
    if (insert && inTransaction && total <= IN_TRANSACTION_MAX_BYTES) {
      // read before the transaction, which then only writes; the temp files are removed below
      const payloads = await Promise.all(
        attachments.map(async (a, i) => ({
          key: stored[i]!,
          data: await partBytes(a.part),
          sha256: a.part.sha256,
        })),
      )
      // the files commit with the message: one commit for the request
      await deps.db.kysely.transaction().execute(async (trx) => {
        if (inOneStatement(deps, attachments)) {
          const now = deps.clock.now().getTime()
          const files = fileRows(attachments, stored, now)
          await storeSendInOneStatement(trx, deps.payloads, {
            prepared,
            titled: arkivmelding,
            files,
            small: payloads,
            now,
          })
          return
        }
        await insert.call(deps.payloads, trx, payloads)
        await store(trx, deps, prepared, attachments, stored, arkivmelding)
      })
    } else {
      keys = stored
      // every file and its folder entry is durable before the commit that makes the 200
      await adoptOrWrite(deps.payloads, attachments, stored)
      adopted = true
      await deps.db.kysely
        .transaction()
        .execute((trx) => store(trx, deps, prepared, attachments, keys, arkivmelding))
      keys = []
    }
    deps.onSendJob?.()
    return serializeSbd(prepared.sbd)
  } finally {
    await Promise.all(keys.map((key) => deps.payloads.remove(key)))
    // once adopted, the temp files are gone; before (or when adoptAll failed half-way), or when the files
    // were copied in the transaction, remove what is left
    if (!adopted) await discardMultipart(result)
  }
}

/**
 * The message (stored as SENDING at once: it has every file it will have), its titled conversation
 * with OPPRETTET, its files and its send job, in one transaction.
 */
async function store(
  trx: Executor,
  deps: MultipartSendDeps,
  prepared: PreparedMessage,
  attachments: Attachment[],
  keys: string[],
  arkivmelding: ConversationTitle | null,
): Promise<void> {
  const now = deps.clock.now().getTime()
  const { message } = await persistMessage(trx, prepared, 'SENDING', now, arkivmelding ?? undefined)
  await insertFiles(
    trx,
    fileRows(attachments, keys, now).map((f) => ({ ...f, message_fk: message.id })),
  )
  await enqueueSend(trx, prepared.messageId, prepared.serviceIdentifier, now)
}

/** The out_files rows of the attachments stored under `keys`, but their message's id. */
function fileRows(attachments: Attachment[], keys: string[], now: number) {
  return attachments.map((a, i) => ({
    dokumentnummer: a.dokumentnummer,
    filename: a.filename,
    title: a.title,
    mime_type: a.mimeType,
    size: a.size,
    primary_document: a.primaryDocument ? 1 : 0,
    storage_key: keys[i]!,
    sha256: a.part.sha256,
    created_at: now,
  }))
}

/**
 * Whether the send's rows go in one statement (storeSendInOneStatement): on PostgreSQL, where the payload
 * store can, with at least one file (an insert needs a row) and few enough that the statement's parameters
 * (about twenty per file) stay far under PostgreSQL's 65,535.
 */
function inOneStatement(deps: MultipartSendDeps, attachments: Attachment[]): boolean {
  return (
    deps.db.caps.name === 'postgres' &&
    deps.payloads.withInserted !== undefined &&
    attachments.length > 0 &&
    attachments.length <= ONE_STATEMENT_MAX_FILES
  )
}

/** Temp files renamed (or copied) into place; parts held in memory written under their keys. */
async function adoptOrWrite(payloads: PayloadStore, attachments: Attachment[], keys: string[]) {
  const moves: { key: string; tempPath: string }[] = []
  const held: { key: string; bytes: Buffer }[] = []
  attachments.forEach(({ part }, i) => {
    if (part.tempPath !== null) moves.push({ key: keys[i]!, tempPath: part.tempPath })
    else held.push({ key: keys[i]!, bytes: part.bytes! })
  })
  await payloads.adoptAll(moves)
  const noLimit = { maxBytes: Number.POSITIVE_INFINITY, onLimit: () => new Error('unreachable') }
  for (const { key, bytes } of held) await payloads.write(key, Readable.from([bytes]), noLimit)
}

async function readParts(deps: MultipartSendDeps, req: { headers: IncomingHttpHeaders; stream: Readable }) {
  try {
    return await readMultipart(req, {
      // only where small files are stored from memory; the file store renames temp files into place
      inMemoryBytes: deps.payloads.insertInTransaction ? IN_MEMORY_PART_BYTES : 0,
      tempDir: deps.payloads.tempDir,
      maxFileBytes: MULTIPART_MAX_FILE_BYTES,
      onFileTooLarge: (_field, filename) =>
        new ApiError('MultipartFileToLarge', [filename, MULTIPART_MAX_FILE_BYTES]),
      maxFields: 50,
      maxFieldBytes: 20 * 1024 * 1024,
      maxParts: 1000,
      retain: { filename: ARKIVMELDING_FILE, maxBytes: ARKIVMELDING_IN_MEMORY_BYTES },
      syncFiles: deps.payloads.tempFilesNeedSync,
    })
  } catch (error) {
    if (error instanceof MultipartError) {
      throw new ApiError('MultipartFailed', [], {
        message: `Failed to parse multipart servlet request: ${error.message}`,
        cause: error,
      })
    }
    throw error
  }
}

/** A part's bytes: those it holds, else its temp file's, checked against the size its writer counted. */
async function partBytes(part: MultipartFilePart<string | null>): Promise<Buffer> {
  if (part.bytes) return part.bytes
  // a part without its bytes is in its temp file (the parser holds a part in memory or writes it out)
  const data = await readFile(part.tempPath!)
  if (data.length !== part.size)
    throw new Error(`${part.tempPath} holds ${data.length} bytes where ${part.size} were written`)
  return data
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ApiError('MessageNotReadable', [`JSON parse error: ${(error as Error).message}`], {
      cause: error,
    })
  }
}

/**
 * As the reference: every occurrence of a repeated filename is listed; names that differ only in case or
 * Unicode form count as repeated, since they overwrite each other when the container is unpacked.
 */
function rejectDuplicates(files: MultipartFilePart<string | null>[]): void {
  const keys = files.map((f) => documentNameKey(f.filename))
  const repeated = files
    .filter((_, i) => keys.indexOf(keys[i]!) !== keys.lastIndexOf(keys[i]!))
    .map((f) => f.filename)
  if (repeated.length) throw new ApiError('DuplicateFilename', [repeated.join(', ')])
}

function checkFiles(
  deps: MultipartSendDeps,
  prepared: PreparedMessage,
  parts: MultipartFilePart<string | null>[],
): Attachment[] {
  const limit = uploadLimit(deps, prepared.serviceIdentifier)
  const accepted: Attachment[] = []
  for (const part of parts) {
    checkFilename(part.filename)
    const file = {
      filename: part.filename,
      title: part.fieldName.trim() ? part.fieldName : null,
      mimeType: mimeTypeFor(part.filename, part.mimeType),
      size: part.size,
    }
    const refused = checkNewFile({
      sbd: prepared.sbd,
      serviceIdentifier: prepared.serviceIdentifier,
      existing: accepted,
      file,
      limitBytes: limit,
    })
    if (refused) throw refused
    accepted.push({
      ...file,
      primaryDocument: isPrimaryDocument(prepared.sbd, part.filename),
      dokumentnummer: accepted.length + 1,
      part,
    })
  }
  return accepted
}

async function readArkivmelding(attachments: Attachment[]) {
  const file = attachments.find((a) => a.filename === ARKIVMELDING_FILE)
  if (!file) return null
  if (file.size > MAX_ARKIVMELDING_BYTES) {
    throw new ApiError('UnmarshalArkivmelding', [], {
      message: `arkivmelding.xml is larger than ${MAX_ARKIVMELDING_BYTES} bytes`,
    })
  }
  const text = (await partBytes(file.part)).toString('utf8')
  return parseArkivmelding(text)
}
