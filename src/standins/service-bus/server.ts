import type pino from 'pino'
import { type Clock, systemClock } from '../../util/time.js'
import { buildServiceBusApp, type ServiceBusExtension } from './app.js'
import { createArrivals } from './arrivals.js'
import type { ServiceBusFaults } from './faults.js'
import { DEFAULT_SETTINGS, type ServiceBusSettings } from './settings.js'
import { openServiceBusStore } from './store.js'

export type { ExtensionContext, ServiceBusExtension } from './app.js'
export type { ServiceBusFaults } from './faults.js'
export { sasToken } from './sas.js'
export { SANDBOX_KEY, SANDBOX_KEY_NAME, type ServiceBusSettings } from './settings.js'

export interface ServiceBusOptions {
  port: number
  /** default 127.0.0.1 */
  host?: string
  /** where the database (`service-bus.sqlite`) is kept */
  dataDir: string
  logger: pino.Logger
  /** stamps enqueue times and lock expiries; tests move a ManualClock to expire locks */
  clock?: Clock
  faults?: ServiceBusFaults
  /** SAS keys, lock duration, MaxDeliveryCount, size and TTL limits; each field defaults (settings.ts) */
  settings?: Partial<ServiceBusSettings>
  /** told the queue's name after each send is stored (the sandbox nudges the receiving integration point) */
  onArrived?: (queue: string) => void
  /** stand-ins served on the same port (eInnsyn's) */
  extensions?: ServiceBusExtension[]
}

export interface ServiceBusStandIn {
  /** base URL, no trailing slash; `difi.move.nextmove.serviceBus.baseUrl` is this without the scheme */
  url: string
  close(): Promise<void>
}

/**
 * Starts the Azure Service Bus stand-in: the REST runtime subset the reference uses for DPE, SAS checked,
 * queues made on first use, state in SQLite under `dataDir`, kept over a restart; and a sandbox page and API.
 */
export async function startServiceBus(opts: ServiceBusOptions): Promise<ServiceBusStandIn> {
  const settings: ServiceBusSettings = { ...DEFAULT_SETTINGS, ...opts.settings }
  const store = openServiceBusStore(opts.dataDir)
  const arrivals = createArrivals(opts.logger)
  if (opts.onArrived) arrivals.subscribe(opts.onArrived)
  let url = ''
  const app = buildServiceBusApp({
    store,
    settings,
    clock: opts.clock ?? systemClock,
    logger: opts.logger,
    arrivals,
    faults: opts.faults,
    extensions: opts.extensions,
    baseUrl: () => url,
    dataDir: opts.dataDir,
  })
  app.addHook('onClose', async () => arrivals.close())
  try {
    url = (await app.listen({ port: opts.port, host: opts.host ?? '127.0.0.1' })).replace(/\/+$/, '')
  } catch (error) {
    store.close()
    throw error
  }
  opts.logger.info({ dataDir: opts.dataDir }, `Azure Service Bus stand-in at ${url}`)
  let closing: Promise<void> | undefined
  return {
    url,
    close: () => {
      closing ??= app.close().then(() => {
        store.close()
      })
      return closing
    },
  }
}
