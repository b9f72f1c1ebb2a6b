import type { ConversationRow, MessageStatusRow } from '../db/schema.js'
import { formatOslo } from '../util/time.js'

/**
 * The only place the Conversation and MessageStatus JSON (the reference's views `Views.Conversation` and
 * `Views.MessageStatus`) is built.
 */

export function toApiConversation(row: ConversationRow, statuses: MessageStatusRow[]) {
  return withoutNulls({
    id: row.id,
    conversationId: row.conversation_id,
    messageId: row.message_id,
    sender: row.sender,
    senderIdentifier: row.sender_identifier,
    receiver: row.receiver,
    receiverIdentifier: row.receiver_identifier,
    processIdentifier: row.process_identifier,
    documentIdentifier: row.document_identifier,
    messageReference: row.message_reference,
    messageTitle: row.message_title,
    lastUpdate: formatOslo(row.last_update),
    finished: row.finished === 1,
    expiry: row.expiry === null ? null : formatOslo(row.expiry),
    direction: row.direction,
    serviceIdentifier: row.service_identifier,
    externalSystemReference: row.external_system_reference,
    messageStatuses: statuses.map(toConversationStatus),
  })
}

function toConversationStatus(s: MessageStatusRow) {
  return withoutNulls({
    id: s.id,
    lastUpdate: formatOslo(s.last_update),
    status: s.status,
    description: s.description,
  })
}

export function toApiStatus(
  s: MessageStatusRow,
  conversation: Pick<ConversationRow, 'id' | 'conversation_id' | 'message_id'>,
) {
  return withoutNulls({
    id: s.id,
    lastUpdate: formatOslo(s.last_update),
    status: s.status,
    description: s.description,
    rawReceipt: s.raw_receipt,
    conversationId: conversation.conversation_id,
    messageId: conversation.message_id,
    convId: conversation.id,
  })
}

/** Jackson NON_NULL: null members are left out. */
export function withoutNulls<T extends Record<string, unknown>>(
  obj: T,
): { [K in keyof T]: Exclude<T[K], null> } {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) if (v !== null && v !== undefined) out[k] = v
  return out as { [K in keyof T]: Exclude<T[K], null> }
}
