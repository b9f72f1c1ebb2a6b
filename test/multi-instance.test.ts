import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { readAsic } from '../src/packaging/asic-reader.js'
import { POSTGRES_URL, warnIfPostgresSkipped } from './support/db.js'
import { statusesOf } from './support/exchange.js'
import { type Instance, type MultiWorld, ORG_A, ORG_B, startMultiWorld } from './support/instances.js'
import { Ledger, Router, receiveLoop, type SentMessage, sendMany } from './support/multi-client.js'

warnIfPostgresSkipped()

/**
 * Issue 15, item 6: three `integrasjonspunkt start` processes of 910075918 (A1–A3) on one PostgreSQL
 * schema with payloads in the database, and one of 910077473 (B) on its own. Messages flow both ways
 * while the fagsystems spread every request over A's instances; mid-run one instance that does not hold
 * A's incoming poller is SIGKILLed and started again, and once all is delivered the poller's holder is
 * SIGKILLed and more messages must still come in. Every message arrives once and whole, every status
 * once and in order, nothing is left queued, and the broker sent each transfer's file once.
 */
const MESSAGES = Number(process.env.MULTI_MESSAGES ?? 300)
const LATE = 5
const LEASE_MS = 5000
const POLLER = `poll:DPO:incoming:${ORG_A}`
const FAST = {
  'difi.move.dpo.pollingrate': '300',
  'difi.move.nextmove.retry.initial-interval-ms': '200',
  'difi.move.nextmove.retry.max-interval-ms': '2000',
  'difi.move.nextmove.job-lease-ms': String(LEASE_MS),
  'difi.move.nextmove.lockTimeoutMinutes': '30',
}
const AT_SENDER = ['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT']
const AT_RECEIVER = ['OPPRETTET', 'INNKOMMENDE_MOTTATT', 'INNKOMMENDE_LEVERT']
const SKIPPED = POSTGRES_URL
  ? ''
  : ' (SKIPPED: set TEST_POSTGRES_URL, e.g. postgres://postgres@127.0.0.1:5432/test)'

describe.skipIf(!POSTGRES_URL)(`three instances of one organisation on one PostgreSQL${SKIPPED}`, () => {
  let world: MultiWorld | undefined
  afterAll(async () => {
    await world?.close()
  }, 60_000)

  it(`delivers ${MESSAGES} + ${LATE} DPO messages once and whole through a SIGKILL of an instance and of the poller`, async () => {
    world = await startMultiWorld({ instancesOfA: 3, properties: FAST })
    const w = world
    const ledger = new Ledger()
    const routerA = new Router(w.a)
    const routerB = new Router([w.b])
    let quiet = false
    const guard = (p: Promise<void>) => p.catch((e) => void ledger.failures.push(e))
    const receiving = [...w.a, w.b].map((_, i) =>
      guard(receiveLoop(i < w.a.length ? routerA : routerB, ledger, () => quiet)),
    )
    const half = MESSAGES / 2
    const sending = Promise.all([
      guard(sendMany(routerA, ledger, { from: ORG_A, to: ORG_B, count: half, concurrency: 3 })),
      guard(sendMany(routerB, ledger, { from: ORG_B, to: ORG_A, count: half, concurrency: 2 })),
    ])

    // mid-run: an instance that does not poll A's broker account dies and comes back
    await until(() => ledger.sent.size >= MESSAGES / 3 || ledger.failures.length > 0, 'a third sent', 120_000)
    const poller = await pollerOf(w)
    const victim = w.a.find((i) => i !== poller)!
    await routerA.drain(victim)
    // its send and receipt jobs die with it: their leases must run out and another instance finish them
    const heldJobs = await w.jobsHeldBy(victim)
    await victim.kill('SIGKILL')
    await victim.start()
    routerA.admit(victim)
    await sending
    await settle(w, routerA, ledger, Date.now() + 150_000)
    // what went wrong so far is the story; the second kill would only add noise to it
    expect(w.crashes).toEqual([])
    expect(ledger.failures.map(String)).toEqual([])

    // with nothing in flight, the poller's holder dies: another instance takes the poller over
    const holder = await pollerOf(w)
    await routerA.drain(holder)
    await holder.kill('SIGKILL')
    const killedAt = Date.now()
    let takeoverMs = 0
    const takeover = until(
      async () => {
        const now = await pollerOf(w, 0).catch(() => undefined)
        if (!now || now === holder) return undefined
        takeoverMs = Date.now() - killedAt
        return now
      },
      `another instance holding ${POLLER}`,
      LEASE_MS + 30_000,
    )
    takeover.catch(() => {}) // awaited below; a timeout must not count as unhandled meanwhile
    await guard(sendMany(routerB, ledger, { from: ORG_B, to: ORG_A, count: LATE, concurrency: 1 }))
    const successor = await takeover
    await settle(w, routerA, ledger, Date.now() + 60_000)
    quiet = true
    await Promise.all(receiving)

    console.log(
      `[multi-instance] ${ledger.sent.size} messages; ${victim.name} killed holding ${heldJobs} jobs and restarted; poller ` +
        `${holder.name} killed, ${successor.name} took it over within ${takeoverMs} ms (lease ${LEASE_MS} ms)`,
    )
    expect(w.crashes).toEqual([])
    expect(ledger.failures.map(String)).toEqual([])
    expect(ledger.violations).toEqual([])
    // the lease ran out and the next round of a survivor took it: a lease time, give or take a round
    expect(takeoverMs, `${successor.name} took ${POLLER} over`).toBeLessThan(LEASE_MS + 5_000)
    const problems = await findProblems(w, routerA, ledger)
    expect(problems.slice(0, 30), `${problems.length} problems, the first 30:`).toEqual([])
  }, 420_000)
})

/** The running instance of A whose worker id (`<org>-<pid>-<random>`) holds A's incoming poller lease. */
async function pollerOf(w: MultiWorld, waitMs = 30_000): Promise<Instance> {
  let seen: string | undefined
  return until(
    async () => {
      seen = await w.leaseHolder(POLLER)
      return w.a.find((i) => i.running && seen?.startsWith(`${ORG_A}-${i.pid}-`))
    },
    () =>
      `a running instance of A holding ${POLLER}: the leases table says ${seen ?? 'nobody'}, ` +
      `A runs as ${w.a.map((i) => `${i.name}=${i.running ? i.pid : 'down'}`).join(', ')}`,
    waitMs,
  )
}

async function until<T>(probe: () => T | Promise<T>, what: string | (() => string), ms: number) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`)
    await sleep(100)
  }
}

/** Waits until every message was taken and its sender has all statuses, and the broker is quiet. */
async function settle(w: MultiWorld, routerA: Router, ledger: Ledger, deadline: number): Promise<void> {
  const done = new Set<string>()
  while (Date.now() < deadline && ledger.failures.length === 0 && w.crashes.length === 0) {
    for (const [id, sent] of ledger.sent) {
      if (done.has(id) || !ledger.taken.has(id)) continue
      const statuses = await statusesOf(senderUrl(w, routerA, sent), id)
      if (AT_SENDER.every((s) => statuses.includes(s))) done.add(id)
    }
    const published = (await w.transfers()).filter((t) => isPublished(t.fileTransferStatus))
    if (
      done.size === ledger.sent.size &&
      published.length === 3 * done.size &&
      published.every((t) => t.fileTransferStatus === 'AllConfirmedDownloaded')
    )
      return
    await sleep(250)
  }
}

const senderUrl = (w: MultiWorld, routerA: Router, sent: SentMessage) =>
  sent.from === ORG_A ? routerA.next().url : w.b.url
const receiverUrl = (w: MultiWorld, routerA: Router, sent: SentMessage) =>
  sent.to === ORG_A ? routerA.next().url : w.b.url

/** Everything that is not as it must be, one line per message and problem. */
async function findProblems(w: MultiWorld, routerA: Router, ledger: Ledger): Promise<string[]> {
  const problems: string[] = []
  const transfers = await w.transfers()
  for (const [id, sent] of ledger.sent) {
    const say = (problem: string) =>
      problems.push(`${id} (${sent.from}→${sent.to} via ${sent.via.join(',')}): ${problem}`)
    if (!sent.acknowledged) say('the send was never acknowledged')
    const taken = ledger.taken.get(id)
    if (!taken) say(`never taken at the receiver\n${trace(w, id)}`)
    else {
      if (taken.times !== 1) say(`taken ${taken.times} times`)
      const asic = await asicProblem(taken.asic, sent)
      if (asic) say(`popped on ${taken.via[1]}: ${asic}`)
    }
    const atSender = await statusesOf(senderUrl(w, routerA, sent), id)
    if (atSender.join() !== AT_SENDER.join()) say(`statuses at the sender: ${atSender.join(', ')}`)
    const atReceiver = await statusesOf(receiverUrl(w, routerA, sent), id)
    if (atReceiver.join() !== AT_RECEIVER.join()) say(`statuses at the receiver: ${atReceiver.join(', ')}`)
    const mine = transfers.filter(
      (t) => t.sendersFileTransferReference === id && isPublished(t.fileTransferStatus),
    )
    const from = (org: string) => mine.filter((t) => t.sender === `0192:${org}`).length
    if (from(sent.from) !== 1 || from(sent.to) !== 2)
      say(`broker transfers from sender / receiver: ${from(sent.from)} / ${from(sent.to)}, expected 1 / 2`)
    for (const t of mine) {
      if (t.downloads !== 1)
        say(`transfer ${t.fileTransferId} from ${t.sender} downloaded ${t.downloads} times`)
      const states = t.recipients.map((r) => r.status).join()
      if (states !== 'DownloadConfirmed') say(`transfer ${t.fileTransferId} recipients: ${states}`)
    }
  }
  const stray = transfers.filter(
    (t) => !ledger.sent.has(t.sendersFileTransferReference ?? '') && t.downloads > 0,
  )
  for (const t of stray) problems.push(`transfer ${t.fileTransferId} of no message sent was downloaded`)
  for (const instance of [...w.a.filter((i) => i.running), w.b]) {
    const queued = (await (await fetch(`${instance.url}/api/messages/in`)).json()) as {
      totalElements: number
    }
    if (queued.totalElements !== 0)
      problems.push(`${instance.name} still has ${queued.totalElements} incoming`)
  }
  const popsOn = new Set(
    [...ledger.taken.values()].filter((t) => t.via[1]?.startsWith('A')).map((t) => t.via[1]),
  )
  if (popsOn.size !== w.a.length) problems.push(`pops were answered only by ${[...popsOn].join(', ')}`)
  return problems
}

async function asicProblem(asic: Buffer, sent: SentMessage): Promise<string | undefined> {
  const tempDir = mkdtempSync(join(tmpdir(), 'multi-asic-'))
  try {
    const read = await readAsic(Readable.from([asic]), {
      maxEntries: 20,
      maxEntryBytes: 10 * 1024 * 1024,
      maxTotalBytes: 20 * 1024 * 1024,
      maxRatio: 100,
      tempDir,
    })
    if (!read.signatureValid) return `the ASiC-E signature does not hold: ${read.signatureError}`
    const inside = new Map(read.files.map((f) => [f.filename, f.sha256]))
    for (const [name, sha] of sent.files)
      if (inside.get(name) !== sha) return `${name} is not what was sent (${inside.get(name) ?? 'missing'})`
    return undefined
  } catch (error) {
    return `the ASiC-E does not read: ${(error as Error).message}`
  } finally {
    rmSync(tempDir, { recursive: true, force: true })
  }
}

/** what every instance logged about one message */
function trace(w: MultiWorld, messageId: string): string {
  return [...w.a, w.b]
    .flatMap((i) =>
      i
        .log()
        .split('\n')
        .filter((l) => l.includes(messageId))
        .map((l) => `  ${i.name}: ${l.slice(0, 400)}`),
    )
    .join('\n')
}

function isPublished(status: string): boolean {
  return status === 'Published' || status === 'AllConfirmedDownloaded' || status === 'Purged'
}
