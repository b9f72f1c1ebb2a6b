import { join } from 'node:path'
import type pino from 'pino'
import { type Clock, systemClock } from '../../util/time.js'
import { buildBrokerApp } from './app.js'
import { type CorrespondenceSettings, DEFAULT_SETTINGS, prepareFiles } from './correspondence/service.js'
import { openCorrespondenceStore } from './correspondence/store.js'
import type { BrokerFaults } from './faults.js'
import { createFileStore } from './files.js'
import { openBrokerStore } from './store.js'
import { DPO_RESOURCE, type ResourceSettings } from './transfers.js'

export type { CorrespondenceSettings } from './correspondence/service.js'
export type { BrokerFaults } from './faults.js'
export type { ResourceSettings } from './transfers.js'

export interface AltinnBrokerOptions {
  port: number
  /** default 127.0.0.1 */
  host?: string
  /** where the database (`broker.sqlite`) and the uploaded files (`files/`) are kept */
  dataDir: string
  logger: pino.Logger
  clock?: Clock
  faults?: BrokerFaults
  /** the settings every resource gets; default the DPO resource's (1 GiB, P30D, PT24H) */
  resource?: Partial<ResourceSettings>
  /** the Correspondence API's behaviour (DPV); every field has a default (docs/altinn-broker-standin.md) */
  correspondence?: Partial<CorrespondenceSettings>
  /** told when a transfer is published (the sandbox nudges the receiving integration point) */
  onPublished?: (transfer: { fileTransferId: string; recipients: string[] }) => void
}

export interface AltinnBrokerStandIn {
  /** base URL, no trailing slash; the broker API is at `${url}/broker/api/v1` */
  url: string
  close(): Promise<void>
}

/**
 * Starts the Altinn 3 Broker stand-in: the file transfer endpoints the integration point uses, the
 * Maskinporten → Altinn token exchange, recipient filtering by the token's organisation, state
 * kept in SQLite under `dataDir`.
 */
export async function startAltinnBroker(opts: AltinnBrokerOptions): Promise<AltinnBrokerStandIn> {
  const clock = opts.clock ?? systemClock
  const store = openBrokerStore(opts.dataDir)
  const settings: ResourceSettings = { ...DPO_RESOURCE, ...opts.resource }
  const correspondenceDir = join(opts.dataDir, 'correspondence')
  prepareFiles(correspondenceDir)
  const correspondences = openCorrespondenceStore(opts.dataDir)
  const app = buildBrokerApp({
    store,
    files: createFileStore(opts.dataDir),
    clock,
    logger: opts.logger,
    resource: () => settings,
    faults: opts.faults,
    onPublished: opts.onPublished,
    correspondence: {
      store: correspondences,
      clock,
      logger: opts.logger,
      settings: { ...DEFAULT_SETTINGS, ...opts.correspondence },
      dir: correspondenceDir,
    },
  })
  let url: string
  try {
    url = (await app.listen({ port: opts.port, host: opts.host ?? '127.0.0.1' })).replace(/\/+$/, '')
  } catch (error) {
    store.close()
    correspondences.close()
    throw error
  }
  opts.logger.info({ dataDir: opts.dataDir }, `Altinn 3 Broker stand-in at ${url}/broker/api/v1`)
  let closing: Promise<void> | undefined
  return {
    url,
    close: () => {
      closing ??= app.close().then(() => {
        store.close()
        correspondences.close()
      })
      return closing
    },
  }
}
