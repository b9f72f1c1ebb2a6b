/**
 * The StandardBusinessDocument as the NextMove API carries it (JSON). Field order in these
 * interfaces is the order the reference serialises them in.
 */

export const ISO6523_ACTORID_UPIS = 'iso6523-actorid-upis'
export const NHN_ACTORID = 'nhn-actorid'

export const SERVICE_IDENTIFIERS = ['DPO', 'DPV', 'DPI', 'DPF', 'DPE', 'DPH'] as const
export type ServiceIdentifier = (typeof SERVICE_IDENTIFIERS)[number] | 'UNKNOWN'

export interface PartnerIdentification {
  value?: string | null
  authority?: string | null
}

export interface ContactInformation {
  contact?: string | null
  emailAddress?: string | null
  faxNumber?: string | null
  telephoneNumber?: string | null
  contactTypeIdentifier?: string | null
}

export interface Partner {
  identifier?: PartnerIdentification | null
  contactInformation?: ContactInformation[] | null
}

export interface DocumentIdentification {
  standard?: string | null
  typeVersion?: string | null
  instanceIdentifier?: string | null
  type?: string | null
  multipleType?: boolean | null
  creationDateAndTime?: string | null
}

export interface CorrelationInformation {
  requestingDocumentCreationDateTime?: string | null
  requestingDocumentInstanceIdentifier?: string | null
  expectedResponseDateTime?: string | null
}

export interface Scope {
  type?: string | null
  instanceIdentifier?: string | null
  identifier?: string | null
  scopeInformation?: CorrelationInformation[] | null
}

export interface StandardBusinessDocumentHeader {
  headerVersion?: string | null
  sender?: Partner[] | null
  receiver?: Partner[] | null
  documentIdentification?: DocumentIdentification | null
  manifest?: unknown
  businessScope?: { scope?: Scope[] | null } | null
}

/** A business message: the member of the SBD whose key is the message type. */
export type BusinessMessage = Record<string, unknown>

export interface StandardBusinessDocument {
  standardBusinessDocumentHeader: StandardBusinessDocumentHeader
  /** the key of the business message member, the canonical lowercase type name */
  type: string
  businessMessage: BusinessMessage
}
