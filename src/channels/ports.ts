// What a channel (one service: DPO, DPV, DPF, DPE, DPI, DPH) offers the integration point, and what the
// integration point offers it. Generic code (start-up, the send jobs, uploads, health, retention, the
// sandbox) reaches a service only through these types and the registry (registry.ts), so adding a
// service is its folder under src/channels/, one line in the registry and its configuration keys.

import type { Logger } from 'pino'
import type { Config } from '../config/types.js'
import type { Migration } from '../db/migrations.js'
import type { Db } from '../db/open.js'
import type { OutFileRow } from '../db/schema.js'
import type { ErrorCode } from '../errors/catalogue.js'
import type { PayloadStore } from '../files/payload-store.js'
import type { AsicVerdict } from '../packaging/asic-verify.js'
import type { BusinessKeys } from '../packaging/keys.js'
import type { ServiceRegistry } from '../registry/client.js'
import type { ServiceIdentifier, StandardBusinessDocument } from '../sbd/types.js'
import type { Clock } from '../util/time.js'

/** One message (or status message) for the channel to hand to its service. */
export interface OutgoingDelivery {
  /**
   * Names this delivery for the channel's idempotency record (handovers.ts): `send:<messageId>` for a
   * message, `status:<messageId>:<status>` for a status message. A retry carries the same purpose.
   */
  purpose: string
  sbd: StandardBusinessDocument
  files: readonly OutFileRow[]
}

/**
 * How a send ended. `delivered`: the service has the message (SENDT). `retry`: a passing failure, try
 * again later. `failed`: the service refused it for good (FEIL with the reason). `expired`: the service
 * says its time to live ran out (LEVETID_UTLOPT).
 *
 * A delivery may carry the service's `reference` for it (DPV's correspondence id): kept as the
 * conversation's externalSystemReference, and the conversation is then polled (the channel's status
 * pollers ask about it through `StatusPort`). `statuses` are registered right after SENDT, in the same
 * transaction (a receipt the service does not carry: LEVERT and LEST; a note: ANNET).
 */
export type SendOutcome =
  | { outcome: 'delivered'; reference?: string; statuses?: readonly StatusUpdate[] }
  | { outcome: 'retry'; reason: string }
  | { outcome: 'failed'; reason: string }
  | { outcome: 'expired'; reason: string }

/**
 * A round of background work on a schedule (receiving, or asking the service about statuses), run by
 * one instance at a time: the integration point holds a lease named `name` in the database while it
 * runs, so several instances on one database never poll the same account at once, and another takes
 * over when the holder dies. A round must be idempotent: it may run again after a crash mid-way.
 */
export interface Poller {
  /** the lease's name, unique across channels: `poll:<service>:<incoming|status>:<account>` */
  name: string
  kind: 'incoming' | 'status'
  intervalMs: number
  /** one round; returns how much it did (more may be waiting then, so it runs again at once) */
  tick(): Promise<number>
}

/** A status for an outgoing message's conversation. */
export interface StatusUpdate {
  status: string
  description?: string
  /** what the service said, kept with the status */
  rawReceipt?: string
}

/** An outgoing message whose status the channel still asks its service about. */
export interface PolledMessage {
  messageId: string
  /** the service's reference (SendOutcome.reference) */
  reference: string
  /** the business message type (`arkivmelding`, `digital_dpv`, ...) */
  type: string | null
  /** the statuses it has so far */
  statuses: readonly string[]
}

/**
 * The channel's way to the statuses of what it sent. Registering is idempotent (a status a conversation
 * has already is a no-op), so a poll round that runs twice does no harm.
 */
export interface StatusPort {
  /**
   * Outgoing messages of this service still polled, in a stable order from after `after` (a messageId
   * from the previous page); those whose expiry has passed stop being polled first.
   */
  pollable(opts: { limit: number; after?: string }): Promise<PolledMessage[]>
  /**
   * registers statuses on the message's outgoing conversation, and with `stopPolling` ends its polling in
   * the same transaction (nothing more will come); returns the statuses that were new
   */
  register(
    messageId: string,
    updates: readonly StatusUpdate[],
    opts?: { stopPolling?: boolean },
  ): Promise<string[]>
  /** stops polling the message without a status (nothing more will come) */
  stopPolling(messageId: string): Promise<void>
}

/** A warning logged at every start: `setting` is the property to look at. */
export interface StartupWarning {
  setting: string
  message: string
}

/** What a channel hands to the incoming queue (messages/in/intake.ts), bound to the channel's service. */
export interface Intake {
  take(d: {
    sbd: StandardBusinessDocument
    /** the package as received, a temp file under payloads.tempDir; the intake adopts or removes it */
    asic: { tempPath: string; size: number } | null
    /** the service's own id of this delivery, kept for good so a copy delivered again is recognised */
    transferRef: string
    /** who the service says sent it (`0192:<orgnr>`): the SBD's sender is only a claim */
    authenticatedSender: string
    /** the check of the package (or a refusal made already) before anything is queued */
    verify?: () => Promise<AsicVerdict>
    /**
     * A receipt the integration point made itself for its fagsystem (DPV's arkivmelding_kvittering when
     * a correspondence is published): queued like any other, but it reports nothing on the message it
     * names, whose statuses the channel registers itself.
     */
    localReceipt?: boolean
  }): Promise<string>
  /** records a delivery refused before its SBD could be read, so it is never read again */
  refuse(d: { transferRef: string; reason: string }): Promise<void>
  alreadyReceived(transferRef: string): Promise<boolean>
  /** told how long each delivery took to receive (metrics) */
  timed?(e: { seconds: number; ok: boolean }): void
}

/** What the integration point gives a channel when it starts it. */
export interface ChannelContext {
  config: Config
  db: Db
  clock: Clock
  logger: Logger
  payloads: PayloadStore
  registry: ServiceRegistry
  /** the business certificate; present whenever the channel says `needsBusinessKeys` */
  keys: BusinessKeys | null
  intake: Intake
  /** the statuses of what this channel sent (for its status pollers) */
  statuses: StatusPort
  newUuid: () => string
}

/** Why a channel refuses a new message: the API answers the catalogue's error `code` with `args`. */
export interface OutgoingRefusal {
  code: ErrorCode
  args: readonly unknown[]
}

/** A channel as it runs in one integration point. */
export interface RunningChannel {
  send(delivery: OutgoingDelivery): Promise<SendOutcome>
  /**
   * The channel's own create-time check of an outgoing message to its service (checked, defaulted, not
   * stored), run where the reference runs its per-service checks: null when the channel takes it.
   */
  checkOutgoing?(sbd: StandardBusinessDocument): Promise<OutgoingRefusal | null>
  pollers: readonly Poller[]
  /** after the pollers and jobs have stopped: closes the channel's connections */
  close(): Promise<void>
}

/** A stand-in of the service's counterpart that the sandbox runs (one may serve several channels). */
export interface StandIn {
  /** its folder under the sandbox's data and its logger's name, e.g. `altinn-broker` */
  name: string
  /** for the sandbox's banner and errors, e.g. `Altinn 3 Broker stand-in` */
  label: string
  /** its port in the sandbox's default layout (DESIGN's table); `--port-base` moves it with the rest */
  port: number
  start(opts: {
    port: number
    host: string
    dataDir: string
    logger: Logger
    /** the counterpart says something was published for these organisations: poll at once */
    onPublished(organisations: readonly string[]): void
    /**
     * the sandbox's ServiceRegistry stand-in: where it answers, and its data folder, whose generated
     * credentials (keys/, certs/) a counterpart shares when the registry publishes its certificate
     */
    serviceRegistry: { url: string; dataDir: string }
  }): Promise<{ url: string; close(): Promise<void> }>
}

/** A service's channel: everything the integration point needs to know about it, and how to start it. */
export interface Channel {
  service: ServiceIdentifier
  /** whether it signs or decrypts with the business certificate (difi.move.org.keystore.*) */
  needsBusinessKeys: boolean
  /**
   * What packing adds around the files on the way to the service: the service's limit is on the
   * packed message, so the API accepts this much less than the configured upload-size-limit.
   */
  packagingHeadroom: number
  /** the channel's own tables, run with every start whether or not it is enabled (names sort after `0`) */
  migrations: Readonly<Record<string, Migration>>
  /** problems with its configuration that stop the start (each names its property) */
  configErrors(config: Config): string[]
  /** what works but should be looked at; `keys` is the business certificate when it was loaded */
  startupWarnings(config: Config, keys: BusinessKeys | null, now: Date): StartupWarning[]
  /** its health components (`/manage/health/<name>`), each UP when its URL answers at all */
  reachable(config: Config): Readonly<Record<string, string>>
  start(ctx: ChannelContext): Promise<RunningChannel>
  sandbox: {
    standIn: StandIn
    /** the properties the integration point of organisation `org` needs to use the stand-in at `url` */
    properties(url: string, org: string): Record<string, string>
  }
}
