/**
 * The StandardBusinessDocument (SBD) as the NextMove API carries it in JSON: a header and exactly one
 * business message member, whose key is the message type (`documentIdentification.type`).
 */
import type { BusinessMessages, BusinessMessageType } from './business-messages.js'

/** The authority of organisation numbers (`0192:<orgnr>`), fødselsnummer and FIKS IO accounts. */
export const ISO6523_ACTORID_UPIS = 'iso6523-actorid-upis'
/** The authority of Norsk Helsenett identifiers (`her-id:<n>`, `fastlege-for:<fnr>`), DPH only. */
export const NHN_ACTORID = 'nhn-actorid'

export interface PartnerIdentification {
  /** `0192:<orgnr>`, `0192:<own orgnr>:<on behalf of orgnr>`, a fødselsnummer, or an NHN identifier */
  value: string
  authority: string
}

export interface ContactInformation {
  contact: string
  emailAddress?: string
  faxNumber?: string
  telephoneNumber?: string
  contactTypeIdentifier?: string
}

export interface Partner {
  identifier: PartnerIdentification
  contactInformation?: ContactInformation[]
}

export interface DocumentIdentification {
  /** the document type URN; ends with `::<type>`, e.g. `urn:no:difi:arkivmelding:xsd::arkivmelding` */
  standard: string
  typeVersion: string
  /** the messageId (a UUID); the server makes one when it is missing */
  instanceIdentifier?: string
  type: BusinessMessageType | string
  multipleType?: boolean
  /** ISO 8601 with offset; the server sets it when missing */
  creationDateAndTime?: string
}

export interface CorrelationInformation {
  requestingDocumentCreationDateTime?: string
  requestingDocumentInstanceIdentifier?: string
  /** only the first one of the ConversationId scope counts: the message's time to live */
  expectedResponseDateTime?: string
}

export type ScopeType =
  | 'ConversationId'
  | 'SenderRef'
  | 'ReceiverRef'
  | 'JournalpostId'
  | 'ParentId'
  | 'MessageChannel'

export interface Scope {
  type: ScopeType | string
  /** ConversationId: the conversationId (UUID); SenderRef/ReceiverRef: the reference */
  instanceIdentifier?: string
  /** ConversationId: the process URN; MessageChannel: the channel */
  identifier?: string
  scopeInformation?: CorrelationInformation[]
}

export interface ManifestItem {
  mimeTypeQualifierCode?: string
  uniformResourceIdentifier?: string
  description?: string
  languageCode?: string
}

export interface StandardBusinessDocumentHeader {
  headerVersion: string
  /** at most one; the server fills in its own organisation when absent */
  sender?: Partner[]
  /** at most one; required except for `print` */
  receiver?: Partner[]
  documentIdentification: DocumentIdentification
  manifest?: { numberOfItems?: number; manifestItem?: ManifestItem[] }
  businessScope: { scope: Scope[] }
}

/** An SBD of one known type: the header and the member named `T`. */
export type StandardBusinessDocumentOf<T extends BusinessMessageType> = {
  standardBusinessDocumentHeader: StandardBusinessDocumentHeader
} & { [K in T]: BusinessMessages[K] }

/**
 * A StandardBusinessDocument: the header and exactly one business message member. Narrow it with
 * `'arkivmelding' in sbd`, or read it generically with `businessMessageOf(sbd)`.
 */
export type StandardBusinessDocument = {
  [T in BusinessMessageType]: StandardBusinessDocumentOf<T>
}[BusinessMessageType]
