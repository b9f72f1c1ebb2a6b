import { createHash, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import SQLite from 'better-sqlite3'
import { pino } from 'pino'
import { businessKeystore, sandboxProperties } from '../../src/sandbox.js'
import {
  type AltinnBrokerStandIn,
  type BrokerFaults,
  startAltinnBroker,
} from '../../src/standins/altinn-broker/server.js'
import { startServiceRegistry } from '../../src/standins/service-registry/server.js'
import { arkivmeldingXml } from './arkivmelding.js'
import { createTestStore, type StoreKind, type TestStore } from './db.js'
import { arkivmeldingSbd } from './ip.js'
import { type IpProcess, spawnIp } from './process.js'
import { altinnOnly } from './stand-ins.js'

/**
 * Two organisations exchanging DPO messages on one machine, as the sandbox runs them but with the
 * integration points as child processes a test may SIGKILL and start again on the same data: the
 * ServiceRegistry stand-in (sandbox catalogue) and the Altinn 3 Broker stand-in in the test process,
 * 910075918 (A) and 910077473 (B) each on its own store (a SQLite file, or a fresh PostgreSQL schema).
 */
export const ORG_A = '910075918'
export const ORG_B = '910077473'

export interface ExchangePoint {
  readonly org: string
  readonly store: TestStore
  /** starts the process (again) on the same store and payload folder */
  start(): Promise<void>
  /** kills the running process; the point counts as down until `start()` */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** the base URL of the running process, waiting while it is down (each start has a new port) */
  whenUp(): Promise<Running>
  /** the process that last answered through `running` is gone or replaced: a lost answer was our doing */
  wasRestarted(run: Running): boolean
  /** the output of every run so far */
  log(): string
}

export interface Running {
  url: string
  generation: number
}

export interface BrokerTransfer {
  id: string
  sendersReference: string | null
  sender: string
  status: string
  recipientStatuses: string[]
}

export interface Exchange {
  a: ExchangePoint
  b: ExchangePoint
  /** every file transfer the broker holds, read from its SQLite store */
  transfers(): BrokerTransfer[]
  /** a process that exited on its own, with its output: always a failure */
  crashes: string[]
  /** rejects at the first crash, so a test waiting on a loop that waits for that process fails at once */
  crashed: Promise<never>
  close(): Promise<void>
}

export interface ExchangeOptions {
  faults?: BrokerFaults
  /** more properties for both integration points */
  properties?: Record<string, string>
}

/** The integration points poll and retry often, so a test waits seconds, not the production minutes. */
const FAST = {
  'server.port': '0',
  'difi.move.dpo.pollingrate': '300',
  'difi.move.nextmove.retry.initial-interval-ms': '200',
  'difi.move.nextmove.retry.max-interval-ms': '2000',
  // a killed process's running jobs are taken up again after this, not the production minute
  'difi.move.nextmove.job-lease-ms': '3000',
  // a lock outlives the test, so the fagsystem always finds again what it held when a kill came
  'difi.move.nextmove.lockTimeoutMinutes': '30',
}

export async function startExchange(kind: StoreKind, opts: ExchangeOptions = {}): Promise<Exchange> {
  const dir = mkdtempSync(join(tmpdir(), 'dpo-exchange-'))
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
  const registryDir = join(dir, 'service-registry')
  const registry = await startServiceRegistry({ port: 0, dataDir: registryDir, logger, watch: false })
  const brokerDir = join(dir, 'altinn-broker')
  const watch = crashWatch()
  const points: Point[] = []
  let broker: AltinnBrokerStandIn | undefined
  try {
    broker = await startAltinnBroker({ port: 0, dataDir: brokerDir, logger, faults: opts.faults })
    const brokerUrl = broker.url
    for (const org of [ORG_A, ORG_B]) {
      const store = await createTestStore(kind)
      const properties = {
        ...sandboxProperties(
          org,
          0,
          registry.url,
          altinnOnly(brokerUrl),
          businessKeystore(registryDir, org, store.dir),
        ),
        'difi.datasource.url': store.url,
        'difi.move.nextmove.filedir': join(store.dir, 'messages'),
        ...FAST,
        ...opts.properties,
      }
      points.push(new Point(org, store, properties, watch.report))
    }
    await Promise.all(points.map((p) => p.start()))
  } catch (error) {
    await closeAll(points, broker, registry, dir)
    throw error
  }
  const view = new SQLite(join(brokerDir, 'broker.sqlite'), { readonly: true, fileMustExist: true })
  const started = broker
  return {
    a: points[0]!,
    b: points[1]!,
    crashes: watch.crashes,
    crashed: watch.crashed,
    transfers: () => readTransfers(view),
    async close() {
      view.close()
      await closeAll(points, started, registry, dir)
    },
  }
}

/** Collects crashes, and rejects `crashed` at the first (nobody need listen). */
function crashWatch() {
  const crashes: string[] = []
  let reject: (error: Error) => void = () => {}
  const crashed = new Promise<never>((_, r) => {
    reject = r
  })
  crashed.catch(() => {})
  const report = (text: string) => {
    crashes.push(text)
    reject(new Error(text))
  }
  return { crashes, crashed, report }
}

async function closeAll(
  points: Point[],
  broker: AltinnBrokerStandIn | undefined,
  registry: { close(): Promise<void> },
  dir: string,
): Promise<void> {
  await Promise.all(points.map((p) => p.kill('SIGKILL')))
  await broker?.close()
  await registry.close()
  await Promise.all(points.map((p) => p.store.cleanup()))
  rmSync(dir, { recursive: true, force: true })
}

function readTransfers(db: SQLite.Database): BrokerTransfer[] {
  const rows = db
    .prepare(
      `SELECT t.id, t.senders_reference, t.sender, t.status, group_concat(r.status) AS recipients
       FROM transfer t LEFT JOIN recipient r ON r.transfer_id = t.id GROUP BY t.id ORDER BY t.seq`,
    )
    .all() as {
    id: string
    senders_reference: string | null
    sender: string
    status: string
    recipients: string | null
  }[]
  return rows.map((r) => ({
    id: r.id,
    sendersReference: r.senders_reference,
    sender: r.sender,
    status: r.status,
    recipientStatuses: r.recipients ? r.recipients.split(',') : [],
  }))
}

/** One integration point's process, its restarts, and whether an exit was asked for. */
class Point implements ExchangePoint {
  private proc: IpProcess | undefined
  private generation = 0
  private output = ''
  private up: Promise<Running>
  private markUp: (r: Running) => void = () => {}

  constructor(
    readonly org: string,
    readonly store: TestStore,
    private readonly properties: Record<string, string>,
    private readonly crashed: (text: string) => void,
  ) {
    this.up = this.pending()
  }

  private pending(): Promise<Running> {
    return new Promise((resolve) => {
      this.markUp = resolve
    })
  }

  async start(): Promise<void> {
    if (this.proc) throw new Error(`${this.org} is already running`)
    const proc = await spawnIp(this.store.dir, this.properties, { startTimeoutMs: 60_000 })
    const generation = ++this.generation
    this.proc = proc
    proc.child.once('exit', (code, signal) => {
      this.output += proc.log()
      if (this.proc === proc) {
        // nobody asked it to go: a crash the test must report
        this.proc = undefined
        this.up = this.pending()
        this.crashed(`${this.org} exited by itself (${code ?? signal}):\n${proc.log().slice(-4000)}`)
      }
    })
    this.markUp({ url: proc.url, generation })
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc
    if (!proc) return
    // down before the signal, so a caller whose request dies with it waits for the next start
    this.proc = undefined
    this.up = this.pending()
    await proc.kill(signal)
  }

  whenUp(): Promise<Running> {
    return this.up
  }

  wasRestarted(run: Running): boolean {
    return this.proc === undefined || this.generation !== run.generation
  }

  log(): string {
    return this.output + (this.proc?.log() ?? '')
  }
}

// ---- the fagsystems: A's sends, B's peek / pop / delete ----

export interface Sent {
  /** filename -> sha256 of what the fagsystem sent */
  files: Map<string, string>
  /** A answered 200 */
  acknowledged: boolean
}

/**
 * A's fagsystem: one-step multipart sends (arkivmelding.xml and one attachment), one at a time, until
 * `stop()` or `max` acknowledged. A send cut off by a kill is recorded unacknowledged: A may or may not
 * have committed it, and it must then be delivered like any other, once.
 */
export async function sendMessages(
  point: ExchangePoint,
  opts: { sent: Map<string, Sent>; stop: () => boolean; max: number; paceMs: number },
): Promise<void> {
  let acknowledged = 0
  while (!opts.stop() && acknowledged < opts.max) {
    const run = await point.whenUp()
    const messageId = randomUUID()
    const { form, files } = message(messageId)
    const entry: Sent = { files, acknowledged: false }
    opts.sent.set(messageId, entry)
    try {
      const res = await fetch(`${run.url}/api/messages/out/multipart`, {
        method: 'POST',
        body: form,
        signal: timeout(),
      })
      if (res.status !== 200) throw new Error(`A answered ${res.status} to a send: ${await res.text()}`)
      entry.acknowledged = true
      acknowledged++
    } catch (error) {
      if (!point.wasRestarted(run)) throw error
    }
    await sleep(opts.paceMs)
  }
}

function message(messageId: string): { form: FormData; files: Map<string, string> } {
  const xml = Buffer.from(arkivmeldingXml({ files: ['vedlegg.txt'] }))
  const attachment = Buffer.from(`vedlegg til ${messageId}\n`.repeat(200))
  const sbd = arkivmeldingSbd({ receiver: ORG_B, messageId, hoveddokument: 'vedlegg.txt' })
  const form = new FormData()
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  form.append(
    'Arkivmelding',
    new Blob([new Uint8Array(xml)], { type: 'application/xml' }),
    'arkivmelding.xml',
  )
  form.append('Vedlegg', new Blob([new Uint8Array(attachment)], { type: 'text/plain' }), 'vedlegg.txt')
  return {
    form,
    files: new Map([
      ['arkivmelding.xml', sha256(xml)],
      ['vedlegg.txt', sha256(attachment)],
    ]),
  }
}

export interface Taken {
  /** messageId -> how often B's fagsystem took it: a DELETE answered 200, or one whose lost answer had committed */
  count: Map<string, number>
  /** the ASiC-E popped before the take */
  asic: Map<string, Buffer>
  /** what must never happen: a message peeked again after its take, an answer the protocol does not allow */
  violations: string[]
}

/** What the fagsystem holds: a peeked message, and whether a DELETE for it went out (its answer maybe lost). */
interface Held {
  messageId: string
  asic?: Buffer
  deleteSent: boolean
}

/**
 * B's fagsystem: peek, pop, delete, until `stop()` and nothing is waiting. When B dies under a
 * request it finishes what it held once B is back (the lock is in B's database and outlives the
 * process), and when a peek's answer was lost it unlocks what that peek may have locked.
 */
export async function receiveMessages(
  point: ExchangePoint,
  taken: Taken,
  stop: () => boolean,
): Promise<void> {
  let held: Held | null = null
  let peekLost = false
  for (;;) {
    const run = await point.whenUp()
    try {
      if (held) {
        await finishTake(run.url, held, taken)
        held = null
        continue
      }
      if (peekLost) {
        await expectStatus(
          await fetch(`${run.url}/api/messages/in/unlock`, { method: 'POST', signal: timeout() }),
          200,
        )
        peekLost = false
      }
      const res = await fetch(`${run.url}/api/messages/in/peek`, { signal: timeout() })
      if (res.status === 204) {
        if (stop()) return
        await sleep(100)
        continue
      }
      await expectStatus(res, 200)
      const messageId = ((await res.json()) as ApiSbd).standardBusinessDocumentHeader.documentIdentification
        .instanceIdentifier
      if (taken.count.has(messageId))
        taken.violations.push(`${messageId} was peeked again after it was taken`)
      held = { messageId, deleteSent: false }
    } catch (error) {
      if (!point.wasRestarted(run)) throw error
      if (!held) peekLost = true
    }
  }
}

type ApiSbd = { standardBusinessDocumentHeader: { documentIdentification: { instanceIdentifier: string } } }

async function finishTake(url: string, held: Held, taken: Taken): Promise<void> {
  const id = held.messageId
  if (!held.deleteSent) {
    const pop = await fetch(`${url}/api/messages/in/pop/${id}`, { signal: timeout() })
    await expectStatus(pop, 200)
    held.asic = Buffer.from(await pop.arrayBuffer())
  }
  const again = held.deleteSent
  held.deleteSent = true
  const res = await fetch(`${url}/api/messages/in/${id}`, { method: 'DELETE', signal: timeout() })
  const retried = again && res.status === 404
  // 404 after a DELETE whose answer a kill took: that DELETE had committed (checked again at the end)
  if (res.status !== 200 && !retried) await expectStatus(res, 200)
  taken.count.set(id, (taken.count.get(id) ?? 0) + 1)
  if (held.asic) taken.asic.set(id, held.asic)
}

/** The statuses of a message at an integration point, oldest first (`GET /api/statuses/{messageId}`). */
export async function statusesOf(url: string, messageId: string): Promise<string[]> {
  const res = await fetch(`${url}/api/statuses/${messageId}?size=100`, { signal: timeout() })
  await expectStatus(res, 200)
  return ((await res.json()) as { content: { status: string }[] }).content.map((s) => s.status)
}

async function expectStatus(res: Response, status: number): Promise<void> {
  if (res.status !== status)
    throw new Error(`${res.url} answered ${res.status}, expected ${status}: ${await res.text()}`)
}

/** no request to a live integration point takes this long; a hung one fails the test instead of hanging it */
const timeout = () => AbortSignal.timeout(20_000)

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}

/** Waits until a run's messages have settled (or the deadline passes); the caller's assertions follow. */
export type Settle = (
  ex: Exchange,
  sent: Map<string, Sent>,
  taken: Taken,
  failures: unknown[],
  deadline: number,
) => Promise<void>

/**
 * A's fagsystem sends (up to `max` acknowledged, until told to stop) while B's takes what comes; `finish`
 * waits for the sends, then for `settle`, then lets B's fagsystem stop. What either fagsystem threw is in
 * `failures`.
 */
export function startFagsystems(ex: Exchange, opts: { max: number; paceMs: number; settle: Settle }) {
  const sent = new Map<string, Sent>()
  const taken: Taken = { count: new Map(), asic: new Map(), violations: [] }
  let stopSending = false
  let quiet = false
  const failures: unknown[] = []
  const sending = sendMessages(ex.a, { sent, stop: () => stopSending, max: opts.max, paceMs: opts.paceMs })
  const receiving = receiveMessages(ex.b, taken, () => quiet)
  sending.catch((e) => failures.push(e))
  receiving.catch((e) => failures.push(e))
  return {
    sent,
    taken,
    failures,
    stopSending: () => {
      stopSending = true
    },
    async finish() {
      await Promise.race([sending, ex.crashed])
      await opts.settle(ex, sent, taken, failures, Date.now() + 150_000)
      quiet = true
      await Promise.race([receiving, ex.crashed])
    },
  }
}
