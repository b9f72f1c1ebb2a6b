import { createReadStream, mkdirSync, renameSync, rmSync } from 'node:fs'
import type { IncomingHttpHeaders } from 'node:http'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import type pino from 'pino'
import { discardMultipart, MultipartError, readMultipart } from '../../../files/multipart.js'
import type { Clock } from '../../../util/time.js'
import type { BrokerFaults } from '../faults.js'
import { CorrespondenceError, ValidationProblem } from './errors.js'
import { type CorrespondenceRequest, isPerson, readCorrespondenceForm, recipientId } from './form.js'
import { uuidV7 } from './ids.js'
import { checkCorrespondence, MAX_ATTACHMENTS, MAX_FILE_BYTES } from './rules.js'
import { derive } from './status.js'
import type { AttachmentRow, CorrespondenceRow, CorrespondenceStore } from './store.js'

/** How the stand-in's Altinn behaves (docs/altinn-broker-standin.md, "Correspondence (DPV)"). */
export interface CorrespondenceSettings {
  /** from upload to ReadyForPublish when there are attachments (Altinn's malware scan); default 0 */
  scanDelayMs: number
  /** from max(requestedPublishTime, ReadyForPublish) to Published; default 1000 */
  publishDelayMs: number
  /** accept a search without `role` (as the reference's IP sends it), the caller taken as sender; default false */
  lenientSearch: boolean
  /** national identity numbers reserved against digital mail: a single such recipient gets 422 1030 */
  reservedPersons: string[]
  /** organisation or national identity numbers Altinn's register does not know: 404 1029 */
  unknownRecipients: string[]
  /** recipients whose correspondences fail at publication time instead of being published */
  failingRecipients: string[]
  /** organisation numbers allowed through the proxy prefix; undefined lets every organisation through */
  accessList?: string[]
  /** faults on the Correspondence API alone (the broker's `faults` hit it too) */
  faults?: BrokerFaults
}

export const DEFAULT_SETTINGS: CorrespondenceSettings = {
  scanDelayMs: 0,
  publishDelayMs: 1000,
  lenientSearch: false,
  reservedPersons: [],
  unknownRecipients: [],
  failingRecipients: [],
}

export interface CorrespondenceDeps {
  store: CorrespondenceStore
  clock: Clock
  logger: pino.Logger
  settings: CorrespondenceSettings
  /** `<dataDir>/correspondence`: `attachments/<id>` and `tmp/` */
  dir: string
}

const FORM_LIMITS = { maxFields: 5000, maxFieldBytes: 1024 * 1024, maxParts: 5000 + MAX_ATTACHMENTS }

export const attachmentPath = (deps: CorrespondenceDeps, id: string) => join(deps.dir, 'attachments', id)

/** Makes the folders and drops what an upload cut short by a crash left in `tmp/`. */
export function prepareFiles(dir: string): void {
  rmSync(join(dir, 'tmp'), { recursive: true, force: true })
  mkdirSync(join(dir, 'attachments'), { recursive: true })
}

/**
 * `POST …/correspondence/upload`: streams the form (files to disk, never whole in memory), binds it, runs
 * Altinn's checks, then moves the files into place and stores one correspondence per recipient.
 */
export async function uploadCorrespondence(
  deps: CorrespondenceDeps,
  sender: string,
  req: { headers: IncomingHttpHeaders; stream: Readable },
) {
  const form = await readForm(deps, req)
  try {
    const request = readCorrespondenceForm(form.fields)
    const files = form.files.filter((f) => f.fieldName.toLowerCase() === 'attachments')
    const now = deps.clock.now().getTime()
    const s = deps.settings
    const matched = checkCorrespondence(request, files, {
      now,
      keyExists: deps.store.keyExists,
      unknownRecipients: new Set(s.unknownRecipients),
      reservedPersons: new Set(s.reservedPersons),
    })
    const attachments: AttachmentRow[] = (request.content?.attachments ?? []).map((meta, i) => {
      const file = files[matched[i]!]!
      const row = {
        id: uuidV7(now),
        file_name: meta.fileName!,
        display_name: meta.displayName ?? null,
        senders_reference: meta.sendersReference!,
        is_encrypted: meta.isEncrypted ? 1 : 0,
        size: file.size,
        sha256: file.sha256,
      }
      renameSync(file.tempPath, attachmentPath(deps, row.id))
      return row
    })
    const rows = request.recipients.map((recipient) =>
      newRow(deps, sender, request, recipient, attachments, now, form.fields),
    )
    try {
      deps.store.insert(rows, attachments)
    } catch (error) {
      for (const a of attachments) rmSync(attachmentPath(deps, a.id), { force: true })
      // two uploads with one key at once: the second loses on the unique constraint, as at Altinn
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
        throw new CorrespondenceError(1034)
      throw error
    }
    return { rows, attachmentIds: attachments.map((a) => a.id), withAttachments: attachments.length > 0 }
  } finally {
    await discardMultipart(form)
  }
}

async function readForm(deps: CorrespondenceDeps, req: { headers: IncomingHttpHeaders; stream: Readable }) {
  try {
    return await readMultipart(req, {
      tempDir: join(deps.dir, 'tmp'),
      maxFileBytes: MAX_FILE_BYTES,
      onFileTooLarge: () => new CorrespondenceError(2004),
      ...FORM_LIMITS,
    })
  } catch (error) {
    if (error instanceof MultipartError) {
      // read the rest of a small malformed form, so the client, still writing it, gets the answer
      // instead of a broken pipe; a large one is cut off with the connection
      await drain(req.stream, 1024 * 1024)
      throw new ValidationProblem({ '': [error.message] })
    }
    throw error
  }
}

async function drain(stream: Readable, maxBytes: number): Promise<void> {
  let seen = 0
  try {
    for await (const chunk of stream) {
      seen += (chunk as Buffer).length
      if (seen > maxBytes) return
    }
  } catch {
    // the client went away: nothing to answer
  }
}

function newRow(
  deps: CorrespondenceDeps,
  sender: string,
  r: CorrespondenceRequest,
  recipient: string,
  attachments: AttachmentRow[],
  now: number,
  fields: Map<string, string>,
): Omit<CorrespondenceRow, 'seq'> {
  const s = deps.settings
  const id = recipientId(recipient)!
  const readyAt = attachments.length > 0 ? now + s.scanDelayMs : now
  const publishAt = Math.max(r.requestedPublishTime ?? now, readyAt) + s.publishDelayMs
  const failing = s.failingRecipients.includes(id)
  const notifications = r.notification
    ? [false, ...(r.notification.sendReminder ? [true] : [])].map((isReminder) => ({
        orderId: uuidV7(now),
        isReminder,
      }))
    : []
  return {
    id: uuidV7(now),
    idempotent_key: r.idempotentKey ?? null,
    sender,
    resource_id: r.resourceId,
    senders_reference: r.sendersReference,
    recipient,
    recipient_id: id,
    request: JSON.stringify(r),
    fields: JSON.stringify([...fields]),
    attachment_ids: JSON.stringify(attachments.map((a) => a.id)),
    notifications: JSON.stringify(notifications),
    created: now,
    ready_at: readyAt,
    publish_at: publishAt,
    fetched_at: null,
    read_at: null,
    failed_at: failing ? publishAt : null,
    failed_reason: failing
      ? `The recipient ${recipient} could not be reached (a configured failing recipient)`
      : null,
    // with several recipients a reserved person's copy is Reserved rather than the whole request refused
    reserved: isPerson(id) && s.reservedPersons.includes(id) && !r.ignoreReservation ? 1 : 0,
    purged_at: null,
    purged_by: null,
  }
}

/** The correspondence, or 1001 when it is unknown or purged (Altinn answers 404 to everyone then). */
export function existing(deps: CorrespondenceDeps, id: string): CorrespondenceRow {
  const row = deps.store.byId(id.toLowerCase())
  if (!row || derive(row, deps.clock.now().getTime()).purged) throw new CorrespondenceError(1001)
  return row
}

export const attachmentsOf = (deps: CorrespondenceDeps, row: CorrespondenceRow) =>
  deps.store.attachments(JSON.parse(row.attachment_ids) as string[])

/** A recipient's read: fetched first if it was not, then read; only a published correspondence can be read. */
export function markRead(deps: CorrespondenceDeps, row: CorrespondenceRow, requireFetched: boolean): void {
  const now = deps.clock.now().getTime()
  const d = derive(row, now)
  if (d.published === null || d.status === 'Failed') throw new NotReadable(row.id, d.status)
  if (requireFetched && row.fetched_at === null) throw new CorrespondenceError(1024)
  if (requireFetched && row.read_at !== null) throw new CorrespondenceError(1040)
  deps.store.setFetched(row.id, now)
  deps.store.setRead(row.id, now)
}

/** a read or fetch of a correspondence the recipient cannot see yet (or any more) */
export class NotReadable extends Error {
  override name = 'NotReadable'
  constructor(id: string, status: string) {
    super(`The correspondence ${id} is ${status}: only a published correspondence can be fetched or read`)
  }
}

export const openAttachment = (deps: CorrespondenceDeps, id: string) =>
  createReadStream(attachmentPath(deps, id))

/** Answers a stored attachment as a download, for the API and the sandbox page alike. */
export function sendAttachment(
  reply: FastifyReply,
  deps: CorrespondenceDeps,
  attachment: { id: string; size: number; file_name: string },
) {
  return reply
    .header('content-type', 'application/octet-stream')
    .header('content-length', attachment.size)
    .header(
      'content-disposition',
      `attachment; filename="${attachment.file_name.replace(/["\\\r\n]/g, '_')}"`,
    )
    .send(openAttachment(deps, attachment.id))
}
