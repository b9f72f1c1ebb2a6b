import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { pino } from 'pino'
import { businessKeystore, sandboxProperties } from '../../src/sandbox.js'
import { type AltinnBrokerStandIn, startAltinnBroker } from '../../src/standins/altinn-broker/server.js'
import { startServiceRegistry } from '../../src/standins/service-registry/server.js'
import { createTestStore, POSTGRES_URL, type TestStore } from './db.js'
import { type IpProcess, spawnIp } from './process.js'
import { altinnOnly } from './stand-ins.js'

/**
 * Several `integrasjonspunkt start` processes of one organisation on one PostgreSQL schema, and one of
 * a second organisation on its own, exchanging DPO through the broker and ServiceRegistry stand-ins of
 * this process (issue 15). Each process has its own folder (properties, filedir), so nothing but the
 * database is shared between the instances of one organisation.
 */
export const ORG_A = '910075918'
export const ORG_B = '910077473'

export interface Instance {
  /** A1, A2, …, B */
  readonly name: string
  readonly org: string
  /** the running process's base URL (a restart gets a new port) */
  readonly url: string
  readonly pid: number | undefined
  readonly running: boolean
  start(): Promise<void>
  /** stops the process; the exit is expected, not a crash */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** the output of every run so far */
  log(): string
}

/** A file transfer as the broker stand-in's sandbox API shows it. */
export interface SandboxTransfer {
  fileTransferId: string
  sendersFileTransferReference: string | null
  sender: string
  recipients: { recipient: string; status: string }[]
  fileTransferStatus: string
  downloads: number
}

export interface MultiWorld {
  a: Instance[]
  b: Instance
  storeA: TestStore
  /** every transfer the broker holds */
  transfers(): Promise<SandboxTransfer[]>
  /** the holder of a lease in A's database (`<org>-<pid>-<random>`), if the row is there */
  leaseHolder(name: string): Promise<string | undefined>
  /** how many jobs in A's database a running instance has claimed and not finished */
  jobsHeldBy(instance: Instance): Promise<number>
  /** processes that exited without being asked to, with their output: always a failure */
  crashes: string[]
  close(): Promise<void>
}

export interface MultiOptions {
  instancesOfA: number
  /** more properties for every process */
  properties?: Record<string, string>
  startTimeoutMs?: number
}

export async function startMultiWorld(opts: MultiOptions): Promise<MultiWorld> {
  if (!POSTGRES_URL) throw new Error('several instances on one database need TEST_POSTGRES_URL')
  const dir = mkdtempSync(join(tmpdir(), 'multi-'))
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
  const registryDir = join(dir, 'service-registry')
  const registry = await startServiceRegistry({ port: 0, dataDir: registryDir, logger, watch: false })
  const crashes: string[] = []
  const instances: Process[] = []
  const stores: TestStore[] = []
  let broker: AltinnBrokerStandIn | undefined
  let view: pg.Client | undefined
  const closeAll = async () => {
    await Promise.all(instances.map((i) => i.kill('SIGKILL')))
    await view?.end().catch(() => {})
    await broker?.close()
    await registry.close()
    await Promise.all(stores.map((s) => s.cleanup()))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const started = await startAltinnBroker({ port: 0, dataDir: join(dir, 'altinn-broker'), logger })
    broker = started
    for (const [org, count] of [
      [ORG_A, opts.instancesOfA],
      [ORG_B, 1],
    ] as const) {
      const store = await createTestStore('postgres')
      stores.push(store)
      const keystore = businessKeystore(registryDir, org, store.dir)
      for (let n = 1; n <= count; n++) {
        const name = org === ORG_A ? `A${n}` : 'B'
        const own = join(dir, name)
        mkdirSync(own)
        const properties = {
          ...sandboxProperties(org, 0, registry.url, altinnOnly(started.url), keystore),
          'difi.datasource.url': store.url,
          'difi.move.nextmove.filedir': join(own, 'messages'),
          'difi.move.nextmove.use-db-persistence': 'true',
          ...opts.properties,
        }
        instances.push(new Process(name, org, own, properties, opts.startTimeoutMs ?? 90_000, crashes))
      }
    }
    await Promise.all(instances.map((i) => i.start()))
    view = new pg.Client({ connectionString: POSTGRES_URL })
    await view.connect()
  } catch (error) {
    await closeAll()
    throw error
  }
  const schema = new URL(stores[0]!.url).searchParams.get('currentSchema')!
  const brokerUrl = broker.url
  const client = view
  return {
    a: instances.filter((i) => i.org === ORG_A),
    b: instances.find((i) => i.org === ORG_B)!,
    storeA: stores[0]!,
    crashes,
    async transfers() {
      const res = await fetch(`${brokerUrl}/sandbox/api/filetransfers`)
      if (res.status !== 200) throw new Error(`the broker's sandbox API answered ${res.status}`)
      return (await res.json()) as SandboxTransfer[]
    },
    async leaseHolder(name) {
      const found = await client.query(`SELECT holder FROM "${schema}".leases WHERE name = $1`, [name])
      return found.rows[0]?.holder as string | undefined
    },
    async jobsHeldBy(instance) {
      const found = await client.query(
        `SELECT count(*)::int AS n FROM "${schema}".jobs WHERE locked_by LIKE $1 AND locked_until > $2`,
        [`${instance.org}-${instance.pid}-%`, Date.now()],
      )
      return found.rows[0].n as number
    },
    close: closeAll,
  }
}

class Process implements Instance {
  private proc: IpProcess | undefined
  private output = ''

  constructor(
    readonly name: string,
    readonly org: string,
    private readonly dir: string,
    private readonly properties: Record<string, string>,
    private readonly startTimeoutMs: number,
    private readonly crashes: string[],
  ) {}

  get url(): string {
    if (!this.proc) throw new Error(`${this.name} is not running`)
    return this.proc.url
  }

  get pid(): number | undefined {
    return this.proc?.child.pid
  }

  get running(): boolean {
    return this.proc !== undefined
  }

  async start(): Promise<void> {
    if (this.proc) throw new Error(`${this.name} is already running`)
    const proc = await spawnIp(this.dir, this.properties, { startTimeoutMs: this.startTimeoutMs })
    this.proc = proc
    proc.child.once('exit', (code, signal) => {
      this.output += proc.log()
      if (this.proc !== proc) return
      this.proc = undefined
      this.crashes.push(`${this.name} exited by itself (${code ?? signal}):\n${proc.log().slice(-4000)}`)
    })
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc
    if (!proc) return
    this.proc = undefined
    await proc.kill(signal)
  }

  log(): string {
    return this.output + (this.proc?.log() ?? '')
  }
}
