import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Logger, pino } from 'pino'
import { loadConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/types.js'
import { type RunningIntegrationPoint, startIntegrationPoint } from '../../src/main.js'
import { businessKeystore, sandboxProperties } from '../../src/sandbox.js'
import { startAltinnBroker } from '../../src/standins/altinn-broker/server.js'
import { startServiceRegistry } from '../../src/standins/service-registry/server.js'
import { createTestStore, type StoreKind, type TestStore } from './db.js'
import { altinnOnly } from './stand-ins.js'

export const ORG_A = '910075918'
export const ORG_B = '910077473'

const quiet = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })

/**
 * Two integration points in this process, 910075918 (a) and 910077473 (b), each on its own store,
 * exchanging over DPO through the broker stand-in, with the ServiceRegistry stand-in publishing their
 * certificates. For child processes (kill, restart from outside) see exchange.ts.
 */
export interface Pair {
  readonly a: RunningIntegrationPoint
  readonly b: RunningIntegrationPoint
  /** the Altinn broker stand-in's base URL, for tests that act as a third organisation on it */
  readonly brokerUrl: string
  /** the ServiceRegistry stand-in's folder: every organisation's key and certificate (keys/, certs/) */
  readonly registryDir: string
  /** an integration point's working directory (its payloads are under messages/) */
  cwdOf(org: string): string
  /** stops one integration point and starts it again on its store */
  restart(org: string): Promise<void>
  stop(): Promise<void>
}

export interface PairOptions {
  /** limits of the broker stand-in's resource */
  resource?: { maxFileTransferSize?: number }
  /** the integration points are told a broker URL where nothing answers */
  brokerDown?: boolean
  /** properties over the pair's defaults */
  props?: Record<string, string>
  /** each integration point's logger (default: silent, or TEST_LOG_LEVEL) */
  loggerFor?: (org: string) => Logger
}

export async function startPair(kind: StoreKind, opts: PairOptions = {}): Promise<Pair> {
  const dir = mkdtempSync(join(tmpdir(), 'pair-'))
  const registry = await startServiceRegistry({
    port: 0,
    dataDir: join(dir, 'sr'),
    logger: quiet,
    watch: false,
  })
  const broker = await startAltinnBroker({
    port: 0,
    dataDir: join(dir, 'broker'),
    logger: quiet,
    ...(opts.resource ? { resource: opts.resource } : {}),
  })
  const brokerUrl = opts.brokerDown ? 'http://127.0.0.1:9' : broker.url
  const stores: TestStore[] = []
  const starts: Record<string, { config: Config; cwd: string; logger: Logger }> = {}
  const points: Record<string, RunningIntegrationPoint> = {}
  for (const org of [ORG_A, ORG_B]) {
    const store = await createTestStore(kind)
    stores.push(store)
    const keystore = businessKeystore(join(dir, 'sr'), org, store.dir)
    const config = loadConfig({
      cwd: store.dir,
      env: {},
      overrides: {
        ...sandboxProperties(org, 0, registry.url, altinnOnly(brokerUrl), keystore),
        'difi.datasource.url': store.url,
        'difi.move.dpo.pollingrate': '100',
        'difi.move.nextmove.retry.initial-interval-ms': '50',
        'difi.move.nextmove.retry.max-interval-ms': '200',
        ...opts.props,
      },
    })
    starts[org] = { config, cwd: store.dir, logger: opts.loggerFor?.(org) ?? quiet }
    points[org] = await startIntegrationPoint(starts[org]!)
  }
  return {
    get a() {
      return points[ORG_A]!
    },
    get b() {
      return points[ORG_B]!
    },
    brokerUrl: broker.url,
    registryDir: join(dir, 'sr'),
    cwdOf: (org) => starts[org]!.cwd,
    async restart(org) {
      await points[org]!.stop()
      points[org] = await startIntegrationPoint(starts[org]!)
    },
    async stop() {
      await Promise.all(Object.values(points).map((p) => p.stop()))
      await broker.close()
      await registry.close()
      await Promise.all(stores.map((s) => s.cleanup()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
