/**
 * Sending: one multipart request when every file is small, else create, upload each file, send. The
 * messageId is the idempotency key, set before the first attempt; when a retried request's answer says
 * the first attempt already landed (the message exists, the file is there, the message is gone from
 * the outbox because it was sent), that is the success it looks like, and nothing is sent twice.
 */
import { conversationIdOf, messageIdOf, withIds } from './accessors.js'
import { contentDisposition } from './content-disposition.js'
import { type ApiError, apiErrorFor, NetworkError } from './errors.js'
import {
  type OutgoingFile,
  type PreparedFile,
  Progress,
  type ProgressCallback,
  prepareFiles,
  streamOf,
} from './files.js'
import { type Answer, type Http, parseJson } from './http.js'
import type { Conversation, MessageStatus, Page } from './models/api.js'
import type { StandardBusinessDocument } from './models/sbd.js'
import { multipartBody } from './multipart.js'

/** The reference's per-file ceiling for the one-step multipart send. */
export const MULTIPART_LIMIT = 5 * 1024 * 1024

export interface SendOptions {
  onProgress?: ProgressCallback
  signal?: AbortSignal
  /** default 5 MiB: every file at most this → one multipart request, else create/upload/send */
  multipartLimit?: number
}

export interface SendResult {
  messageId: string
  conversationId: string
  mode: 'multipart' | 'upload'
}

export async function send(
  http: Http,
  sbd: StandardBusinessDocument,
  files: readonly OutgoingFile[],
  opts: SendOptions = {},
): Promise<SendResult> {
  const prepared = await prepareFiles(files)
  const doc = withIds(sbd)
  const progress = new Progress(prepared, opts.onProgress)
  const limit = opts.multipartLimit ?? MULTIPART_LIMIT
  if (prepared.every((f) => f.size <= limit)) return sendMultipart(http, doc, prepared, progress, opts.signal)
  return sendInSteps(http, doc, prepared, progress, opts.signal)
}

async function sendMultipart(
  http: Http,
  doc: StandardBusinessDocument,
  files: PreparedFile[],
  progress: Progress,
  signal: AbortSignal | undefined,
): Promise<SendResult> {
  const messageId = messageIdOf(doc)!
  const body = multipartBody(JSON.stringify(doc), files, progress)
  const answer = await http.request({
    method: 'POST',
    path: '/api/messages/out/multipart',
    headers: { 'content-type': body.contentType, 'content-length': String(body.length) },
    body: body.open,
    signal,
  })
  let conversationId: string | undefined
  if (answer.status === 200)
    conversationId =
      conversationIdOf(parseJson<StandardBusinessDocument>(answer)) ?? conversationIdOf(doc) ?? ''
  else if (landedBefore(answer, 'MessageAlreadyExistsException'))
    conversationId = await findSent(http, messageId)
  if (conversationId === undefined) throw failure(answer)
  for (const f of files) progress.done(f)
  return { messageId, conversationId, mode: 'multipart' }
}

async function sendInSteps(
  http: Http,
  doc: StandardBusinessDocument,
  files: PreparedFile[],
  progress: Progress,
  signal: AbortSignal | undefined,
): Promise<SendResult> {
  const messageId = messageIdOf(doc)!
  const conversationId = await create(http, doc, signal)
  try {
    for (const file of files) await upload(http, messageId, file, progress, signal)
    await sendCreated(http, messageId, signal)
  } catch (error) {
    // a refused or abandoned message would wait in the outbox until it expired; a network failure
    // leaves it, since the server may not have it as we think (the messageId stays spent either way)
    if (!(error instanceof NetworkError) && !isServerSide(error)) await discard(http, messageId)
    throw error
  }
  return { messageId, conversationId, mode: 'upload' }
}

async function create(http: Http, doc: StandardBusinessDocument, signal?: AbortSignal): Promise<string> {
  const messageId = messageIdOf(doc)!
  const answer = await http.request({ method: 'POST', path: '/api/messages/out', json: doc, signal })
  if (answer.status === 200)
    return conversationIdOf(parseJson<StandardBusinessDocument>(answer)) ?? conversationIdOf(doc) ?? ''
  if (landedBefore(answer, 'MessageAlreadyExistsException')) {
    const stored = await getOutgoing(http, messageId)
    if (stored) return conversationIdOf(stored) ?? conversationIdOf(doc) ?? ''
  }
  throw failure(answer)
}

async function upload(
  http: Http,
  messageId: string,
  file: PreparedFile,
  progress: Progress,
  signal?: AbortSignal,
) {
  const answer = await http.request({
    method: 'PUT',
    path: `/api/messages/out/${encodeURIComponent(messageId)}`,
    headers: {
      'content-type': file.mimeType,
      'content-disposition': contentDisposition('attachment', { name: file.title, filename: file.filename }),
      'content-length': String(file.size),
    },
    body: () => streamOf(() => progress.count(file)),
    signal,
  })
  if (answer.status !== 200 && !landedBefore(answer, 'DuplicateFilenameException')) throw failure(answer)
  progress.done(file)
}

async function sendCreated(http: Http, messageId: string, signal?: AbortSignal): Promise<void> {
  const path = `/api/messages/out/${encodeURIComponent(messageId)}`
  const answer = await http.request({ method: 'POST', path, signal })
  if (answer.status === 200) return
  // sent and already handed to the transport: it has left the outbox, its conversation remains
  if (answer.retried && answer.status === 404 && (await findSent(http, messageId)) !== undefined) return
  throw failure(answer)
}

/** The outgoing message while it waits in the outbox; undefined once it is gone (sent or deleted). */
export async function getOutgoing(
  http: Http,
  messageId: string,
): Promise<StandardBusinessDocument | undefined> {
  const answer = await http.request({
    method: 'GET',
    path: `/api/messages/out/${encodeURIComponent(messageId)}`,
  })
  if (answer.status === 404) return undefined
  return parseJson(http.check(answer))
}

/** The conversationId of a message this integration point has taken, by any trace of it; else undefined. */
async function findSent(http: Http, messageId: string): Promise<string | undefined> {
  const id = encodeURIComponent(messageId)
  const conversation = await http.request({ method: 'GET', path: `/api/conversations/messageId/${id}` })
  if (conversation.status === 200) return parseJson<Conversation>(conversation).conversationId
  const stored = await getOutgoing(http, messageId)
  if (stored) return conversationIdOf(stored)
  const statuses = http.check(await http.request({ method: 'GET', path: `/api/statuses/${id}` }))
  return parseJson<Page<MessageStatus>>(statuses).content[0]?.conversationId
}

/** A retried request refused for this exception: the lost first attempt did the work. */
function landedBefore(answer: Answer, exceptionName: string): boolean {
  return (
    answer.retried && answer.status === 400 && apiErrorFor(answerInit(answer)).exceptionName === exceptionName
  )
}

function failure(answer: Answer): ApiError {
  return apiErrorFor(answerInit(answer))
}

function answerInit(answer: Answer) {
  return { status: answer.status, statusText: answer.statusText, body: answer.text, path: answer.path }
}

function isServerSide(error: unknown): boolean {
  return typeof (error as ApiError).status === 'number' && (error as ApiError).status >= 500
}

async function discard(http: Http, messageId: string): Promise<void> {
  const path = `/api/messages/out/${encodeURIComponent(messageId)}`
  await http.request({ method: 'DELETE', path }).catch(() => undefined)
}
