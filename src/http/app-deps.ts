import type { Logger } from 'pino'
import type { Config } from '../config/types.js'
import type { Db } from '../db/open.js'
import type { PayloadStore } from '../files/payload-store.js'
import type { ServiceRegistry } from '../registry/client.js'
import type { Clock } from '../util/time.js'

/** What the HTTP app needs; `buildApp(deps)` never listens, so tests inject these. */
export interface AppDeps {
  config: Config
  db: Db
  clock: Clock
  registry: ServiceRegistry
  payloads: PayloadStore
  logger: Logger
  newUuid: () => string
  /** wakes the send worker after a send job is committed (a later issue runs the worker) */
  onSendJob?: () => void
}
