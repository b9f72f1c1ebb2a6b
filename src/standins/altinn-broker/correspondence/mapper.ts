import type { CorrespondenceRequest } from './form.js'
import type { Derived } from './status.js'
import type { AttachmentRow, CorrespondenceRow } from './store.js'

/**
 * The only place that builds the JSON of a correspondence: Altinn's overview (`CorrespondenceOverviewExt`)
 * and the sandbox's item. Times always carry an offset: the integration point refuses a time with
 * neither an offset nor a fraction.
 */
export const iso = (ms: number | null) =>
  ms === null ? null : new Date(ms).toISOString().replace(/Z$/, '+00:00')

const STATUS_TEXT: Record<string, string> = {
  Initialized: 'Initialized',
  ReadyForPublish: 'Ready for publish',
  Published: 'Published',
  Read: 'Read',
  Reserved: 'Recipient has reserved themselves from digital communication',
  PurgedByRecipient: 'Purged by the recipient',
  PurgedByAltinn: 'Purged by Altinn',
}

const requestOf = (row: CorrespondenceRow) => JSON.parse(row.request) as CorrespondenceRequest

function contentOf(row: CorrespondenceRow, attachments: AttachmentRow[]) {
  const content = requestOf(row).content
  return {
    language: content?.language ?? null,
    messageTitle: content?.messageTitle ?? null,
    messageSummary: content?.messageSummary ?? null,
    messageBody: content?.messageBody ?? null,
    attachments: attachments.map((a) => ({
      id: a.id,
      fileName: a.file_name,
      displayName: a.display_name,
      isEncrypted: a.is_encrypted === 1,
      sendersReference: a.senders_reference,
      dataType: null,
      status: 'Published',
    })),
  }
}

/** Altinn shows the content to the recipient, and to the sender only before publication. */
export function toOverview(
  row: CorrespondenceRow,
  d: Derived,
  attachments: AttachmentRow[],
  asRecipient: boolean,
): Record<string, unknown> {
  const r = requestOf(row)
  const showContent = asRecipient || d.published === null
  return {
    correspondenceId: row.id,
    resourceId: row.resource_id,
    sendersReference: row.senders_reference,
    sender: row.sender,
    messageSender: r.messageSender ?? null,
    recipient: row.recipient,
    content: showContent ? contentOf(row, attachments) : null,
    created: iso(row.created),
    requestedPublishTime: iso(r.requestedPublishTime ?? row.created),
    dueDateTime: iso(r.dueDateTime ?? null),
    status: d.status,
    statusText: d.status === 'Failed' ? (row.failed_reason ?? 'Failed') : (STATUS_TEXT[d.status] ?? d.status),
    statusChanged: iso(d.statusChanged),
    published: iso(d.published),
    read: iso(d.read),
    notifications: (JSON.parse(row.notifications) as { orderId: string; isReminder: boolean }[]).map((n) => ({
      notificationOrderId: n.orderId,
      isReminder: n.isReminder,
    })),
    propertyList: r.propertyList,
    externalReferences: [],
    replyOptions: [],
    ignoreReservation: r.ignoreReservation,
    isConfirmationNeeded: r.isConfirmationNeeded,
    isConfidential: r.isConfidential,
    altinn2CorrespondenceId: null,
  }
}

/** What a person or a test checks: who sent what to whom, where it stands, the files and the form as sent. */
export function toSandboxItem(
  row: CorrespondenceRow,
  d: Derived,
  attachments: AttachmentRow[],
): Record<string, unknown> {
  const r = requestOf(row)
  return {
    correspondenceId: row.id,
    sendersReference: row.senders_reference,
    idempotentKey: row.idempotent_key,
    sender: row.sender,
    resourceId: row.resource_id,
    recipient: row.recipient,
    status: d.status,
    statusChanged: iso(d.statusChanged),
    failedReason: d.status === 'Failed' ? row.failed_reason : null,
    created: iso(row.created),
    published: iso(d.published),
    read: iso(d.read),
    title: r.content?.messageTitle ?? null,
    summary: r.content?.messageSummary ?? null,
    body: r.content?.messageBody ?? null,
    statuses: d.events.map((e) => ({ status: e.status, at: iso(e.at) })),
    attachments: attachments.map((a) => ({
      attachmentId: a.id,
      fileName: a.file_name,
      displayName: a.display_name,
      size: a.size,
      sha256: a.sha256,
    })),
    fields: Object.fromEntries(JSON.parse(row.fields) as [string, string][]),
  }
}

/** The response to an upload (`InitializeCorrespondencesResponseExt`). */
export function toInitializeResponse(
  rows: Omit<CorrespondenceRow, 'seq'>[],
  attachmentIds: string[],
  statusOf: (row: Omit<CorrespondenceRow, 'seq'>) => string,
) {
  return {
    correspondences: rows.map((row) => ({
      correspondenceId: row.id,
      status: statusOf(row),
      recipient: row.recipient,
      notifications: (JSON.parse(row.notifications) as { orderId: string; isReminder: boolean }[]).map(
        (n) => ({
          orderId: n.orderId,
          isReminder: n.isReminder,
          status: 'Success',
        }),
      ),
    })),
    attachmentIds,
  }
}
