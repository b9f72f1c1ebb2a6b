/** The JSON the NextMove API answers with, besides the SBD: capabilities, statuses, conversations, paging, webhooks. */
import type { BusinessMessageType } from './business-messages.js'

export type ServiceIdentifier = 'DPO' | 'DPV' | 'DPI' | 'DPF' | 'DPE' | 'DPH' | 'UNKNOWN'

export interface CapabilityPostAddress {
  name?: string
  street?: string
  postalCode?: string
  postalArea?: string
  country?: string
}

export interface Capability {
  process?: string
  serviceIdentifier: ServiceIdentifier
  /** DPI only */
  postAddress?: CapabilityPostAddress
  /** DPI only */
  returnAddress?: CapabilityPostAddress
  /** `type` is left out when the standard names no known message type */
  documentTypes: { type?: BusinessMessageType | string; standard: string }[]
  /** DPI only */
  digitalPostAddress?: { supplier?: string; address?: string }
}

export interface Capabilities {
  capabilities: Capability[]
}

export interface MessageStatus {
  /** the status's own id; the status queue's `deleteStatus(id)` takes it */
  id: number
  lastUpdate: string
  status: string
  description?: string
  rawReceipt?: string
  conversationId: string
  messageId: string
  /** the conversation's numeric id */
  convId: number
}

export interface ConversationStatus {
  id: number
  lastUpdate: string
  status: string
  description?: string
}

export interface Conversation {
  id: number
  conversationId: string
  messageId: string
  /** the full sender, e.g. `0192:910075918` (on behalf of: `0192:<own>:<customer>`) */
  sender?: string
  /** the organisation number (the on-behalf-of one when there is one) */
  senderIdentifier?: string
  receiver?: string
  receiverIdentifier?: string
  processIdentifier?: string
  documentIdentifier?: string
  messageReference?: string
  messageTitle?: string
  lastUpdate: string
  finished: boolean
  expiry?: string
  direction: 'OUTGOING' | 'INCOMING'
  serviceIdentifier?: ServiceIdentifier
  externalSystemReference?: string
  /** in no guaranteed order */
  messageStatuses: ConversationStatus[]
}

export interface SortInfo {
  sorted: boolean
  unsorted: boolean
  empty: boolean
}

/** The Spring Data page every list answers with; read it by field name (the order varies by version). */
export interface Page<T> {
  content: T[]
  pageable: {
    sort: SortInfo
    offset: number
    pageNumber: number
    pageSize: number
    unpaged: boolean
    paged: boolean
  }
  last: boolean
  totalPages: number
  totalElements: number
  size: number
  number: number
  sort: SortInfo
  numberOfElements: number
  first: boolean
  empty: boolean
}

/** Paging parameters of every list: `page` is 0-based, `size` at most 2000, `sort` like `id,asc`. */
export interface PageQuery {
  page?: number
  size?: number
  sort?: string | string[]
}

export interface StatusQuery extends PageQuery {
  id?: number
  messageId?: string
  conversationId?: string
  status?: string
  /** both bounds are needed: one alone is ignored by the server */
  fromDateTime?: string
  toDateTime?: string
}

export interface ConversationQuery extends PageQuery {
  conversationId?: string
  messageId?: string
  /** the full receiver, e.g. `0192:910077473` */
  receiver?: string
  /** the bare receiver, e.g. `910077473` */
  receiverIdentifier?: string
  sender?: string
  senderIdentifier?: string
  serviceIdentifier?: ServiceIdentifier
  messageReference?: string
  messageTitle?: string
  pollable?: boolean
  finished?: boolean
  direction?: 'OUTGOING' | 'INCOMING'
  /** `yyyy-MM-dd`, whole days in Europe/Oslo */
  lastUpdateFrom?: string
  lastUpdateTo?: string
}

export interface Subscription {
  id: number
  name: string
  pushEndpoint: string
  resource: 'all' | 'messages' | string
  event: 'all' | 'status' | string
  /** e.g. `status=FEIL,LEVETID_UTLOPT&direction=OUTGOING` */
  filter?: string
  /** this server's account of how deliveries fare (not in the reference) */
  delivery?: {
    signed?: boolean
    failingSince?: string
    lastError?: string
    lastErrorAt?: string
    lastDeliveredAt?: string
    givenUp?: number | boolean
  }
}

export interface NewSubscription {
  name: string
  pushEndpoint: string
  resource: 'all' | 'messages'
  event: 'all' | 'status'
  filter?: string
  /** this server signs each delivery with it (16–256 characters); the reference has no secret */
  secret?: string
}
