/** Reading an SBD: its ids, type, process, parties and business message. */
import { randomUUID } from 'node:crypto'
import type { Scope, StandardBusinessDocument } from './models/sbd.js'

const HEADER = 'standardBusinessDocumentHeader'

function header(sbd: StandardBusinessDocument) {
  return sbd.standardBusinessDocumentHeader
}

function conversationScope(sbd: StandardBusinessDocument): Scope | undefined {
  return header(sbd)?.businessScope?.scope?.find((s) => s.type === 'ConversationId')
}

/** The messageId (`documentIdentification.instanceIdentifier`), if it has one. */
export function messageIdOf(sbd: StandardBusinessDocument): string | undefined {
  return header(sbd)?.documentIdentification?.instanceIdentifier || undefined
}

/** The conversationId (the ConversationId scope's `instanceIdentifier`), if it has one. */
export function conversationIdOf(sbd: StandardBusinessDocument): string | undefined {
  return conversationScope(sbd)?.instanceIdentifier || undefined
}

/** The process URN (the ConversationId scope's `identifier`). */
export function processOf(sbd: StandardBusinessDocument): string | undefined {
  return conversationScope(sbd)?.identifier || undefined
}

/** The message type: the business member's key (the header's `type` when the member is missing). */
export function typeOf(sbd: StandardBusinessDocument): string {
  const key = Object.keys(sbd).find((k) => k !== HEADER)
  return key ?? String(header(sbd)?.documentIdentification?.type ?? '')
}

/** The business message and its type, whatever the type. */
export function businessMessageOf(sbd: StandardBusinessDocument): {
  type: string
  message: Record<string, unknown>
} {
  const type = typeOf(sbd)
  const message = (sbd as unknown as Record<string, unknown>)[type]
  return { type, message: (message ?? {}) as Record<string, unknown> }
}

/**
 * The sender as the API's filters name it: the organisation number without `0192:` (the on-behalf-of
 * one for `0192:<own>:<customer>`), or the identifier as it is (a fødselsnummer, an NHN id).
 */
export function senderOf(sbd: StandardBusinessDocument): string | undefined {
  return bareIdentifier(header(sbd)?.sender?.[0]?.identifier?.value)
}

/** The receiver, as `senderOf` gives the sender. */
export function receiverOf(sbd: StandardBusinessDocument): string | undefined {
  return bareIdentifier(header(sbd)?.receiver?.[0]?.identifier?.value)
}

export function bareIdentifier(value: string | undefined): string | undefined {
  if (!value) return undefined
  const iso = /^\d{4}:([^:]+)(?::([^:]+))?$/.exec(value)
  return iso ? (iso[2] ?? iso[1]) : value
}

/**
 * A copy with a messageId and conversationId, generated where missing: the messageId must exist
 * before the first attempt, since it is what makes a retried send harmless.
 */
export function withIds(sbd: StandardBusinessDocument): StandardBusinessDocument {
  const copy = structuredClone(sbd)
  const h = header(copy)
  h.documentIdentification.instanceIdentifier ||= randomUUID()
  const scope = conversationScope(copy)
  if (scope) scope.instanceIdentifier ||= randomUUID()
  return copy
}
