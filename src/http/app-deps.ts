import type { Logger } from 'pino'
import type { OutgoingRefusal } from '../channels/ports.js'
import type { Config } from '../config/types.js'
import type { Db } from '../db/open.js'
import type { PayloadStore } from '../files/payload-store.js'
import type { Ops } from '../ops/ops.js'
import type { BusinessKeys } from '../packaging/keys.js'
import type { ServiceRegistry } from '../registry/client.js'
import type { ServiceIdentifier, StandardBusinessDocument } from '../sbd/types.js'
import type { Clock } from '../util/time.js'

/**
 * What the HTTP app needs; `buildApp(deps)` never listens, so tests inject these. A superset of each
 * service's own deps (CreateDeps, SendDeps, QueueDeps, ...), so routes pass it through; a service never
 * names it, so jobs and channels can call services with only what they need (test/layering.test.ts).
 */
export interface AppDeps {
  config: Config
  db: Db
  clock: Clock
  registry: ServiceRegistry
  payloads: PayloadStore
  logger: Logger
  newUuid: () => string
  /**
   * The services this integration point can deliver (those with a channel). A message to an enabled
   * service outside it is refused at create, as a service that is not enabled, instead of being
   * accepted and failing later.
   */
  transports: ReadonlySet<ServiceIdentifier>
  /** the running channels' own checks of a new message, by service (CreateDeps.checkOutgoing) */
  checkOutgoing?: (
    service: ServiceIdentifier,
    sbd: StandardBusinessDocument,
  ) => Promise<OutgoingRefusal | null>
  /** wakes the job runner after a job (send, status reply) is committed */
  onSendJob?: () => void
  /** the business certificate and key (pop decrypts with them); null when no channel needs them */
  keys?: BusinessKeys | null
  /** health, info and metrics (`/manage/**`); made from the other deps when not given */
  ops?: Ops
}
