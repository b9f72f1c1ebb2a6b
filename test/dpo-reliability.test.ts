import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { readAsic } from '../src/packaging/asic-reader.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import {
  type Exchange,
  type ExchangePoint,
  ORG_A,
  ORG_B,
  type Sent,
  type Settle,
  startExchange,
  startFagsystems,
  statusesOf,
  type Taken,
} from './support/exchange.js'

warnIfPostgresSkipped()

/**
 * Issue 4, "Reliability": two integration points exchange DPO messages through the Altinn broker
 * stand-in while A's fagsystem sends and B's fagsystem peeks, pops and deletes. Whatever happens to
 * the processes or the broker, every message A acknowledged reaches B's fagsystem exactly once, whole,
 * and A sees each of OPPRETTET, SENDT, MOTTATT, LEVERT once, in that order.
 *
 * The tests run side by side: a job a SIGKILL interrupted waits out its lease
 * (`difi.move.nextmove.job-lease-ms`, 3 s here) before another process takes it, and those waits
 * overlap instead of adding up.
 */
describe.concurrent.each(STORES)('DPO reliability on %s', (kind) => {
  it('delivers exactly once while sender and receiver are SIGKILLed at random moments', async () => {
    await withExchange(startExchange(kind), async (ex) => {
      const run = startFagsystems(ex, { max: 60, paceMs: 100, settle: waitUntilQuiet })
      // both sides die, one of them twice, in a random order, each a random moment after the last start
      for (const victim of shuffle([ex.a, ex.b, Math.random() < 0.5 ? ex.a : ex.b])) {
        await sleep(200 + Math.random() * 1000)
        await victim.kill('SIGKILL')
        await victim.start()
      }
      run.stopSending()
      await run.finish()
      await expectExactlyOnce(ex, run.sent, run.taken)
    })
  }, 240_000)

  it('delivers exactly once through a broker that fails, delays and drops answers', async () => {
    const faults = { errorRate: 0.3, dropResponseRate: 0.1, latencyMs: 20 }
    await withExchange(startExchange(kind, { faults }), async (ex) => {
      const run = startFagsystems(ex, { max: 30, paceMs: 100, settle: waitUntilQuiet })
      await run.finish()
      expect([...run.sent.values()].every((s) => s.acknowledged)).toBe(true)
      await expectExactlyOnce(ex, run.sent, run.taken)
    })
  }, 240_000)
})

async function withExchange(starting: Promise<Exchange>, test: (ex: Exchange) => Promise<void>) {
  const ex = await starting
  try {
    await test(ex)
  } finally {
    await ex.close()
  }
}

/**
 * Polls the APIs and the broker until every message A may have stored has all its statuses at A and
 * was taken by B's fagsystem, and the broker holds all three transfers of each (the message, B's
 * MOTTATT and LEVERT: A can show LEVERT before B's MOTTATT status message arrives), every one
 * confirmed. Returns at the deadline regardless: the assertions then say what is missing.
 */
const waitUntilQuiet: Settle = async (ex, sent, taken, failures, deadline) => {
  const delivered = new Set<string>()
  const absent = new Set<string>()
  while (Date.now() < deadline && failures.length === 0 && ex.crashes.length === 0) {
    const a = await ex.a.whenUp()
    for (const [id, s] of sent) {
      if (delivered.has(id) || absent.has(id)) continue
      const statuses = await statusesOf(a.url, id)
      if (ORDER.every((x) => statuses.includes(x))) delivered.add(id)
      // nothing at A and never acknowledged: the send died before A committed it
      if (statuses.length === 0 && !s.acknowledged) absent.add(id)
    }
    const published = ex.transfers().filter((t) => isPublished(t.status))
    if (
      delivered.size + absent.size === sent.size &&
      [...delivered].every((id) => taken.count.has(id)) &&
      published.length === 3 * delivered.size &&
      published.every((t) => t.status === 'AllConfirmedDownloaded')
    )
      return
    await sleep(250)
  }
}

async function expectExactlyOnce(ex: Exchange, sent: Map<string, Sent>, taken: Taken) {
  expect(ex.crashes).toEqual([])
  expect(taken.violations).toEqual([])
  const acknowledged = [...sent].filter(([, s]) => s.acknowledged).map(([id]) => id)
  expect(acknowledged.length).toBeGreaterThan(5)
  const a = await ex.a.whenUp()
  const b = await ex.b.whenUp()
  const outOfOrder: string[] = []
  for (const id of acknowledged)
    expect(taken.count.has(id), `${id} acknowledged by A, never taken at B\n${trace(ex, id)}`).toBe(true)
  for (const [id, times] of taken.count) {
    expect(sent.has(id), `B's fagsystem took ${id}, which A's fagsystem never sent`).toBe(true)
    expect(times, `${id} taken ${times} times`).toBe(1)
    await expectAsicHolds(taken.asic.get(id), sent.get(id)!)
    const atA = await statusesOf(a.url, id)
    expect([...atA].sort(), `statuses of ${id} at A`).toEqual(['LEVERT', 'MOTTATT', 'OPPRETTET', 'SENDT'])
    if (atA.join() !== ORDER.join()) outOfOrder.push(`${id}: ${atA.join(', ')}`)
    expect(await statusesOf(b.url, id), `statuses of ${id} at B`).toEqual([
      'OPPRETTET',
      'INNKOMMENDE_MOTTATT',
      'INNKOMMENDE_LEVERT',
    ])
  }
  // what A never committed left no trace; what it did commit was taken (above)
  for (const [id] of [...sent].filter(([id, s]) => !s.acknowledged && !taken.count.has(id)))
    expect(await statusesOf(a.url, id), `${id}: not acknowledged and not taken`).toEqual([])
  const queued = await (await fetch(`${b.url}/api/messages/in`)).json()
  expect((queued as { totalElements: number }).totalElements, 'messages left in B').toBe(0)
  expectBrokerHoldsOnePerMessage(ex, [...taken.count.keys()])
  // receipts overtake each other and A's own SENDT (a retry after a lost answer or a kill): A registers
  // what a receipt implies first (src/conversations/receipts.ts), so the statuses read in order
  expect(outOfOrder, 'statuses at A out of order').toEqual([])
}

const ORDER = ['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT']

/** One published transfer per message from A; from B one per status message (MOTTATT, LEVERT); all confirmed. */
function expectBrokerHoldsOnePerMessage(ex: Exchange, messageIds: string[]) {
  const published = ex.transfers().filter((t) => isPublished(t.status))
  for (const id of messageIds) {
    const mine = published.filter((t) => t.sendersReference === id)
    const from = (org: string) => mine.filter((t) => t.sender === `0192:${org}`).length
    expect([from(ORG_A), from(ORG_B)], `transfers of ${id} from A and from B\n${trace(ex, id)}`).toEqual([
      1, 2,
    ])
  }
  expect(published.length, 'published transfers').toBe(messageIds.length * 3)
  for (const t of published)
    expect(t.recipientStatuses, `recipients of transfer ${t.id}`).toEqual(['DownloadConfirmed'])
}

async function expectAsicHolds(asic: Buffer | undefined, sent: Sent) {
  expect(asic).toBeDefined()
  const tempDir = mkdtempSync(join(tmpdir(), 'asic-check-'))
  try {
    const read = await readAsic(Readable.from([asic!]), {
      maxEntries: 20,
      maxEntryBytes: 10 * 1024 * 1024,
      maxTotalBytes: 20 * 1024 * 1024,
      maxRatio: 100,
      tempDir,
    })
    expect(read.signatureValid, read.signatureError ?? '').toBe(true)
    const inside = new Map(read.files.map((f) => [f.filename, f.sha256]))
    for (const [name, sha] of sent.files) expect(inside.get(name), name).toBe(sha)
  } finally {
    rmSync(tempDir, { recursive: true, force: true })
  }
}

/** what the logs of both integration points and the broker's store say about one message */
function trace(ex: Exchange, messageId: string): string {
  const lines = (point: ExchangePoint) =>
    point
      .log()
      .split('\n')
      .filter((l) => l.includes(messageId))
      .map((l) => `  ${point.org}: ${l.slice(0, 600)}`)
  const transfers = ex.transfers().filter((t) => t.sendersReference === messageId)
  return [...lines(ex.a), ...lines(ex.b), ...transfers.map((t) => `  broker: ${JSON.stringify(t)}`)].join(
    '\n',
  )
}

function isPublished(status: string): boolean {
  return status === 'Published' || status === 'AllConfirmedDownloaded' || status === 'Purged'
}

function shuffle<T>(items: T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
