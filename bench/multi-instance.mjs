// Several integration points of one organisation on one PostgreSQL (issue 15): the same DPO exchange
// with 910075918 (A) as one instance (baseline) and as three (candidate), in the same invocation, on
// the same machine. 910077473 (B) is one instance on its own schema in both. Half the messages go A→B,
// half B→A, at the same time; A's fagsystem spreads its requests over A's instances in turn (send on
// one; peek on one, pop on the next, delete on the one after), as a load balancer would. Reported per
// variant: delivered messages per second, send→peekable p50/p99 (the 200 of the send to the 200 of the
// receiver's peek that returns it), and the peak RSS of every process. ServiceRegistry and broker
// stand-ins run in their own processes; payloads are in the database
// (`difi.move.nextmove.use-db-persistence=true`).
//
//   npm run build && TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test node bench/multi-instance.mjs
//
// Knobs: BENCH_MESSAGES (200, both ways together), BENCH_CONCURRENCY (4 senders per organisation),
// BENCH_RATE (messages per second offered, both ways together; 0, the default, sends as fast as the
// senders can, which measures capacity and makes the latency the queue's),
// BENCH_RECEIVERS (3 peek loops per organisation), BENCH_POLL_MS (300, the DPO polling rate),
// BENCH_INSTANCES (3), BENCH_WARMUP (10), BENCH_TIMEOUT_SECONDS (600).
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import {
  arkivmeldingSbd,
  arkivmeldingXml,
  cpuSeconds,
  dpoProperties,
  freshSchema,
  ORG_A,
  ORG_B,
  peakRssMiB,
  percentile,
  startBrokerProcess,
  startIp,
  startRegistryProcess,
} from './support.mjs'

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? ''
const COUNT = Number(process.env.BENCH_MESSAGES ?? 200)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4)
const RATE = Number(process.env.BENCH_RATE ?? 0)
const RECEIVERS = Number(process.env.BENCH_RECEIVERS ?? 3)
const POLL_MS = String(process.env.BENCH_POLL_MS ?? 300)
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 3)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10)
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 600) * 1000
const DOCUMENT = Buffer.alloc(10 * 1024, 'a')

if (!POSTGRES_URL) {
  console.error('set BENCH_POSTGRES_URL or TEST_POSTGRES_URL: several instances need one PostgreSQL database')
  process.exit(2)
}

/** Stand-ins, `instancesOfA` processes of A on one schema, one of B on another. */
async function startWorld(instancesOfA, admin) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-multi-'))
  const registry = await startRegistryProcess(dir)
  const broker = await startBrokerProcess(dir, 1024 ** 3)
  const schemas = []
  const propertiesOf = async (org) => {
    const { schema, url } = await freshSchema(admin, POSTGRES_URL)
    schemas.push(schema)
    return dpoProperties(
      {
        org,
        registryUrl: registry.url,
        registryDir: registry.dataDir,
        brokerUrl: broker.url,
        keyDir: join(dir, org),
      },
      {
        'difi.datasource.url': url,
        'difi.move.nextmove.use-db-persistence': 'true',
        'difi.move.dpo.pollingrate': POLL_MS,
        'difi.move.nextmove.retry.initial-interval-ms': '200',
      },
    )
  }
  const propsA = await propertiesOf(ORG_A)
  const schemaA = schemas[0]
  const propsB = await propertiesOf(ORG_B)
  // the first migrates the schema; the others then start side by side
  const a = [await startIp(propsA)]
  a.push(...(await Promise.all(Array.from({ length: instancesOfA - 1 }, () => startIp(propsA)))))
  const b = await startIp(propsB)
  return {
    a,
    b,
    broker,
    /** which of A's instances holds its incoming poller (`<org>-<pid>-<random>` in the leases table) */
    async pollerHolder() {
      const found = await admin.query(`select holder from ${schemaA}.leases where name = $1`, [
        `poll:DPO:incoming:${ORG_A}`,
      ])
      const pid = Number(found.rows[0]?.holder.split('-')[1])
      const index = a.findIndex((p) => p.child.pid === pid)
      return index < 0 ? null : `A${index + 1}`
    },
    async stop() {
      await Promise.all([...a, b].map((p) => p.stop()))
      await broker.stop()
      await registry.stop()
      for (const s of schemas) await admin.query(`drop schema if exists ${s} cascade`)
      for (const p of [...a, b]) rmSync(p.dir, { recursive: true, force: true })
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Requests spread over an organisation's instances in turn. */
function rotation(instances) {
  let turn = 0
  return () => instances[turn++ % instances.length].url
}

async function send(url, to, messageId) {
  const form = new FormData()
  const sbd = arkivmeldingSbd(to, 'dokument.txt', messageId)
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  form.append(
    'Arkivmelding',
    new Blob([arkivmeldingXml('dokument.txt')], { type: 'application/xml' }),
    'arkivmelding.xml',
  )
  form.append('Dokument', new Blob([DOCUMENT], { type: 'text/plain' }), 'dokument.txt')
  const res = await fetch(`${url}/api/messages/out/multipart`, { method: 'POST', body: form })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`send answered ${res.status}: ${text}`)
}

/** Sends `ids` from CONCURRENCY workers, paced to `rate` per second when it is set; times each 200. */
async function sendAll(next, to, ids, sentAt, rate) {
  let i = 0
  const started = performance.now()
  const worker = async () => {
    while (i < ids.length) {
      const k = i++
      if (rate > 0) {
        const due = started + (k * 1000) / rate
        if (due > performance.now()) await sleep(due - performance.now())
      }
      await send(next(), to, ids[k])
      sentAt.set(ids[k], performance.now())
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}

/** RECEIVERS loops: peek, then pop and delete on the next instances, until every id was taken. */
async function receiveAll(next, ids, seenAt, deadline) {
  const wanted = new Set(ids)
  const loop = async () => {
    while (wanted.size > 0) {
      if (performance.now() > deadline) throw new Error(`${wanted.size} messages not received in time`)
      const peeked = await fetch(`${next()}/api/messages/in/peek`)
      if (peeked.status === 204) {
        await peeked.arrayBuffer()
        await sleep(10)
        continue
      }
      if (peeked.status !== 200) throw new Error(`peek answered ${peeked.status}: ${await peeked.text()}`)
      const at = performance.now()
      const id = (await peeked.json()).standardBusinessDocumentHeader.documentIdentification
        .instanceIdentifier
      if (!seenAt.has(id)) seenAt.set(id, at)
      wanted.delete(id)
      const popped = await fetch(`${next()}/api/messages/in/pop/${id}`)
      await popped.arrayBuffer()
      const deleted = await fetch(`${next()}/api/messages/in/${id}`, { method: 'DELETE' })
      await deleted.arrayBuffer()
      if (popped.status !== 200 || deleted.status !== 200)
        throw new Error(`pop answered ${popped.status}, delete ${deleted.status} for ${id}`)
    }
  }
  await Promise.all(Array.from({ length: RECEIVERS }, loop))
}

/** `n` messages, half each way at once; the time until the last was peeked, and every latency. */
async function round(world, n) {
  const [toB, toA] = [n - Math.floor(n / 2), Math.floor(n / 2)].map((k) =>
    Array.from({ length: k }, () => randomUUID()),
  )
  const sentAt = new Map()
  const seenAt = new Map()
  const [nextA, nextB] = [rotation(world.a), rotation([world.b])]
  const started = performance.now()
  const deadline = started + TIMEOUT_MS
  await Promise.all([
    sendAll(nextA, ORG_B, toB, sentAt, RATE / 2),
    sendAll(nextB, ORG_A, toA, sentAt, RATE / 2),
    receiveAll(nextB, toB, seenAt, deadline),
    receiveAll(nextA, toA, seenAt, deadline),
  ])
  const latencies = [...toB, ...toA].map((id) => seenAt.get(id) - sentAt.get(id)).sort((x, y) => x - y)
  return { seconds: (Math.max(...seenAt.values()) - started) / 1000, latencies }
}

function perProcess(world, measure) {
  return Object.fromEntries([
    ...world.a.map((p, i) => [`A${i + 1}`, measure(p.child.pid)]),
    ['B', measure(world.b.child.pid)],
  ])
}

async function variant(instancesOfA, admin) {
  const world = await startWorld(instancesOfA, admin)
  try {
    if (WARMUP > 0) await round(world, WARMUP)
    const { seconds, latencies } = await round(world, COUNT)
    return {
      instancesOfA,
      messages: COUNT,
      messagesPerSecond: +(COUNT / seconds).toFixed(1),
      sendToPeekableMs: {
        p50: Math.round(percentile(latencies, 50)),
        p99: Math.round(percentile(latencies, 99)),
        max: Math.round(latencies.at(-1)),
      },
      pollerHolder: await world.pollerHolder(),
      peakRssMiB: perProcess(world, peakRssMiB),
      // the whole life of each process (start-up and warm-up included): what the instances cost together
      cpuSeconds: { ...perProcess(world, cpuSeconds), broker: cpuSeconds(world.broker.child.pid) },
    }
  } finally {
    await world.stop()
  }
}

const admin = new pg.Client({ connectionString: POSTGRES_URL })
await admin.connect()
try {
  const baseline = await variant(1, admin)
  const candidate = await variant(INSTANCES, admin)
  console.log(
    JSON.stringify(
      {
        benchmark: 'multi-instance',
        concurrencyPerOrganisation: CONCURRENCY,
        offeredRatePerSecond: RATE || 'unpaced',
        receiversPerOrganisation: RECEIVERS,
        pollingRateMs: Number(POLL_MS),
        baseline,
        candidate,
        throughputRatio: +(candidate.messagesPerSecond / baseline.messagesPerSecond).toFixed(2),
      },
      null,
      2,
    ),
  )
} finally {
  await admin.end()
}
