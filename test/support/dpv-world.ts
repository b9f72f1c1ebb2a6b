import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/load.js'
import { type RunningIntegrationPoint, startIntegrationPoint } from '../../src/main.js'
import { businessKeystore, sandboxProperties } from '../../src/sandbox.js'
import {
  type AltinnBrokerStandIn,
  type CorrespondenceSettings,
  startAltinnBroker,
} from '../../src/standins/altinn-broker/server.js'
import { startServiceRegistry } from '../../src/standins/service-registry/server.js'
import { createTestStore, type StoreKind, type TestStore } from './db.js'
import { eventually, json } from './poll.js'
import { altinnOnly } from './stand-ins.js'

type Json = Record<string, any>

export const SENDER = '910075918'
/** the sandbox catalogue's organisation reached by DPV only */
export const DPV_ORG = '910094092'
/** a person the catalogue reaches by DPV (info) */
export const DPV_PERSON = '15857540015'

/** what the stand-in's Correspondence API does to each call: nothing, a 503 before it acts, or an answer lost after */
export type Fault = 'none' | 'error' | 'drop'

/**
 * One integration point (910075918) sending DPV through the Altinn stand-in in this process, with the
 * ServiceRegistry stand-in's sandbox catalogue, on a store of `kind`. The stand-in publishes at once and
 * its faults are switched by the test (`fault`); the integration point polls statuses every 100 ms.
 */
export interface DpvWorld {
  readonly ip: RunningIntegrationPoint
  readonly altinnUrl: string
  fault: Fault
  /** the stand-in's inbox as its sandbox API lists it */
  correspondences(recipient?: string): Promise<Json[]>
  /** waits for the one correspondence with this sendersReference */
  correspondenceOf(messageId: string): Promise<Json>
  /** a recipient's action in the stand-in: `read`, `fail`, `purge` */
  act(correspondenceId: string, action: 'read' | 'fail' | 'purge', body?: Json): Promise<Json>
  statuses(messageId: string): Promise<string[]>
  untilStatuses(messageId: string, want: string[]): Promise<string[]>
  restart(): Promise<void>
  stopIp(): Promise<void>
  startIp(): Promise<void>
  close(): Promise<void>
}

export async function startDpvWorld(
  kind: StoreKind,
  opts: { correspondence?: Partial<CorrespondenceSettings>; props?: Record<string, string> } = {},
): Promise<DpvWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'dpv-'))
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
  const registry = await startServiceRegistry({ port: 0, dataDir: join(dir, 'sr'), logger, watch: false })
  let fault: Fault = 'none'
  // the stand-in draws one number per check: below 0.5 fails the call (503), from 0.5 to 1 loses the answer
  const random = () => (fault === 'error' ? 0 : fault === 'drop' ? 0.7 : 1)
  let altinn: AltinnBrokerStandIn | undefined
  let store: TestStore | undefined
  let ip: RunningIntegrationPoint | undefined
  try {
    altinn = await startAltinnBroker({
      port: 0,
      dataDir: join(dir, 'altinn'),
      logger,
      correspondence: {
        publishDelayMs: 0,
        faults: { errorRate: 0.5, dropResponseRate: 1, random },
        ...opts.correspondence,
      },
    })
    const altinnUrl = altinn.url
    store = await createTestStore(kind)
    const config = loadConfig({
      cwd: store.dir,
      env: {},
      overrides: {
        ...sandboxProperties(
          SENDER,
          0,
          registry.url,
          altinnOnly(altinnUrl),
          businessKeystore(join(dir, 'sr'), SENDER, store.dir),
        ),
        'difi.datasource.url': store.url,
        'difi.move.dpv.status-pollingrate': '100',
        'difi.move.nextmove.retry.initial-interval-ms': '100',
        'difi.move.nextmove.retry.max-interval-ms': '300',
        ...opts.props,
      },
    })
    const start = { config, cwd: store.dir, logger }
    ip = await startIntegrationPoint(start)
    const world: DpvWorld = {
      get ip() {
        if (!ip) throw new Error('the integration point is stopped')
        return ip
      },
      altinnUrl,
      get fault() {
        return fault
      },
      set fault(f: Fault) {
        fault = f
      },
      async correspondences(recipient) {
        const q = recipient ? `?recipient=${recipient}` : ''
        const res = await json(`${altinnUrl}/sandbox/api/correspondences${q}`)
        if (res.status !== 200) throw new Error(`the stand-in's inbox answered ${res.status}`)
        return res.body as unknown as Json[]
      },
      async correspondenceOf(messageId) {
        return eventually(async () => {
          const found = (await world.correspondences()).filter((c) => c.sendersReference === messageId)
          if (found.length > 1) throw new Error(`${found.length} correspondences for ${messageId}`)
          return found[0]
        }, `the correspondence of ${messageId}`)
      },
      async act(id, action, body) {
        const res = await json(`${altinnUrl}/sandbox/api/correspondences/${id}/${action}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body ?? {}),
        })
        if (res.status !== 200)
          throw new Error(`${action} answered ${res.status}: ${JSON.stringify(res.body)}`)
        return res.body
      },
      async statuses(messageId) {
        const res = await json(`${world.ip.url}/api/statuses/${messageId}?sort=id&size=100`)
        return (res.body.content as Json[]).map((s) => s.status)
      },
      untilStatuses(messageId, want) {
        return eventually(
          async () => {
            const got = await world.statuses(messageId)
            return want.every((s) => got.includes(s)) ? got : undefined
          },
          `${want.join(', ')} on ${messageId}`,
        )
      },
      async restart() {
        await world.stopIp()
        await world.startIp()
      },
      async stopIp() {
        await ip?.stop()
        ip = undefined
      },
      async startIp() {
        ip = await startIntegrationPoint(start)
      },
      async close() {
        await ip?.stop()
        await altinn?.close()
        await registry.close()
        await store?.cleanup()
        rmSync(dir, { recursive: true, force: true })
      },
    }
    return world
  } catch (error) {
    await ip?.stop()
    await altinn?.close()
    await registry.close()
    await store?.cleanup()
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}
