import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import type { Logger } from 'pino'
import { altinnStandIn } from './channels/altinn-standin.js'
import type { StandIn } from './channels/ports.js'
import { CHANNEL_SERVICES, channelOf, standIns } from './channels/registry.js'
import { loadConfig } from './config/load.js'
import { type RunningIntegrationPoint, startIntegrationPoint } from './main.js'
import { SERVICE_IDENTIFIERS } from './sbd/types.js'
import { sandboxCatalogPath, startServiceRegistry } from './standins/service-registry/server.js'
import { takenPort } from './util/errors.js'

/** The two sandbox organisations, as the sandbox catalogue lists them. */
export const SANDBOX_ORGS = [
  { org: '910075918', port: 9093 },
  { org: '910077473', port: 9094 },
] as const

/** The first of the sandbox's seven ports (DESIGN's table); `--port-base` moves them all together. */
export const SANDBOX_PORT_BASE = 9093

/** Every port of the sandbox, from its base: the integration points first, the ServiceRegistry last. */
export function sandboxPorts(base = SANDBOX_PORT_BASE) {
  return {
    points: [base, base + 1] as const,
    serviceBus: base + 2,
    dpi: base + 3,
    svarut: base + 4,
    broker: base + 5,
    registry: base + 6,
  }
}

export const SANDBOX_REGISTRY_PORT = sandboxPorts().registry
export const SANDBOX_BROKER_PORT = sandboxPorts().broker

/** A port the sandbox needs is taken: said in one line, with the way out. */
export class SandboxPortError extends Error {
  constructor(port: number, what: string, base: number) {
    super(
      `port ${port} (${what}) is taken, by another sandbox or program. Stop that, or move all the ` +
        `sandbox's ports: npm start -- --port-base ${base + 1000} (integrasjonspunkt sandbox --port-base ${base + 1000})`,
    )
    this.name = 'SandboxPortError'
  }
}

/** Runs a start that listens on `port`, turning "address in use" into a SandboxPortError. */
async function onPort<T>(port: number, what: string, base: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start()
  } catch (error) {
    if (takenPort(error) !== undefined) throw new SandboxPortError(port, what, base)
    throw error
  }
}

export interface Sandbox {
  registryUrl: string
  /** every stand-in the sandbox runs (`altinn-broker`, ...), with its URL */
  standIns: { name: string; label: string; url: string }[]
  points: RunningIntegrationPoint[]
  stop(): Promise<void>
}

/**
 * Everything on one machine with no set-up: the ServiceRegistry stand-in with the sandbox catalogue,
 * the stand-in of each channel's counterpart (the registry's) and two integration points, on 127.0.0.1
 * only, API open (it is local), data kept under `dataDir` so a restart keeps everything.
 */
export async function startSandbox(opts: {
  cwd: string
  dataDir?: string
  logger: Logger
  /** tests ask for free ports (0) instead of the fixed ones */
  anyPorts?: boolean
  /** the first port (9093 when not given); the others follow it as in sandboxPorts */
  portBase?: number
}): Promise<Sandbox> {
  const dataDir = resolve(opts.cwd, opts.dataDir ?? 'sandbox-data')
  const base = opts.portBase ?? SANDBOX_PORT_BASE
  const fixed = sandboxPorts(base)
  const port = (p: number) => (opts.anyPorts ? 0 : p)
  const registry = await onPort(fixed.registry, 'ServiceRegistry stand-in', base, () =>
    startServiceRegistry({
      port: port(fixed.registry),
      host: '127.0.0.1',
      dataDir: join(dataDir, 'service-registry'),
      logger: opts.logger.child({ name: 'service-registry' }),
    }),
  )
  const points: RunningIntegrationPoint[] = []
  const byOrg = new Map<string, RunningIntegrationPoint>()
  const started: { standIn: StandIn; url: string; close(): Promise<void> }[] = []
  const stopAll = async () => {
    await Promise.all(points.map((p) => p.stop()))
    await Promise.all(started.map((s) => s.close()))
    await registry.close()
  }
  try {
    for (const { standIn } of standIns()) {
      // the stand-in's place in DESIGN's table, moved with the base
      const at = standIn.port - SANDBOX_PORT_BASE + base
      const running = await onPort(at, standIn.label, base, () =>
        standIn.start({
          port: port(at),
          host: '127.0.0.1',
          dataDir: join(dataDir, standIn.name),
          logger: opts.logger.child({ name: standIn.name }),
          // as the services' events: the receiver hears of something new at once, not at its next poll
          onPublished: (orgs) => {
            for (const org of orgs) byOrg.get(org)?.nudgeReceivers()
          },
          serviceRegistry: { url: registry.url, dataDir: join(dataDir, 'service-registry') },
        }),
      )
      started.push({ standIn, ...running })
    }
    const urlOf = (standIn: StandIn) => started.find((s) => s.standIn === standIn)!.url
    for (const [i, { org }] of SANDBOX_ORGS.entries()) {
      const pointPort = fixed.points[i]!
      const dir = join(dataDir, org)
      mkdirSync(dir, { recursive: true })
      const keystore = businessKeystore(join(dataDir, 'service-registry'), org, dir)
      const config = loadConfig({
        cwd: dir,
        env: {},
        overrides: sandboxProperties(org, port(pointPort), registry.url, urlOf, keystore),
      })
      const point = await onPort(pointPort, `integration point ${org}`, base, () =>
        startIntegrationPoint({ config, cwd: dir, logger: opts.logger.child({ org }) }),
      )
      points.push(point)
      byOrg.set(org, point)
    }
  } catch (error) {
    await stopAll()
    throw error
  }
  return {
    registryUrl: registry.url,
    standIns: started.map((s) => ({ name: s.standIn.name, label: s.standIn.label, url: s.url })),
    points,
    stop: stopAll,
  }
}

/**
 * The organisation's business key and certificate as one PEM key store: the ones the ServiceRegistry
 * stand-in made for the catalogue's `{"generated": "<orgnr>"}`, so what it publishes is what we hold.
 */
export function businessKeystore(registryDir: string, org: string, dir: string): string {
  const key = readFileSync(join(registryDir, 'keys', `${org}.key.pem`), 'utf8')
  const cert = readFileSync(join(registryDir, 'certs', `${org}.cert.pem`), 'utf8')
  const path = join(dir, 'business-certificate.pem')
  writeFileSync(path, `${key.trim()}\n${cert.trim()}\n`, { mode: 0o600 })
  return path
}

/**
 * An integration point's properties in the sandbox: each channel's properties for its stand-in
 * (`urlOf` says where that runs; a channel whose stand-in does not run is off), and the settings every
 * sandbox point shares.
 */
export function sandboxProperties(
  org: string,
  port: number,
  registryUrl: string,
  urlOf: (standIn: StandIn) => string | undefined,
  keystore: string,
): Record<string, string> {
  const running = CHANNEL_SERVICES.map((s) => channelOf(s)!).flatMap((c) => {
    const url = urlOf(c.sandbox.standIn)
    return url === undefined ? [] : [{ channel: c, url }]
  })
  const on = new Set<string>(running.map((r) => r.channel.service))
  return {
    'difi.move.org.keystore.path': keystore,
    'difi.move.org.keystore.type': 'PEM',
    ...Object.assign({}, ...running.map(({ channel, url }) => channel.sandbox.properties(url, org))),
    // a local broker: retry soon rather than the production back-off's 20 s
    'difi.move.nextmove.retry.initial-interval-ms': '1000',
    'difi.move.org.number': org,
    'server.port': String(port),
    'server.address': '127.0.0.1',
    'difi.move.serviceregistryEndpoint': registryUrl,
    'difi.move.sign.enable': 'true',
    'difi.security.enable': 'false',
    'difi.ssl.enabled': 'false',
    'difi.datasource.url': 'jdbc:sqlite:integrasjonspunkt.sqlite',
    'difi.move.nextmove.filedir': 'messages',
    // exactly the services that can be delivered here: a message to any other is refused at create
    ...Object.fromEntries(
      SERVICE_IDENTIFIERS.map((s) => [`difi.move.feature.enable${s}`, String(on.has(s))]),
    ),
  }
}

/** The example folder as the person at the prompt can name it: relative when under the working directory. */
function relativeOrAbsolute(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}

/** What a person starting the sandbox needs to know: what runs where, and a first message to send. */
export function sandboxBanner(sandbox: Sandbox): string {
  const [a, b] = SANDBOX_ORGS
  const [urlA, urlB] = sandbox.points.map((p) => p.url)
  const example = relativeOrAbsolute(join(dirname(sandboxCatalogPath()), 'example'))
  const altinn = sandbox.standIns.find((s) => s.name === altinnStandIn.name)?.url
  const svarut = sandbox.standIns.find((s) => s.name === channelOf('DPF')?.sandbox.standIn.name)?.url
  const serviceBus = sandbox.standIns.find((s) => s.name === channelOf('DPE')?.sandbox.standIn.name)?.url
  const dpi = sandbox.standIns.find((s) => s.name === channelOf('DPI')?.sandbox.standIn.name)?.url
  // the longest label and a space, so a long one ("Service Bus + eInnsyn stand-in") does not run into its URL
  const width = Math.max(28, ...sandbox.standIns.map((s) => s.label.length + 2))
  return `
eFormidling sandbox is running (data in ./sandbox-data; Ctrl-C stops it, a restart keeps everything)

  ${'ServiceRegistry stand-in'.padEnd(width)}${sandbox.registryUrl}
${sandbox.standIns.map((s) => `  ${s.label.padEnd(width)}${s.url}\n`).join('')}  ${`integration point ${a.org}`.padEnd(width)}${urlA}   (API open, no password: local only)
  ${`integration point ${b.org}`.padEnd(width)}${urlB}

Ask what ${b.org} can receive:
  curl ${urlA}/api/capabilities/${b.org}

Send ${b.org} a message: a fresh prototype SBD with the example arkivmelding.xml and vedtak.pdf, in one
multipart request (the answer is the stored SBD; its instanceIdentifier is the MESSAGE_ID):
  curl -s "${urlA}/api/prototype/arkivmelding?receiverIdentifier=${b.org}" | curl -F 'sbd=@-;type=application/json' -F 'Arkivmelding=@${example}/arkivmelding.xml;type=application/xml' -F 'Vedtak=@${example}/vedtak.pdf;type=application/pdf' ${urlA}/api/messages/out/multipart

Receive it at ${b.org} (peek locks it, pop downloads its ASiC-E, delete acknowledges):
  curl -f "${urlB}/api/messages/in/peek?messageId=MESSAGE_ID"
  curl -f -o asic.zip ${urlB}/api/messages/in/pop/MESSAGE_ID
  curl -f -X DELETE ${urlB}/api/messages/in/MESSAGE_ID

Follow it at ${a.org}: OPPRETTET, SENDT, MOTTATT, then LEVERT after the delete:
  curl ${urlA}/api/statuses/MESSAGE_ID

The same with the command line (\`--help\` on each command shows more):
  npx integrasjonspunkt-client --url ${urlA} send --to ${b.org} ${example}/vedtak.pdf
  npx integrasjonspunkt-client --url ${urlB} receive --out inbox --once
  npx integrasjonspunkt-client --url ${urlA} status MESSAGE_ID --follow

Send 910094092 the same by DPV (it has no eFormidling: the Altinn stand-in plays its Altinn inbox,
where a Read button makes the sender's LEVERT a LEST):
  ${altinn}/sandbox/correspondence?recipient=910094092

Send the municipality 910229028 the same by DPF (KS SvarUt: its stand-in holds the forsendelse, where a
Read button makes the sender's LEVERT a LEST; the README's step 8 has the municipality answer):
  ${svarut}/sandbox?mottaker=910229028

Send the citizen 01819040180 a letter by DPI (digital post: the access point stand-in plays the mailbox,
where opening it makes LEVERT a LEST; 15857540015 has no mailbox and gets a print letter from its
printer; the README's step 10 sends both):
  ${dpi}/sandbox

Have eInnsyn send ${a.org} an innsynskrav by DPE (its page lists them and the publiseringer it took in):
  curl -X POST ${serviceBus}/sandbox/api/innsynskrav -H 'content-type: application/json' -d '{"to":"${a.org}","email":"ola@example.com","documents":[{"journalpostId":"2026/1-1"}]}'
  ${serviceBus}/sandbox

Web pages (conversations, a message's timeline, queues, health): ${urlA}/ and ${urlB}/
`
}
