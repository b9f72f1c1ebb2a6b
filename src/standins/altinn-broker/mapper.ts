import type { FileTransferStatus, RecipientRow, RecipientStatus, TransferRow } from './store.js'

/** The only place that builds `FileTransferOverviewExt` (field names and order as the OpenAPI spec). */

const STATUS_TEXT: Record<FileTransferStatus, string> = {
  Initialized: 'File transfer initialized, waiting for upload',
  UploadStarted: 'The upload has started',
  UploadProcessing: 'The upload is being processed',
  Published: 'Published and ready for download by the recipients',
  Cancelled: 'The file transfer was cancelled',
  AllConfirmedDownloaded: 'Every recipient has confirmed the download',
  Purged: 'The file has been purged',
  Failed: 'The file transfer failed',
}

const RECIPIENT_TEXT: Record<RecipientStatus, string> = {
  Initialized: 'Waiting for the recipient to download',
  DownloadStarted: 'The recipient has started a download',
  DownloadConfirmed: 'The recipient has confirmed the download',
}

const iso = (ms: number) => new Date(ms).toISOString()

export function toOverview(row: TransferRow, recipients: RecipientRow[]): Record<string, unknown> {
  return {
    fileTransferId: row.id,
    resourceId: row.resource_id,
    fileName: row.file_name,
    sendersFileTransferReference: row.senders_reference,
    checksum: row.checksum,
    useVirusScan: row.use_virus_scan === 1,
    fileTransferSize: row.size,
    fileTransferStatus: row.status,
    fileTransferStatusText: STATUS_TEXT[row.status],
    fileTransferStatusChanged: iso(row.status_changed),
    created: iso(row.created),
    expirationTime: iso(row.expires),
    sender: row.sender,
    recipients: recipients.map((r) => ({
      recipient: r.recipient,
      currentRecipientFileTransferStatusCode: r.status,
      currentRecipientFileTransferStatusText: RECIPIENT_TEXT[r.status],
      currentRecipientFileTransferStatusChanged: iso(r.changed),
    })),
    propertyList: row.property_list === null ? null : JSON.parse(row.property_list),
  }
}

/**
 * The only place that builds a transfer as the sandbox API shows it: what a person or a test checks
 * (who sent what to whom, where it stands), and `downloads`, how many times the whole file went out to
 * a recipient, which Altinn's API does not tell.
 */
export function toSandboxTransfer(row: TransferRow, recipients: RecipientRow[]): Record<string, unknown> {
  return {
    fileTransferId: row.id,
    sendersFileTransferReference: row.senders_reference,
    sender: row.sender,
    recipients: recipients.map((r) => ({ recipient: r.recipient, status: r.status })),
    fileTransferStatus: row.status,
    fileTransferSize: row.size,
    created: iso(row.created),
    downloads: row.downloads,
  }
}
