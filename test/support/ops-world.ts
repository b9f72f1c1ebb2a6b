import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadConfig } from '../../src/config/load.js'
import { type RunningIntegrationPoint, startIntegrationPoint } from '../../src/main.js'
import { businessKeystore, sandboxProperties } from '../../src/sandbox.js'
import { type AltinnBrokerStandIn, startAltinnBroker } from '../../src/standins/altinn-broker/server.js'
import { startServiceRegistry } from '../../src/standins/service-registry/server.js'
import { arkivmeldingXml } from './arkivmelding.js'
import { createTestStore, POSTGRES_URL, type StoreKind, type TestStore } from './db.js'
import { type FakeRegistry, startFakeRegistry } from './fake-registry.js'
import { OWN_ORG } from './ip.js'
import { altinnOnly } from './stand-ins.js'

/**
 * What the /manage tests run against: two integration points exchanging over DPO with the stand-ins, a
 * broker that stops and starts again on its port, and an integration point whose PostgreSQL is reached
 * through a proxy that stops and starts.
 */
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
export const ORG_A = '910075918'
export const ORG_B = '910077473'

export interface World {
  a: RunningIntegrationPoint
  b: RunningIntegrationPoint
  /** the broker API's base URL, as the integration points have it */
  brokerApi: string
  stopBroker(): Promise<void>
  /** starts the broker again on the same port and data */
  startBroker(): Promise<void>
  onStop(fn: () => Promise<void>): void
  stop(): Promise<void>
}

/** Two integration points, the ServiceRegistry and Altinn broker stand-ins, all in this process. */
export async function startWorld(kind: StoreKind): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'manage-world-'))
  const registry = await startServiceRegistry({ port: 0, dataDir: join(dir, 'sr'), logger, watch: false })
  const brokerDir = join(dir, 'broker')
  let broker: AltinnBrokerStandIn | undefined = await startAltinnBroker({
    port: 0,
    dataDir: brokerDir,
    logger,
  })
  const brokerUrl = broker.url
  const stores: TestStore[] = []
  const points: RunningIntegrationPoint[] = []
  const cleanups: (() => Promise<void>)[] = []
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
        // every health call looks again, so the test sees a stop at once
        'difi.move.health.cache-ms': '0',
      },
    })
    points.push(await startIntegrationPoint({ config, cwd: store.dir, logger }))
  }
  return {
    a: points[0]!,
    b: points[1]!,
    brokerApi: `${brokerUrl}/broker/api/v1`,
    async stopBroker() {
      await broker?.close()
      broker = undefined
    },
    async startBroker() {
      const port = Number(new URL(brokerUrl).port)
      broker = await startAltinnBroker({ port, dataDir: brokerDir, logger })
    },
    onStop: (fn) => cleanups.push(fn),
    async stop() {
      await Promise.all(points.map((p) => p.stop()))
      for (const fn of cleanups) await fn()
      await broker?.close()
      await registry.close()
      await Promise.all(stores.map((s) => s.cleanup()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export async function sendArkivmelding(from: RunningIntegrationPoint, to: string): Promise<string> {
  const proto = await fetch(`${from.url}/api/prototype/arkivmelding?receiverIdentifier=${to}`)
  if (proto.status !== 200) throw new Error(`prototype: ${proto.status} ${await proto.text()}`)
  const sbd = (await proto.json()) as Record<string, any>
  sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
  const form = new FormData()
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  const xml = arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Vedtak' })
  form.append('Arkivmelding', new Blob([xml], { type: 'application/xml' }), 'arkivmelding.xml')
  form.append('Vedtak', new Blob(['%PDF-1.4 vedtak'], { type: 'application/pdf' }), 'vedtak.pdf')
  const res = await fetch(`${from.url}/api/messages/out/multipart`, { method: 'POST', body: form })
  if (res.status !== 200) throw new Error(`send: ${res.status} ${await res.text()}`)
  return sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
}

/** A TCP proxy to PostgreSQL that can stop (every connection cut, new ones refused) and start again. */
export interface Proxy {
  port: number
  stop(): Promise<void>
  start(): Promise<void>
}

async function startProxy(target: URL): Promise<Proxy> {
  let server: Server | undefined
  const sockets = new Set<Socket>()
  let port = 0
  const start = async () => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname)
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.on('error', () => {})
        s.on('close', () => {
          sockets.delete(s)
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  }
  await start()
  return {
    get port() {
      return port
    },
    async stop() {
      const closed = new Promise((resolve) => server?.close(resolve))
      for (const s of sockets) s.destroy()
      await closed
    },
    start,
  }
}

/** One integration point whose PostgreSQL is reached through a proxy the test stops and starts. */
export async function startBehindProxy(): Promise<{
  ip: RunningIntegrationPoint
  proxy: Proxy
  close(): Promise<void>
}> {
  const store = await createTestStore('postgres')
  const registry: FakeRegistry = await startFakeRegistry()
  const proxy = await startProxy(new URL(POSTGRES_URL))
  const url = new URL(store.url)
  url.hostname = '127.0.0.1'
  url.port = String(proxy.port)
  const config = loadConfig({
    cwd: store.dir,
    env: {},
    overrides: {
      'difi.move.org.number': OWN_ORG,
      'difi.move.serviceregistryEndpoint': registry.url,
      'difi.datasource.url': url.toString(),
      'difi.move.nextmove.filedir': join(store.dir, 'messages'),
      'difi.security.enable': 'false',
      'difi.ssl.enabled': 'false',
      'server.port': '0',
      'server.address': '127.0.0.1',
    },
  })
  const ip = await startIntegrationPoint({ config, cwd: store.dir, logger })
  return {
    ip,
    proxy,
    async close() {
      await ip.stop()
      await proxy.stop()
      await registry.close()
      await store.cleanup()
    },
  }
}
