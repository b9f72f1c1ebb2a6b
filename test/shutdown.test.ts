import { randomUUID } from 'node:crypto'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { makeIdentity } from '../src/packaging/test-support.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { createTestStore, STORES, type TestStore, warnIfPostgresSkipped } from './support/db.js'
import {
  type Exchange,
  ORG_A,
  type Sent,
  type Settle,
  startExchange,
  startFagsystems,
  statusesOf,
  type Taken,
} from './support/exchange.js'
import { type FakeRegistry, startFakeRegistry } from './support/fake-registry.js'
import { arkivmeldingSbd } from './support/ip.js'
import { type IpProcess, spawnIp } from './support/process.js'

warnIfPostgresSkipped()

/** the grace period the tests give running work; a stop ends well within GRACE + STOP_BOUND_MS */
const GRACE_MS = 1500
const STOP_BOUND_MS = 8000

/** how many times the log says the process stopped cleanly (the CLI's last line before exit(0)) */
function cleanStops(log: string): number {
  return log.split('\n').filter((l) => /"msg":"stopped"/.test(l) && /"exitCode":0[,}]/.test(l)).length
}

/**
 * Issue 6, graceful shutdown: SIGTERM answers no new request, lets running work end within the grace
 * period, abandons the rest with its job leases released, closes the database and exits 0; a restart
 * then carries on, and nothing acknowledged is lost or delivered twice.
 */
describe.each(STORES)('SIGTERM on %s', (kind) => {
  let store: TestStore | undefined
  let registry: FakeRegistry | undefined
  let broker: HangingServer | undefined
  let ip: IpProcess | undefined
  afterEach(async () => {
    await ip?.kill()
    broker?.close()
    await registry?.close()
    await store?.cleanup()
    ip = broker = registry = store = undefined
  })

  it('stops cleanly on a SIGTERM the moment it says it is ready', async () => {
    store = await createTestStore(kind)
    registry = await startFakeRegistry()
    ip = await spawnIp(store.dir, properties(store, registry, 'http://127.0.0.1:9'))
    expect(await ip.kill('SIGTERM')).toBe(0)
    expect(cleanStops(ip.log())).toBe(1)
  })

  it('abandons a send and an upload that outlast the grace period, releases the lease and exits 0', async () => {
    store = await createTestStore(kind)
    registry = await startFakeRegistry()
    registry.useAllFixtures()
    broker = await hangingServer()
    ip = await spawnIp(store.dir, properties(store, registry, broker.url))

    // a send whose broker never answers: its job runs until the stop abandons it
    const messageId = randomUUID()
    expect((await sendOne(ip.url, messageId)).status).toBe(200)
    // the job is claimed and waits on the broker (the poller asks the same silent server)
    await untilAsync(
      async () => broker!.requests > 0 && (await sendJobClaimed(store!, messageId)),
      'the send job',
    )
    // an upload that stalls half way
    const uploadId = randomUUID()
    const created = await fetch(`${ip.url}/api/messages/out`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(arkivmeldingSbd({ messageId: uploadId, hoveddokument: 'stor.pdf' })),
    })
    expect(created.status).toBe(200)
    const upload = stalledUpload(`${ip.url}/api/messages/out/${uploadId}`)
    await upload.started
    // the server is streaming it to its store: the request is running, not new
    await untilAsync(() => uploadUnderWay(store!), 'the upload to reach the store')

    const started = Date.now()
    const exit = ip.kill('SIGTERM')
    await until(() => ip!.log().includes('SIGTERM: stopping'), 'the stop to begin')
    // no new request is served while it drains
    const late = await fetch(`${ip.url}/api/conversations`).then(
      (r) => r.status,
      () => 'refused',
    )
    expect([503, 'refused'], ip.log()).toContain(late)
    expect(await exit).toBe(0)
    expect(Date.now() - started).toBeLessThan(GRACE_MS + STOP_BOUND_MS)
    expect(await upload.outcome, ip.log()).toBe('cut off')
    expect(ip.log()).toMatch(/jobs still running at shutdown are abandoned/)
    expect(cleanStops(ip.log())).toBe(1)

    const db = await store.open()
    try {
      const jobs = await db.kysely
        .selectFrom('jobs')
        .selectAll()
        .where('message_id', '=', messageId)
        .execute()
      // released, not waiting out its lease: the next start runs it at once
      expect(jobs.map((j) => [j.state, j.locked_by, j.locked_until])).toEqual([['PENDING', null, null]])
      const files = await db.kysely.selectFrom('out_files').select('filename').execute()
      expect(files.map((f) => f.filename)).not.toContain('stor.pdf')
    } finally {
      await db.close()
    }
  }, 60_000)
})

describe.concurrent.each(STORES)('SIGTERM under load on %s', (kind) => {
  it('loses nothing acknowledged and delivers nothing twice while sender and receiver are stopped and started', async () => {
    const ex = await startExchange(kind, {
      properties: { 'difi.move.shutdown.grace-period-ms': String(GRACE_MS) },
    })
    try {
      const run = startFagsystems(ex, { max: 40, paceMs: 50, settle: waitUntilDelivered })
      const stops = { a: 0, b: 0 }
      for (const [name, victim] of [
        ['a', ex.a],
        ['b', ex.b],
        ['a', ex.a],
        ['b', ex.b],
      ] as const) {
        await sleep(300 + Math.random() * 700)
        const started = Date.now()
        await victim.kill('SIGTERM')
        expect(Date.now() - started, `${name}'s stop`).toBeLessThan(GRACE_MS + STOP_BOUND_MS)
        stops[name]++
        await victim.start()
      }
      run.stopSending()
      await run.finish()
      expect(run.failures).toEqual([])
      // each stop ended with the "stopped" line the CLI writes right before exit(0)
      expect(cleanStops(ex.a.log())).toBe(stops.a)
      expect(cleanStops(ex.b.log())).toBe(stops.b)
      await expectExactlyOnce(ex, run.sent, run.taken)
    } finally {
      await ex.close()
    }
  }, 240_000)
})

function properties(store: TestStore, registry: FakeRegistry, brokerUrl: string): Record<string, string> {
  const id = makeIdentity(store.dir, 'business')
  const keystore = join(store.dir, 'business.pem')
  writeFileSync(keystore, `${id.keyPem}\n${id.certPem}\n`)
  return {
    'difi.move.org.number': '910077473',
    'difi.move.serviceregistryEndpoint': registry.url,
    'difi.datasource.url': store.url,
    'difi.move.nextmove.filedir': join(store.dir, 'messages'),
    'difi.security.enable': 'false',
    'difi.ssl.enabled': 'false',
    'difi.move.feature.enableDPO': 'true',
    'difi.move.org.keystore.path': keystore,
    'difi.move.org.keystore.type': 'PEM',
    'difi.move.dpo.brokerserviceUrl': `${brokerUrl}/broker/api/v1`,
    'difi.move.dpo.altinnTokenExchangeUrl': `${brokerUrl}/authentication/api/v1/exchange/maskinporten`,
    'difi.move.oidc.url': `${brokerUrl}/maskinporten/token`,
    // the broker's silence must outlast the grace period by far
    'difi.move.dpo.requestTimeout': '120000',
    'difi.move.shutdown.grace-period-ms': String(GRACE_MS),
    'server.port': '0',
    'server.address': '127.0.0.1',
  }
}

interface HangingServer {
  url: string
  requests: number
  close(): void
}

/** A broker that takes every request and never answers. */
async function hangingServer(): Promise<HangingServer> {
  const sockets = new Set<Socket>()
  const state = { requests: 0 }
  const server: Server = createServer((req) => {
    state.requests++
    req.resume()
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return state.requests
    },
    close() {
      for (const s of sockets) s.destroy()
      server.close()
    },
  }
}

async function sendOne(url: string, messageId: string): Promise<Response> {
  const form = new FormData()
  const sbd = arkivmeldingSbd({ messageId, hoveddokument: 'vedtak.txt' })
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  form.append('Arkivmelding', new Blob([arkivmeldingXml({ files: ['vedtak.txt'] })]), 'arkivmelding.xml')
  form.append('Vedtak', new Blob(['vedtak\n'], { type: 'text/plain' }), 'vedtak.txt')
  return fetch(`${url}/api/messages/out/multipart`, { method: 'POST', body: form })
}

/** A PUT that sends its first megabyte and then nothing: `outcome` says how the server ended it. */
function stalledUpload(url: string): { started: Promise<void>; outcome: Promise<string> } {
  let started: () => void = () => {}
  const startedP = new Promise<void>((r) => {
    started = r
  })
  const outcome = new Promise<string>((resolve) => {
    const req = request(url, {
      method: 'PUT',
      headers: {
        'content-type': 'application/pdf',
        'content-disposition': 'attachment; filename=stor.pdf',
        'content-length': String(100 * 1024 * 1024),
      },
    })
    req.on('response', (res) => resolve(`answered ${res.statusCode}`))
    req.on('error', () => resolve('cut off'))
    req.write(Buffer.alloc(1024 * 1024), () => started())
  })
  return { started: startedP, outcome }
}

async function until(probe: () => boolean, what: string): Promise<void> {
  await untilAsync(async () => probe(), what)
}

async function untilAsync(probe: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await probe()) return
    await sleep(50)
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Whether a worker holds the message's send job (read beside the running process). */
/** a payload being written: a temp file (files, SQLite's default) or a staged row (the database, PostgreSQL's) */
async function uploadUnderWay(store: TestStore): Promise<boolean> {
  const temp = join(store.dir, 'messages', '.tmp')
  if (existsSync(temp) && readdirSync(temp).length > 0) return true
  const db = await store.open()
  try {
    return (await db.kysely.selectFrom('payloads').select('id').where('key', 'is', null).execute()).length > 0
  } finally {
    await db.close()
  }
}

async function sendJobClaimed(store: TestStore, messageId: string): Promise<boolean> {
  const db = await store.open()
  try {
    const job = await db.kysely
      .selectFrom('jobs')
      .select('locked_by')
      .where('message_id', '=', messageId)
      .executeTakeFirst()
    return !!job?.locked_by
  } finally {
    await db.close()
  }
}

// ---- under load: A's fagsystem sends, B's takes, as test/dpo-reliability.test.ts ----

const ORDER = ['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT']

/** Until every message A may have stored has LEVERT at A and was taken at B (or the deadline). */
const waitUntilDelivered: Settle = async (ex, sent, taken, failures, deadline) => {
  const done = new Set<string>()
  while (Date.now() < deadline && failures.length === 0 && ex.crashes.length === 0) {
    const a = await ex.a.whenUp()
    for (const [id, s] of sent) {
      if (done.has(id)) continue
      const statuses = await statusesOf(a.url, id)
      if (ORDER.every((x) => statuses.includes(x)) && taken.count.has(id)) done.add(id)
      else if (statuses.length === 0 && !s.acknowledged) done.add(id)
    }
    if (done.size === sent.size) return
    await sleep(250)
  }
}

async function expectExactlyOnce(ex: Exchange, sent: Map<string, Sent>, taken: Taken) {
  expect(ex.crashes).toEqual([])
  expect(taken.violations).toEqual([])
  const acknowledged = [...sent].filter(([, s]) => s.acknowledged).map(([id]) => id)
  expect(acknowledged.length).toBeGreaterThan(5)
  for (const id of acknowledged) expect(taken.count.has(id), `${id} acknowledged, never taken`).toBe(true)
  const a = await ex.a.whenUp()
  const b = await ex.b.whenUp()
  for (const [id, times] of taken.count) {
    expect(sent.has(id), `${id} taken, never sent`).toBe(true)
    expect(times, `${id} taken ${times} times`).toBe(1)
    expect((await statusesOf(a.url, id)).sort(), `statuses of ${id} at A`).toEqual([...ORDER].sort())
    expect(await statusesOf(b.url, id), `statuses of ${id} at B`).toEqual([
      'OPPRETTET',
      'INNKOMMENDE_MOTTATT',
      'INNKOMMENDE_LEVERT',
    ])
    const fromA = ex
      .transfers()
      .filter((t) => t.sendersReference === id && t.sender === `0192:${ORG_A}` && t.status !== 'Initialized')
    expect(fromA.length, `published transfers of ${id} from A`).toBe(1)
  }
  for (const [id] of [...sent].filter(([id, s]) => !s.acknowledged && !taken.count.has(id)))
    expect(await statusesOf(a.url, id), `${id}: not acknowledged and not taken`).toEqual([])
}
