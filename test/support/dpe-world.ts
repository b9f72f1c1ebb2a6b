import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { altinnStandIn } from '../../src/channels/altinn-standin.js'
import { serviceBusStandIn } from '../../src/channels/dpe/channel.js'
import type { StandIn } from '../../src/channels/ports.js'
import { loadConfig } from '../../src/config/load.js'
import { type RunningIntegrationPoint, startIntegrationPoint } from '../../src/main.js'
import { businessKeystore, sandboxProperties } from '../../src/sandbox.js'
import { type AltinnBrokerStandIn, startAltinnBroker } from '../../src/standins/altinn-broker/server.js'
import { einnsynExtension } from '../../src/standins/einnsyn/extension.js'
import {
  type ServiceBusSettings,
  type ServiceBusStandIn,
  sasToken,
  startServiceBus,
} from '../../src/standins/service-bus/server.js'
import { registrySasKey } from '../../src/standins/service-registry/sas-key.js'
import { startServiceRegistry } from '../../src/standins/service-registry/server.js'
import type { Clock } from '../../src/util/time.js'
import { createTestStore, type StoreKind, type TestStore } from './db.js'
import { eventually, json } from './poll.js'

type Json = Record<string, any>

export const AGENCY_A = '910075918'
export const AGENCY_B = '910077473'
export const EINNSYN = '910076787'

/**
 * What the Service Bus stand-in does to the calls `faultOn` picks: nothing, a 503 before it acts, or the
 * answer lost after it acted.
 */
export type Fault = 'none' | 'error' | 'drop'

/** One agency's integration point in the world. */
export interface Agency {
  readonly org: string
  /** its store's folder, and the properties it runs with there (a child process is given the same) */
  readonly dir: string
  readonly properties: Record<string, string>
  /** its store, to look at while the integration point is stopped */
  readonly store: TestStore
  readonly ip: RunningIntegrationPoint
  statuses(messageId: string): Promise<string[]>
  untilStatuses(messageId: string, want: string[]): Promise<string[]>
  stop(): Promise<void>
  start(): Promise<void>
}

/**
 * Integration points with DPE (910075918, and 910077473 when asked) through the Service Bus stand-in with
 * the eInnsyn stand-in in this process (the Altinn stand-in for its Maskinporten), its key the ServiceRegistry stand-in's `/sastoken` key, on stores
 * of `kind`. The integration points reach the registry through a switch (`registryDown`) the stand-ins do
 * not go through. Service Bus is polled every 100 ms, and at once when the stand-in says something arrived.
 */
export interface DpeWorld {
  readonly a: Agency
  readonly b: Agency
  readonly busUrl: string
  fault: Fault
  /** which Service Bus calls the fault touches (default all): `(method, url) => boolean`, asked before and after each */
  faultOn: (method: string, url: string) => boolean
  /** true: every call of the integration points to the ServiceRegistry answers 503 */
  registryDown: boolean
  /** the paths of the calls the registry switch answered 503 while down */
  readonly registryRefused: readonly string[]
  /** each queue a send was stored on, in order */
  readonly arrived: string[]
  /** eInnsyn sends an innsynskrav (its sandbox API); the answer's body */
  innsynskrav(to: string, journalpostIds: string[]): Promise<Json>
  /** the innsynskrav eInnsyn sent, with the statuses it got back */
  einnsynInnsynskrav(): Promise<Json[]>
  publiseringer(): Promise<Json[]>
  /** the stand-in's queues: `{name, active, locked, deadLettered}` */
  queues(): Promise<Json[]>
  /** the messages of one queue, dead-lettered ones included */
  queueMessages(queue: string): Promise<Json[]>
  /** puts `body` on `queue` through the REST API, signed with the namespace key, as anyone holding it can */
  sendRaw(queue: string, body: Buffer | string): Promise<number>
  close(): Promise<void>
}

/** A proxy to the registry that answers 503 while `down()` says so. */
async function registrySwitch(
  target: string,
  down: () => boolean,
  refused: (path: string) => void,
): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (down()) {
      refused(req.url ?? '')
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"switched off"}')
      return
    }
    try {
      const chunks: Buffer[] = []
      for await (const c of req) chunks.push(c as Buffer)
      const upstream = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers: { accept: req.headers.accept ?? '*/*' },
        ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
      })
      const body = Buffer.from(await upstream.arrayBuffer())
      const type = upstream.headers.get('content-type')
      res.writeHead(upstream.status, type ? { 'content-type': type } : {}).end(body)
    } catch {
      res.writeHead(502).end()
    }
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  return server
}

export async function startDpeWorld(
  kind: StoreKind,
  opts: {
    /** start 910077473 too */
    both?: boolean
    settings?: Partial<ServiceBusSettings>
    /** the Service Bus stand-in's clock (lock expiry); the system clock when not given */
    clock?: Clock
    props?: Record<string, string>
  } = {},
): Promise<DpeWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'dpe-'))
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
  const registryDir = join(dir, 'sr')
  const registry = await startServiceRegistry({ port: 0, dataDir: registryDir, logger, watch: false })
  let fault: Fault = 'none'
  let faultOn: (method: string, url: string) => boolean = () => true
  let registryDown = false
  const registryRefused: string[] = []
  const arrived: string[] = []
  const agencies = new Map<string, { ip?: RunningIntegrationPoint; store: TestStore; agency: Agency }>()
  let bus: ServiceBusStandIn | undefined
  let altinn: AltinnBrokerStandIn | undefined
  let proxy: Server | undefined
  const close = async () => {
    for (const a of agencies.values()) {
      await a.ip?.stop()
      await a.store.cleanup()
    }
    await bus?.close()
    await altinn?.close()
    if (proxy) await new Promise((ok) => proxy!.close(ok))
    await registry.close()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    proxy = await registrySwitch(
      registry.url,
      () => registryDown,
      (path) => registryRefused.push(path),
    )
    const registryUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    // as the sandbox: the stand-in accepts the key the registry hands the integration points
    const sas = await registrySasKey({ dataDir: registryDir })
    if (!sas) throw new Error('the sandbox catalogue configures no Service Bus key')
    bus = await startServiceBus({
      port: 0,
      dataDir: join(dir, 'service-bus'),
      logger,
      ...(opts.clock ? { clock: opts.clock } : {}),
      settings: { ...opts.settings, keys: { [sas.keyName]: sas.key } },
      faults: {
        errorRate: 0.5,
        dropResponseRate: 1,
        // one draw per check: below 0.5 fails the call (503), from 0.5 up to 1 loses the answer
        random: () => (fault === 'error' ? 0 : fault === 'drop' ? 0.7 : 1),
        applies: (method, url) => faultOn(method, url),
      },
      onArrived: (queue) => {
        arrived.push(queue)
        const org = /^nextbestqueue(\d{9})/.exec(queue)?.[1]
        if (org) agencies.get(org)?.ip?.nudgeReceivers()
      },
      // eInnsyn on the system clock: its ASiC-E's signing time must fall within the generated certificates'
      extensions: [einnsynExtension({ registryDataDir: registryDir, registryUrl: registry.url, logger })],
    })
    const busUrl = bus.url
    // the registry hands out the Service Bus key for a Maskinporten token, the Altinn stand-in's as in the
    // sandbox (which turns DPO and DPV on too, as there)
    altinn = await startAltinnBroker({ port: 0, dataDir: join(dir, 'altinn'), logger })
    const urls = new Map<StandIn, string>([
      [serviceBusStandIn, busUrl],
      [altinnStandIn, altinn.url],
    ])
    for (const org of opts.both ? [AGENCY_A, AGENCY_B] : [AGENCY_A]) {
      const store = await createTestStore(kind)
      const properties = {
        ...sandboxProperties(
          org,
          0,
          registryUrl,
          (s) => urls.get(s),
          businessKeystore(registryDir, org, store.dir),
        ),
        'difi.datasource.url': store.url,
        'difi.move.nextmove.serviceBus.pollingrate': '100',
        'difi.move.nextmove.retry.initial-interval-ms': '100',
        'difi.move.nextmove.retry.max-interval-ms': '300',
        // every send asks the registry, so a registry switched off is felt by the send it is meant for
        'difi.move.serviceregistry.cache-ttl-seconds': '0',
        ...opts.props,
      }
      const config = loadConfig({ cwd: store.dir, env: {}, overrides: properties })
      const start = { config, cwd: store.dir, logger: logger.child({ org }) }
      const entry: { ip?: RunningIntegrationPoint; store: TestStore; agency: Agency } = {
        store,
        agency: undefined as unknown as Agency,
      }
      const agency: Agency = {
        org,
        dir: store.dir,
        properties,
        store,
        get ip() {
          if (!entry.ip) throw new Error(`the integration point of ${org} is stopped`)
          return entry.ip
        },
        async statuses(messageId) {
          const res = await json(`${agency.ip.url}/api/statuses/${messageId}?sort=id&size=100`)
          return (res.body.content as Json[]).map((s) => s.status)
        },
        untilStatuses(messageId, want) {
          return eventually(
            async () => {
              const got = await agency.statuses(messageId)
              return want.every((s) => got.includes(s)) ? got : undefined
            },
            `${want.join(', ')} on ${messageId} at ${org}`,
          )
        },
        async stop() {
          await entry.ip?.stop()
          entry.ip = undefined
        },
        async start() {
          entry.ip = await startIntegrationPoint(start)
        },
      }
      entry.agency = agency
      agencies.set(org, entry)
      await agency.start()
    }
    const get = async (path: string) => {
      const res = await json(`${busUrl}${path}`)
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}`)
      return res.body as unknown as Json[]
    }
    const world: DpeWorld = {
      get a() {
        return agencies.get(AGENCY_A)!.agency
      },
      get b() {
        const b = agencies.get(AGENCY_B)
        if (!b) throw new Error('the world was started without 910077473 (both: true)')
        return b.agency
      },
      busUrl,
      get fault() {
        return fault
      },
      set fault(f: Fault) {
        fault = f
      },
      get faultOn() {
        return faultOn
      },
      set faultOn(f) {
        faultOn = f
      },
      get registryDown() {
        return registryDown
      },
      set registryDown(d: boolean) {
        registryDown = d
      },
      registryRefused,
      arrived,
      async innsynskrav(to, journalpostIds) {
        const res = await json(`${busUrl}/sandbox/api/innsynskrav`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            to,
            email: 'ola@example.com',
            documents: journalpostIds.map((journalpostId) => ({ journalpostId })),
          }),
        })
        if (res.status !== 201)
          throw new Error(`the innsynskrav was refused ${res.status}: ${JSON.stringify(res.body)}`)
        return res.body
      },
      einnsynInnsynskrav: () => get('/sandbox/api/innsynskrav'),
      publiseringer: () => get('/sandbox/api/publiseringer'),
      queues: () => get('/sandbox/api/queues'),
      queueMessages: (queue) => get(`/sandbox/api/queues/${queue}/messages`),
      async sendRaw(queue, body) {
        const resourceUrl = `${busUrl}/${queue}/messages`
        const expiresAt = Math.floor(Date.now() / 1000) + 300
        const res = await fetch(resourceUrl, {
          method: 'POST',
          headers: {
            authorization: sasToken({ resourceUrl, keyName: sas.keyName, key: sas.key, expiresAt }),
            brokerproperties: '{}',
            'content-type': 'application/octet-stream',
          },
          body: typeof body === 'string' ? body : new Uint8Array(body),
        })
        await res.arrayBuffer()
        return res.status
      },
      close,
    }
    return world
  } catch (error) {
    await close()
    throw error
  }
}
