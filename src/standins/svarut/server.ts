import type pino from 'pino'
import { type Clock, systemClock } from '../../util/time.js'
import { buildSvarUtApp } from './app.js'
import type { SvarUtFaults } from './faults.js'
import { createDocumentFiles } from './files.js'
import { type SvarUtKeys, svarUtKeys } from './keys.js'
import { DEFAULT_SETTINGS, type SvarUtSettings } from './settings.js'
import { openSvarUtStore } from './store.js'

export type { SvarUtFaults } from './faults.js'
export type { SvarUtKeys } from './keys.js'
export type { Integrasjon, Konto, Mottakersystem, SvarUtSettings } from './settings.js'

export interface SvarUtOptions {
  port: number
  /** default 127.0.0.1 */
  host?: string
  /** where the database (`svarut.sqlite`), the documents (`files/`) and SvarUt's key pair are kept */
  dataDir: string
  logger: pino.Logger
  clock?: Clock
  faults?: SvarUtFaults
  /** accounts, mottakersystemer, types and limits; each field defaults to the sandbox's (settings.ts) */
  settings?: Partial<SvarUtSettings>
  /** SvarUt's key pair; default the one in `keysDir` (generated there at first start) */
  keys?: SvarUtKeys
  /**
   * where SvarUt's generated key pair is kept (`keys/svarut.key.pem`, `certs/svarut.cert.pem`); default
   * dataDir. The sandbox gives the ServiceRegistry stand-in's data folder, whose catalogue generates the
   * same credential for its DPF records, so both use one pair.
   */
  keysDir?: string
  /** told when a forsendelse waits in a mottakersystem's SvarInn (the sandbox nudges the receiving IP) */
  onArrived?: (f: { id: string; mottaker: string; mottakersystem: string }) => void
}

export interface SvarUtStandIn {
  /** base URL, no trailing slash: `difi.move.fiks.ut.endpointUrl`; SvarInn is at `${url}/tjenester/svarinn` */
  url: string
  /** SvarUt's certificate (PEM), which the ServiceRegistry's DPF records must carry */
  certificatePem: string
  close(): Promise<void>
}

/**
 * Starts the KS SvarUt and SvarInn stand-in: SvarUt's REST v3 send and status with v2 lookups, SvarInn
 * for the receiving side, a sandbox page and API; state in SQLite under `dataDir`, kept over a restart.
 */
export async function startSvarUt(opts: SvarUtOptions): Promise<SvarUtStandIn> {
  const clock = opts.clock ?? systemClock
  const keys = await svarUtKeys(opts.keysDir ?? opts.dataDir, clock, opts.keys)
  const settings: SvarUtSettings = { ...DEFAULT_SETTINGS, ...opts.settings }
  const store = openSvarUtStore(opts.dataDir)
  let url = ''
  const app = buildSvarUtApp({
    store,
    files: createDocumentFiles(opts.dataDir),
    keys,
    settings,
    clock,
    logger: opts.logger,
    faults: opts.faults,
    onArrived: opts.onArrived,
    baseUrl: () => (settings.publicUrl ?? url).replace(/\/+$/, ''),
  })
  try {
    url = (await app.listen({ port: opts.port, host: opts.host ?? '127.0.0.1' })).replace(/\/+$/, '')
  } catch (error) {
    store.close()
    throw error
  }
  opts.logger.info(
    { dataDir: opts.dataDir },
    `KS SvarUt stand-in at ${url}, SvarInn at ${url}/tjenester/svarinn`,
  )
  let closing: Promise<void> | undefined
  return {
    url,
    certificatePem: keys.certPem,
    close: () => {
      closing ??= app.close().then(() => {
        store.close()
      })
      return closing
    },
  }
}
