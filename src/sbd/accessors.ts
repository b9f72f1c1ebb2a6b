/**
 * Small getters over a parsed SBD, as the reference's `StandardBusinessDocument`/`SBDUtil` helpers.
 * Scopes are found by their type name or the enum constant name (`ConversationId` or `CONVERSATION_ID`),
 * the first match winning (the reference takes "any" of its hash set).
 */
import { type ParsedDateTime, parseDateTime } from '../util/time.js'
import { type PartnerIdentifier, parseIdentifier } from './identifiers.js'
import type { MessageTypeName } from './message-types.js'
import { messageTypeByName } from './message-types.js'
import type { Partner, Scope, StandardBusinessDocument } from './types.js'

export const SCOPE_TYPES = {
  JOURNALPOST_ID: 'JournalpostId',
  CONVERSATION_ID: 'ConversationId',
  PARENT_ID: 'ParentId',
  SENDER_REF: 'SenderRef',
  RECEIVER_REF: 'ReceiverRef',
  MESSAGE_CHANNEL: 'MessageChannel',
} as const

export type ScopeTypeKey = keyof typeof SCOPE_TYPES

export function getScopes(sbd: StandardBusinessDocument): Scope[] {
  return sbd.standardBusinessDocumentHeader.businessScope?.scope ?? []
}

export function getScope(sbd: StandardBusinessDocument, key: ScopeTypeKey): Scope | undefined {
  return getScopes(sbd).find((s) => s.type === SCOPE_TYPES[key] || s.type === key)
}

/** documentIdentification.instanceIdentifier */
export function getMessageId(sbd: StandardBusinessDocument): string | undefined {
  return sbd.standardBusinessDocumentHeader.documentIdentification?.instanceIdentifier ?? undefined
}

export function getConversationScope(sbd: StandardBusinessDocument): Scope | undefined {
  return getScope(sbd, 'CONVERSATION_ID')
}

export function getConversationId(sbd: StandardBusinessDocument): string | undefined {
  return getConversationScope(sbd)?.instanceIdentifier ?? undefined
}

/** The process URN: the ConversationId scope's `identifier`. */
export function getProcess(sbd: StandardBusinessDocument): string | undefined {
  return getConversationScope(sbd)?.identifier ?? undefined
}

/** The document type (`documentIdentification.standard`). */
export function getStandard(sbd: StandardBusinessDocument): string | undefined {
  return sbd.standardBusinessDocumentHeader.documentIdentification?.standard ?? undefined
}

/** The business message type; parseSbd guarantees the header names the same type. */
export function getTypeName(sbd: StandardBusinessDocument): MessageTypeName | undefined {
  return (
    messageTypeByName(sbd.type) ??
    messageTypeByName(sbd.standardBusinessDocumentHeader.documentIdentification?.type)
  )
}

/** The message's time to live: the first scopeInformation of the ConversationId scope. */
export function getExpectedResponseDateTime(sbd: StandardBusinessDocument): ParsedDateTime | undefined {
  const value = getConversationScope(sbd)?.scopeInformation?.[0]?.expectedResponseDateTime
  return value ? parseDateTime(value) : undefined
}

function identifierOf(partners: Partner[] | null | undefined): PartnerIdentifier | undefined {
  const id = partners?.[0]?.identifier
  if (typeof id?.value !== 'string') return undefined
  return parseIdentifier(id.value, id.authority ?? '')
}

/** The first sender parsed with its authority; undefined when missing or not parseable. */
export function getSender(sbd: StandardBusinessDocument): PartnerIdentifier | undefined {
  return identifierOf(sbd.standardBusinessDocumentHeader.sender)
}

export function getReceiver(sbd: StandardBusinessDocument): PartnerIdentifier | undefined {
  return identifierOf(sbd.standardBusinessDocumentHeader.receiver)
}

/** The sender's reference: the SenderRef scope's `instanceIdentifier` (as `SBDUtil.getOptionalSenderRef`). */
export function getSenderRef(sbd: StandardBusinessDocument): string | undefined {
  return getScope(sbd, 'SENDER_REF')?.instanceIdentifier ?? undefined
}

export function getReceiverRef(sbd: StandardBusinessDocument): string | undefined {
  return getScope(sbd, 'RECEIVER_REF')?.instanceIdentifier ?? undefined
}

/** The message channel ("kanal"): the MessageChannel scope's `identifier`. */
export function getMessageChannel(sbd: StandardBusinessDocument): string | undefined {
  return getScope(sbd, 'MESSAGE_CHANNEL')?.identifier ?? undefined
}

/** `sikkerhetsnivaa` of `arkivmelding` and `digital` (the types that have one). */
export function getSikkerhetsnivaa(sbd: StandardBusinessDocument): number | undefined {
  const value = sbd.businessMessage.sikkerhetsnivaa
  return typeof value === 'number' ? value : undefined
}

/** `hoveddokument`: the filename of the primary document (no such field in `dialogmelding_kvittering`). */
export function getHoveddokument(sbd: StandardBusinessDocument): string | undefined {
  if (getTypeName(sbd) === 'dialogmelding_kvittering') return undefined
  const value = sbd.businessMessage.hoveddokument
  return typeof value === 'string' ? value : undefined
}

/** `tittel` of `digital` and `digital_dpv`. */
export function getTitle(sbd: StandardBusinessDocument): string | undefined {
  const type = getTypeName(sbd)
  if (type !== 'digital' && type !== 'digital_dpv') return undefined
  const value = sbd.businessMessage.tittel
  return typeof value === 'string' ? value : undefined
}
