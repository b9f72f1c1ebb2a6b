import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { Agent, fetch } from 'undici'
import { ManualClock } from '../../util/time.js'
import { sasToken } from './sas.js'
import { type ServiceBusOptions, type ServiceBusStandIn, startServiceBus } from './server.js'
import { SANDBOX_KEY, SANDBOX_KEY_NAME } from './settings.js'

/** Test helpers for the Service Bus stand-in (not part of the build). */

export const QUEUE = 'nextbestqueue910075918innsyn'

export interface Harness {
  url: string
  clock: ManualClock
  dataDir: string
  arrived: string[]
  /** a signed call; `path` is from the root, `auth` false sends none, a string sends that header */
  call(path: string, init?: RequestInit & { auth?: boolean | string }): Promise<Response>
  /** sends `body` to a queue with the given BrokerProperties and Content-Type */
  send(queue: string, body: string | Buffer, props?: object, contentType?: string): Promise<Response>
  /** peek-lock the head of an entity (`queue` or `queue/$DeadLetterQueue`) */
  head(entity: string, query?: string): Promise<Response>
  /** stops and starts again on the same data and port */
  restart(): Promise<void>
  close(): Promise<void>
}

type Opts = Partial<Omit<ServiceBusOptions, 'port' | 'dataDir' | 'logger' | 'clock'>>

export async function harness(opts: Opts = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'service-bus-standin-'))
  const clock = new ManualClock('2026-08-20T10:00:00Z')
  const arrived: string[] = []
  const start = (port: number) =>
    startServiceBus({
      port,
      dataDir,
      clock,
      logger: pino({ level: 'silent' }),
      onArrived: (queue) => arrived.push(queue),
      ...opts,
    })
  let bus: ServiceBusStandIn = await start(0)
  // its own connections, dropped at a restart: a kept-alive socket to the old server would fail a POST
  let agent = new Agent()
  const port = Number(new URL(bus.url).port)
  const h: Harness = {
    get url() {
      return bus.url
    },
    clock,
    dataDir,
    arrived,
    call: (path, { auth = true, ...init } = {}) => {
      const headers = new Headers(init.headers)
      const resourceUrl = `${bus.url}${path.split('?')[0]}`
      const expiresAt = Math.floor(clock.now().getTime() / 1000) + 60
      if (typeof auth === 'string') headers.set('authorization', auth)
      else if (auth)
        headers.set(
          'authorization',
          sasToken({ resourceUrl, keyName: SANDBOX_KEY_NAME, key: SANDBOX_KEY, expiresAt }),
        )
      return fetch(`${bus.url}${path}`, {
        ...(init as object),
        headers: Object.fromEntries(headers.entries()),
        dispatcher: agent,
      }) as unknown as Promise<Response>
    },
    send: (queue, body, props = {}, contentType = 'application/octet-stream') =>
      h.call(`/${queue}/messages`, {
        method: 'POST',
        headers: { brokerproperties: JSON.stringify(props), 'content-type': contentType },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      }),
    head: (entity, query = '') => h.call(`/${entity}/messages/head${query}`, { method: 'POST' }),
    restart: async () => {
      await bus.close()
      await agent.close()
      agent = new Agent()
      bus = await start(port)
    },
    close: async () => {
      await bus.close()
      await agent.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
  return h
}

/** The BrokerProperties header of a delivered message, parsed. */
export function brokerProperties(res: Response): Record<string, unknown> {
  return JSON.parse(res.headers.get('brokerproperties') ?? 'null')
}

/** The lock path of a delivered message: `/{entity}/messages/{id}/{lockToken}` from its Location. */
export const lockPath = (res: Response) => new URL(res.headers.get('location')!).pathname
