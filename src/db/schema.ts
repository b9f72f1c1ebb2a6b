import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely'

/**
 * Tables of the integration point. Times are epoch milliseconds (bigint), flags are 0/1 integers and
 * JSON is text, so SQLite and PostgreSQL store and compare them alike.
 */
export interface Database {
  out_messages: OutMessageTable
  out_files: OutFileTable
  out_uploads: OutUploadTable
  conversations: ConversationTable
  message_statuses: MessageStatusTable
  jobs: JobTable
  in_messages: InMessageTable
  received: ReceivedTable
  handovers: HandoverTable
  leases: LeaseTable
  instances: InstanceTable
  webhook_subscriptions: WebhookSubscriptionTable
  status_queue: StatusQueueTable
  payloads: PayloadTable
  payload_chunks: PayloadChunkTable
}

export interface OutMessageTable {
  id: Generated<number>
  message_id: string
  conversation_id: string
  process_identifier: string | null
  document_identifier: string | null
  type: string
  receiver_identifier: string | null
  sender_identifier: string | null
  service_identifier: string
  /** the stored SBD, as the API shows it (JSON) */
  sbd: string
  /** CREATED until `POST /api/messages/out/{id}` commits a send job, then SENDING */
  state: 'CREATED' | 'SENDING'
  created_at: number
  last_updated: number
}

export interface OutFileTable {
  id: Generated<number>
  message_fk: number
  dokumentnummer: number
  filename: string
  title: string | null
  mime_type: string
  size: number
  primary_document: number
  storage_key: string
  sha256: string
  /** CRC-32 counted as it was stored (unsigned); null when not counted (0010-out-file-crc32.ts) */
  crc32: number | null
  created_at: number
}

/** An upload of a file to an outgoing message still streaming; its instance renews the lease. */
export interface OutUploadTable {
  id: Generated<number>
  message_fk: number
  lease_until: number
  created_at: number
}

export interface ConversationTable {
  id: Generated<number>
  conversation_id: string
  message_id: string
  sender: string | null
  sender_identifier: string | null
  receiver: string | null
  receiver_identifier: string | null
  process_identifier: string | null
  document_identifier: string | null
  message_reference: string | null
  message_title: string | null
  service_identifier: string
  direction: 'OUTGOING' | 'INCOMING'
  expiry: number | null
  finished: number
  pollable: number
  external_system_reference: string | null
  created_at: number
  last_update: number
  /** the newest status (migration 0004), kept by registerStatus; null until the first */
  latest_status: ColumnType<string | null, string | null | undefined, string | null>
  /**
   * JSON list of the files an outgoing message carried (KeptFile[], migration 0004), written when the
   * message leaves the outbox, so the operator's page still names them after the payload is gone
   */
  files: ColumnType<string | null, string | null | undefined, string | null>
}

export interface MessageStatusTable {
  id: Generated<number>
  conversation_fk: number
  status: string
  description: string | null
  raw_receipt: string | null
  last_update: number
}

export interface JobTable {
  id: Generated<number>
  kind: string
  /** JSON */
  payload: string
  message_id: string | null
  /** a job with the same key is not enqueued twice */
  dedupe_key: string | null
  run_at: number
  attempts: number
  max_attempts: number
  locked_by: string | null
  locked_until: number | null
  last_error: string | null
  /** PENDING, DONE or FAILED (given up) */
  state: 'PENDING' | 'DONE' | 'FAILED'
  created_at: number
  updated_at: number
}

/** The incoming queue: what the fagsystem takes with peek, pop and delete. */
export interface InMessageTable {
  id: Generated<number>
  message_id: string
  conversation_id: string
  service_identifier: string
  /** the business message type (`arkivmelding`, `arkivmelding_kvittering`, ...) */
  type: string
  process_identifier: string | null
  /** primary identifiers, as the reference stores them (`910075918`, no `0192:`) */
  sender_identifier: string | null
  receiver_identifier: string | null
  /** the SBD as received (JSON) */
  sbd: string
  /** payload store key of the ASiC-E, still CMS-encrypted to our certificate; null when none came */
  asic_key: string | null
  asic_size: number | null
  /** locked until this time (epoch ms); null or past = unlocked */
  lock_timeout: number | null
  created_at: number
  last_updated: number
}

/** Everything ever received, kept after delete: a copy delivered again is recognised for good. */
export interface ReceivedTable {
  id: Generated<number>
  /** the messageId; `<messageId>/<status>` for status messages, which reuse the original's id */
  dedupe_key: string
  message_id: string
  service_identifier: string
  /** the broker's own id of the delivery (DPO: the fileTransferId) */
  transfer_ref: string | null
  received_at: number
}

/**
 * What a channel handed to its service, by purpose (`send:<messageId>`, `status:<messageId>:<status>`),
 * with the service's own reference (DPO: the file transfer's id), so a retry finds it (migration 0008;
 * was `broker_transfers`).
 */
export interface HandoverTable {
  id: Generated<number>
  purpose: string
  ref: string
  created_at: number
}

/** A singleton background task and the instance running it until `lease_until` (migration 0008). */
export interface LeaseTable {
  name: string
  holder: string
  lease_until: number
}

/** A running integration point's heartbeat (migration 0008). */
export interface InstanceTable {
  /** the worker id its jobs and leases carry */
  id: string
  host: string
  pid: number
  url: string | null
  /** `database` or `files` */
  payload_store: string
  /** JSON list of the services it can deliver */
  services: string
  version: string
  started_at: number
  seen_at: number
}

/** A webhook subscription (`/api/subscriptions`) and how its deliveries fare. */
export interface WebhookSubscriptionTable {
  id: Generated<number>
  name: string
  push_endpoint: string
  /** `all` or `messages` */
  resource: string
  /** `all` or `status` */
  event: string
  filter: string | null
  /** ours: the HMAC-SHA256 key that signs each delivery; never shown by the API */
  secret: string | null
  created_at: number
  /** the first failed delivery since the last one that succeeded; null while all is well */
  failing_since: number | null
  last_error: string | null
  last_error_at: number | null
  last_delivered_at: number | null
  /** deliveries given up for good */
  given_up: number
}

/** The status queue (`GET /api/statuses/peek`): one entry per status, until the client deletes it. */
export interface StatusQueueTable {
  id: Generated<number>
  status_fk: number
  service_identifier: string
  created_at: number
}

/** A payload kept in the database (src/files/db-payload-store.ts); `key` is null while it is staged. */
export interface PayloadTable {
  id: Generated<number>
  key: string | null
  size: number
  sha256: string
  created_at: number
  /** when it got its key; while staged, when its writer last added a chunk */
  written_at: number
}

/** A payload's bytes, in order of `seq` from 0; removed with their payload. */
export interface PayloadChunkTable {
  payload_fk: number
  seq: number
  data: Buffer
}

export type WebhookSubscriptionRow = Selectable<WebhookSubscriptionTable>
export type NewWebhookSubscription = Insertable<WebhookSubscriptionTable>
export type InMessageRow = Selectable<InMessageTable>
export type NewInMessage = Insertable<InMessageTable>
export type ReceivedRow = Selectable<ReceivedTable>
export type OutMessageRow = Selectable<OutMessageTable>
export type NewOutMessage = Insertable<OutMessageTable>
export type OutFileRow = Selectable<OutFileTable>
export type NewOutFile = Insertable<OutFileTable>
export type ConversationRow = Selectable<ConversationTable>
export type NewConversation = Insertable<ConversationTable>
export type ConversationUpdate = Updateable<ConversationTable>
export type MessageStatusRow = Selectable<MessageStatusTable>
export type JobRow = Selectable<JobTable>
export type InstanceRow = Selectable<InstanceTable>
