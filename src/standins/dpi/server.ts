import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type pino from 'pino'
import { type Clock, systemClock } from '../../util/time.js'
import { buildDpiApp } from './app.js'
import { createChainWorker } from './chain.js'
import type { DpiFaults } from './faults.js'
import { providerKeySource } from './keys.js'
import { DEFAULT_SETTINGS, type DpiSettings } from './settings.js'
import { type LetterRow, openDpiStore } from './store.js'

export type { DpiFaults } from './faults.js'
export type { DpiSettings } from './settings.js'

export interface DpiOptions {
  port: number
  /** default 127.0.0.1 */
  host?: string
  /** where the database (`dpi.sqlite`), the packages (`packages/`) and opened letters (`letters/`) are kept */
  dataDir: string
  /** the ServiceRegistry stand-in's data folder: the providers' generated keys (`keys/<orgnr>.key.pem`) */
  registryDataDir: string
  logger: pino.Logger
  clock?: Clock
  /** the faults to start with; the sandbox's `PUT /sandbox/api/faults` changes them */
  faults?: DpiFaults
  /** delays, the print provider, the ServiceRegistry's URL; each field defaults (settings.ts) */
  settings?: Partial<DpiSettings>
  /** told the organisations a receipt waits for (the sandbox has their integration points poll at once) */
  onReceipt?: (organisations: string[]) => void
}

export interface DpiStandInServer {
  /** base URL, no trailing slash; `difi.move.dpi.uri` is this with `/api/v2/dpi` */
  url: string
  close(): Promise<void>
}

/**
 * Starts the DPI access point stand-in (C2, with the receiving access point, the mailboxes and the
 * printer behind it simulated): the C2 REST API, KRR's print certificate, a sandbox page and API; state
 * in SQLite under `dataDir`, kept over a restart, and the chain's pending steps resumed at start.
 */
export async function startDpi(opts: DpiOptions): Promise<DpiStandInServer> {
  const clock = opts.clock ?? systemClock
  const settings: DpiSettings = { ...DEFAULT_SETTINGS, ...opts.settings }
  const store = openDpiStore(opts.dataDir)
  const keys = providerKeySource(opts.registryDataDir, clock)
  const faults: DpiFaults = { ...opts.faults }
  const logger = opts.logger
  const onReceipt = (letter: LetterRow) =>
    opts.onReceipt?.([...new Set([letter.sender_org, letter.avsender_org])])
  const chain = createChainWorker({
    store,
    settings,
    clock,
    logger,
    keys,
    dataDir: opts.dataDir,
    feilet: () => faults.feilet ?? null,
    onReceipt,
  })
  let url = ''
  const app = buildDpiApp({
    store,
    settings,
    clock,
    logger,
    keys,
    faults,
    dataDir: opts.dataDir,
    nudge: () => chain.nudge(),
    baseUrl: () => url,
    onReceipt,
    reset: async () => {
      store.reset()
      for (const dir of ['packages', 'letters', 'tmp'])
        rmSync(join(opts.dataDir, dir), { recursive: true, force: true })
    },
  })
  try {
    url = (await app.listen({ port: opts.port, host: opts.host ?? '127.0.0.1' })).replace(/\/+$/, '')
  } catch (error) {
    store.close()
    throw error
  }
  chain.start()
  logger.info({ dataDir: opts.dataDir }, `DPI access point stand-in at ${url}/api/v2/dpi`)
  let closing: Promise<void> | undefined
  return {
    url,
    close: () => {
      closing ??= chain
        .stop()
        .then(() => app.close())
        .then(() => {
          store.close()
        })
      return closing
    },
  }
}
