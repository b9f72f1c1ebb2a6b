import { randomUUID } from 'node:crypto'
import type { Readable } from 'node:stream'
import type pino from 'pino'
import type { Clock } from '../../util/time.js'
import { type FileStore, TooLarge } from './files.js'
import { badRequest, conflict, forbidden, notFound } from './problem.js'
import type { BrokerStore, FileTransferStatus, RecipientStatus, TransferRow } from './store.js'
import type { FileTransferInitalizeExt } from './validation.js'

/**
 * The file transfer state machine (docs/altinn-broker-standin.md, "States"), without HTTP: initialize →
 * Initialized; upload → UploadStarted → Published (no virus scan here, so it publishes at once); download
 * moves the recipient to DownloadStarted, confirm to DownloadConfirmed, and when every recipient has
 * confirmed the transfer is AllConfirmedDownloaded; files go (Purged) after the grace period or at
 * `expirationTime`.
 */
export interface ResourceSettings {
  /** bytes; the DPO resource has 1 GiB */
  maxFileTransferSize: number
  /** `fileTransferTimeToLive`, P30D for DPO */
  fileTransferTimeToLiveMs: number
  /** `purgeFileTransferGracePeriod` after every recipient confirmed, PT24H for DPO */
  purgeGracePeriodMs: number
}

export const DPO_RESOURCE: ResourceSettings = {
  maxFileTransferSize: 1_073_741_824,
  fileTransferTimeToLiveMs: 30 * 86_400_000,
  purgeGracePeriodMs: 86_400_000,
}

export interface TransferDeps {
  store: BrokerStore
  files: FileStore
  clock: Clock
  logger: pino.Logger
  /** the settings of a resource; every resource id is served, with these settings */
  resource(resourceId: string): ResourceSettings
  /** told when a transfer is published, as Altinn's events tell subscribers (the sandbox polls at once) */
  onPublished?: (transfer: { fileTransferId: string; recipients: string[] }) => void
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const UPLOADED: FileTransferStatus[] = [
  'UploadStarted',
  'UploadProcessing',
  'Published',
  'AllConfirmedDownloaded',
]

export function initialize(deps: TransferDeps, caller: string, body: FileTransferInitalizeExt): string {
  if (body.sender !== caller) {
    throw forbidden(`The sender ${body.sender} is not the organisation of the token (${caller})`)
  }
  const now = deps.clock.now().getTime()
  const id = randomUUID()
  deps.store.insertTransfer(
    {
      id,
      resource_id: body.resourceId,
      file_name: body.fileName,
      senders_reference: body.sendersFileTransferReference ?? null,
      sender: body.sender,
      checksum: body.checksum ?? null,
      use_virus_scan: body.disableVirusScan === true ? 0 : 1,
      property_list: body.propertyList ? JSON.stringify(body.propertyList) : null,
      size: 0,
      status: 'Initialized',
      status_changed: now,
      created: now,
      expires: now + deps.resource(body.resourceId).fileTransferTimeToLiveMs,
    },
    body.recipients,
  )
  return id
}

/** Streams the body to disk within the resource's limit, then publishes; a refused upload can be retried. */
export async function upload(
  deps: TransferDeps,
  caller: string,
  id: string,
  body: Readable,
  declaredLength: number | undefined,
): Promise<void> {
  const row = find(deps, id)
  if (row.sender !== caller) throw forbidden('Only the sender may upload to a file transfer')
  if (UPLOADED.includes(row.status)) throw conflict('A file has already been uploaded to this file transfer')
  if (row.status !== 'Initialized') throw badRequest(`The file transfer is ${row.status}`)
  const limit = deps.resource(row.resource_id).maxFileTransferSize
  if (declaredLength !== undefined && declaredLength > limit) throw tooLarge(limit)
  if (!deps.store.setStatus(id, ['Initialized'], 'UploadStarted', deps.clock.now().getTime())) {
    throw conflict('A file has already been uploaded to this file transfer')
  }
  try {
    const stored = await deps.files.write(id, body, limit)
    if (row.checksum !== null && row.checksum.toLowerCase() !== stored.md5) {
      deps.files.remove(id)
      throw badRequest(
        `The checksum ${row.checksum} does not match the MD5 of the uploaded file (${stored.md5})`,
      )
    }
    deps.store.publish(id, stored.size, stored.md5, deps.clock.now().getTime())
    if (deps.onPublished) {
      const recipients = deps.store.recipients(id).map((r) => r.recipient)
      try {
        deps.onPublished({ fileTransferId: id, recipients })
      } catch (err) {
        deps.logger.warn({ err, fileTransferId: id }, 'a publish subscriber failed')
      }
    }
  } catch (error) {
    // back to Initialized, so the sender can try again (the stored part is already gone)
    deps.store.setStatus(id, ['UploadStarted'], 'Initialized', deps.clock.now().getTime())
    if (error instanceof TooLarge) {
      deps.logger.warn({ fileTransferId: id, received: error.received, limit }, 'upload refused: too large')
      throw tooLarge(limit)
    }
    throw error
  }
}

/** The transfer for its sender or one of its recipients; anyone else is told it does not exist. */
export function overview(deps: TransferDeps, caller: string, id: string): TransferRow {
  const row = find(deps, id)
  if (row.sender !== caller && recipientOf(deps, row, caller) === undefined) throw missing(id)
  return row
}

/** Opens the file for a recipient and marks its download started. */
export function download(deps: TransferDeps, caller: string, id: string) {
  const { row, recipient } = asRecipient(deps, caller, id)
  if (row.status !== 'Published' && row.status !== 'AllConfirmedDownloaded') {
    throw badRequest(`The file transfer is ${row.status}: there is no file to download`)
  }
  if (recipient.status === 'Initialized') {
    deps.store.setRecipientStatus(id, recipient.recipient, 'DownloadStarted', deps.clock.now().getTime())
  }
  return { row, stream: deps.files.read(id) }
}

export function confirmDownload(deps: TransferDeps, caller: string, id: string): void {
  const { row, recipient } = asRecipient(deps, caller, id)
  if (recipient.status === 'Initialized') {
    throw badRequest('Cannot confirm the download of a file transfer before it has been downloaded')
  }
  if (row.status !== 'Published' && row.status !== 'AllConfirmedDownloaded') {
    throw badRequest(`The file transfer is ${row.status}`)
  }
  // a second confirm changes nothing and answers 200, so a client may retry after a lost answer
  deps.store.confirm(id, recipient.recipient, deps.clock.now().getTime())
}

/** Removes the files of expired transfers and of those every recipient confirmed a grace period ago. */
export function purgeDue(deps: TransferDeps): void {
  const now = deps.clock.now().getTime()
  const grace = deps.resource('').purgeGracePeriodMs
  for (const id of deps.store.duePurge(now, now - grace)) {
    deps.files.remove(id)
    const row = deps.store.transfer(id)
    if (row) deps.store.setStatus(id, [row.status], 'Purged', now)
  }
}

/** How a recipient may be written: `0192:910075918`, or the bare organisation number. */
export function recipientForms(org: string): string[] {
  return [org, org.replace(/^0192:/, '')]
}

function asRecipient(deps: TransferDeps, caller: string, id: string) {
  const row = find(deps, id)
  const recipient = recipientOf(deps, row, caller)
  if (recipient) return { row, recipient }
  if (row.sender === caller) throw forbidden('Only a recipient of the file transfer may do this')
  throw missing(id)
}

function recipientOf(deps: TransferDeps, row: TransferRow, caller: string) {
  const forms = recipientForms(caller)
  return deps.store.recipients(row.id).find((r) => forms.includes(r.recipient))
}

function find(deps: TransferDeps, id: string): TransferRow {
  if (!UUID.test(id)) throw badRequest(`The fileTransferId '${id}' is not a UUID`)
  const row = deps.store.transfer(id.toLowerCase())
  if (!row) throw missing(id)
  return row
}

const missing = (id: string) => notFound(`The file transfer ${id} was not found`)
const tooLarge = (limit: number) =>
  badRequest(`The file transfer is larger than the resource's maxFileTransferSize of ${limit} bytes`)

export type { RecipientStatus }
