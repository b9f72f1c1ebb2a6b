import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Logger } from 'pino'
import { loadConfig } from './config/load.js'
import { type RunningIntegrationPoint, startIntegrationPoint } from './main.js'
import { startAltinnBroker } from './standins/altinn-broker/server.js'
import { startServiceRegistry } from './standins/service-registry/server.js'

/** The two sandbox organisations, as the sandbox catalogue lists them. */
export const SANDBOX_ORGS = [
  { org: '910075918', port: 9093 },
  { org: '910077473', port: 9094 },
] as const

export const SANDBOX_REGISTRY_PORT = 9099
export const SANDBOX_BROKER_PORT = 9098

export interface Sandbox {
  registryUrl: string
  brokerUrl: string
  points: RunningIntegrationPoint[]
  stop(): Promise<void>
}

/**
 * Everything on one machine with no set-up: the ServiceRegistry stand-in with the sandbox catalogue,
 * the Altinn 3 Broker stand-in and two integration points, on 127.0.0.1 only, API open (it is local), data kept under `dataDir`
 * so a restart keeps everything.
 */
export async function startSandbox(opts: {
  cwd: string
  dataDir?: string
  logger: Logger
  /** tests ask for free ports (0) instead of the fixed ones */
  anyPorts?: boolean
}): Promise<Sandbox> {
  const dataDir = resolve(opts.cwd, opts.dataDir ?? 'sandbox-data')
  const registry = await startServiceRegistry({
    port: opts.anyPorts ? 0 : SANDBOX_REGISTRY_PORT,
    host: '127.0.0.1',
    dataDir: join(dataDir, 'service-registry'),
    logger: opts.logger.child({ name: 'service-registry' }),
  })
  const points: RunningIntegrationPoint[] = []
  let broker: Awaited<ReturnType<typeof startAltinnBroker>> | undefined
  try {
    broker = await startAltinnBroker({
      port: opts.anyPorts ? 0 : SANDBOX_BROKER_PORT,
      host: '127.0.0.1',
      dataDir: join(dataDir, 'altinn-broker'),
      logger: opts.logger.child({ name: 'altinn-broker' }),
    })
    for (const { org, port } of SANDBOX_ORGS) {
      const dir = join(dataDir, org)
      mkdirSync(dir, { recursive: true })
      const config = loadConfig({
        cwd: dir,
        env: {},
        overrides: sandboxProperties(org, opts.anyPorts ? 0 : port, registry.url),
      })
      points.push(await startIntegrationPoint({ config, cwd: dir, logger: opts.logger.child({ org }) }))
    }
  } catch (error) {
    await Promise.all(points.map((p) => p.stop()))
    await broker?.close()
    await registry.close()
    throw error
  }
  const started = broker
  return {
    registryUrl: registry.url,
    brokerUrl: started.url,
    points,
    async stop() {
      await Promise.all(points.map((p) => p.stop()))
      await started.close()
      await registry.close()
    },
  }
}

function sandboxProperties(org: string, port: number, registryUrl: string): Record<string, string> {
  return {
    'difi.move.org.number': org,
    'server.port': String(port),
    'server.address': '127.0.0.1',
    'difi.move.serviceregistryEndpoint': registryUrl,
    'difi.move.sign.enable': 'true',
    'difi.security.enable': 'false',
    'difi.ssl.enabled': 'false',
    'difi.datasource.url': 'jdbc:sqlite:integrasjonspunkt.sqlite',
    'difi.move.nextmove.filedir': 'messages',
    'difi.move.feature.enableDPO': 'true',
    'difi.move.feature.enableDPV': 'true',
    'difi.move.feature.enableDPI': 'true',
    'difi.move.feature.enableDPF': 'true',
    'difi.move.feature.enableDPE': 'true',
  }
}

/** What a person starting the sandbox needs to know: what runs where, and a first message to send. */
export function sandboxBanner(sandbox: Sandbox): string {
  const [a, b] = SANDBOX_ORGS
  const [urlA, urlB] = sandbox.points.map((p) => p.url)
  return `
eFormidling sandbox is running (data in ./sandbox-data; Ctrl-C stops it, a restart keeps everything)

  ServiceRegistry stand-in    ${sandbox.registryUrl}
  Altinn 3 Broker stand-in    ${sandbox.brokerUrl}
  integration point ${a.org}  ${urlA}   (API open, no password: local only)
  integration point ${b.org}  ${urlB}

Ask what ${b.org} can receive:
  curl ${urlA}/api/capabilities/${b.org}

Get a message to fill in, then create and send it (the README's walk-through goes on from here):
  curl "${urlA}/api/prototype/arkivmelding?receiverIdentifier=${b.org}"

Not built yet: the DPO transport between the integration points and the broker. A sent message is
committed with its send job and waits in the send queue (GET /api/messages/out); statuses stay at
OPPRETTET until the transport lands.
`
}
