// Sandbox end to end over DPO: from the 200 of a one-step multipart send at A (910075918) to the message
// being peekable at B (910077473), p50/p99 over many small messages, and the throughput. The sandbox
// (`npm start`: both stand-ins and both integration points) runs in one child process, as `npm start`
// runs it; this process is the two fagsystems: senders at A, and at B one peek loop whose messages are
// then popped and deleted, as a fagsystem does. The reference polls the broker every 15 s, so its p50
// would be about 7.5 s plus the transfer.
//
// BENCH_LAYOUT=processes runs each piece in its own process instead (ServiceRegistry stand-in, broker
// stand-in, A, B; B polls the broker every BENCH_POLL_MS, there is no publish nudge), so the CPU each
// one spends per delivered message is measured apart, and what the two cores allow follows from it.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import {
  arkivmeldingSbd,
  arkivmeldingXml,
  cpuSeconds,
  dpoProperties,
  ORG_A,
  ORG_B,
  peakRssMiB,
  percentile,
  startBrokerProcess,
  startIp,
  startRegistryProcess,
  startSandboxProcess,
} from './support.mjs'

const COUNT = Number(process.env.BENCH_MESSAGES ?? 1000)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4)
/** messages per second offered by the senders together; 0 sends as fast as CONCURRENCY allows */
const RATE = Number(process.env.BENCH_RATE ?? 0)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10)
/** the peek loop's pause after a 204 */
const PEEK_IDLE_MS = Number(process.env.BENCH_PEEK_MS ?? 10)
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 900) * 1000
const LAYOUT = process.env.BENCH_LAYOUT ?? 'sandbox'
const POLL_MS = String(process.env.BENCH_POLL_MS ?? 100)
const DOCUMENT = Buffer.alloc(10 * 1024, 'a')
if (LAYOUT !== 'sandbox' && LAYOUT !== 'processes')
  throw new Error(`BENCH_LAYOUT is sandbox or processes, not ${LAYOUT}`)
const BOUNDARY = 'dpobenchboundary4Yx1'
const agent = new Agent({ connections: CONCURRENCY + 4 })

function multipartBody(messageId) {
  const part = (name, filename, type) =>
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\nContent-Type: ${type}\r\n\r\n`
  return Buffer.concat([
    Buffer.from(
      `${part('sbd', null, 'application/json')}${JSON.stringify(arkivmeldingSbd(ORG_B, 'dokument.txt', messageId))}\r\n` +
        `${part('Arkivmelding', 'arkivmelding.xml', 'application/xml')}${arkivmeldingXml('dokument.txt')}\r\n` +
        part('Dokument', 'dokument.txt', 'text/plain'),
    ),
    DOCUMENT,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ])
}

async function send(urlA, messageId) {
  const res = await request(`${urlA}/api/messages/out/multipart`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    body: multipartBody(messageId),
  })
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`send answered ${res.statusCode}: ${text}`)
}

/** Sends `ids` from CONCURRENCY workers (paced to RATE when set); records the time of each 200. */
async function sendAll(urlA, ids, sentAt) {
  let next = 0
  const started = performance.now()
  const worker = async () => {
    while (next < ids.length) {
      const i = next++
      if (RATE > 0) {
        const due = started + (i * 1000) / RATE
        if (due > performance.now()) await sleep(due - performance.now())
      }
      await send(urlA, ids[i])
      sentAt.set(ids[i], performance.now())
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return performance.now() - started
}

/** B's fagsystem: peek until every id was seen; each peeked message is then popped and deleted. */
async function receiveAll(urlB, ids, seenAt) {
  const wanted = new Set(ids)
  const drains = []
  const deadline = performance.now() + TIMEOUT_MS
  while (wanted.size > 0) {
    if (performance.now() > deadline) throw new Error(`${wanted.size} messages not peekable at B in time`)
    const res = await request(`${urlB}/api/messages/in/peek`, { dispatcher: agent })
    if (res.statusCode === 204) {
      await res.body.dump()
      await sleep(PEEK_IDLE_MS)
      continue
    }
    const body = await res.body.json()
    if (res.statusCode !== 200) throw new Error(`peek answered ${res.statusCode}: ${JSON.stringify(body)}`)
    const at = performance.now()
    const id = body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
    if (!seenAt.has(id)) seenAt.set(id, at)
    wanted.delete(id)
    // kept as a value, so a failure is reported once all are done rather than as an unhandled rejection
    drains.push(popAndDelete(urlB, id).catch((error) => error))
  }
  const failed = (await Promise.all(drains)).filter(Boolean)
  if (failed.length > 0) throw new Error(`${failed.length} pop/delete failed, first: ${failed[0].message}`)
}

async function popAndDelete(urlB, id) {
  const popped = await request(`${urlB}/api/messages/in/pop/${id}`, { dispatcher: agent })
  await popped.body.dump()
  const deleted = await request(`${urlB}/api/messages/in/${id}`, { method: 'DELETE', dispatcher: agent })
  await deleted.body.dump()
  if (popped.statusCode !== 200 || deleted.statusCode !== 200)
    throw new Error(`pop answered ${popped.statusCode}, delete ${deleted.statusCode} for ${id}`)
}

/** One round: send `n` messages and wait until B has peeked them all. */
async function round(world, n) {
  const ids = Array.from({ length: n }, () => randomUUID())
  const sentAt = new Map()
  const seenAt = new Map()
  const started = performance.now()
  const [sendMs] = await Promise.all([sendAll(world.urlA, ids, sentAt), receiveAll(world.urlB, ids, seenAt)])
  const lastSeen = Math.max(...seenAt.values())
  const latencies = ids.map((id) => seenAt.get(id) - sentAt.get(id)).sort((a, b) => a - b)
  return { sendMs, totalMs: lastSeen - started, latencies }
}

/** Registry, broker, A and B, each in its own process. */
async function startProcesses() {
  const dir = mkdtempSync(join(tmpdir(), 'dpo-processes-'))
  const registry = await startRegistryProcess(dir)
  const broker = await startBrokerProcess(dir, 1024 ** 3)
  const props = (org) =>
    dpoProperties(
      {
        org,
        registryUrl: registry.url,
        registryDir: registry.dataDir,
        brokerUrl: broker.url,
        keyDir: join(dir, org),
      },
      { 'difi.move.dpo.pollingrate': POLL_MS },
    )
  const a = await startIp(await props(ORG_A))
  const b = await startIp(await props(ORG_B))
  const pieces = { registry: registry.child, broker: broker.child, A: a.child, B: b.child }
  return {
    dir,
    urlA: a.url,
    urlB: b.url,
    pieces,
    stop: async () => {
      await Promise.all([a.stop(), b.stop()])
      await Promise.all([broker.stop(), registry.stop()])
    },
  }
}

const ms = (v) => Math.round(v)
const world = LAYOUT === 'processes' ? await startProcesses() : await startSandboxProcess()
const pieces = world.pieces ?? { sandbox: world.child }
const cpuOf = () => Object.fromEntries(Object.entries(pieces).map(([name, c]) => [name, cpuSeconds(c.pid)]))
try {
  // the first messages pay for tokens, certificates and cold code paths
  if (WARMUP > 0) await round(world, WARMUP)
  const cpuBefore = cpuOf()
  const { sendMs, totalMs, latencies } = await round(world, COUNT)
  const cpuAfter = cpuOf()
  const mean = latencies.reduce((s, v) => s + v, 0) / latencies.length
  // CPU milliseconds each process spent per delivered message during the round (the benchmark's own
  // process, the fagsystems, is not counted)
  const cpuMsPerMessage = Object.fromEntries(
    Object.keys(pieces).map((name) => [
      name,
      +(((cpuAfter[name] - cpuBefore[name]) * 1000) / COUNT).toFixed(1),
    ]),
  )
  const totalCpuMs = Object.values(cpuMsPerMessage).reduce((s, v) => s + v, 0)
  console.log(
    JSON.stringify(
      {
        benchmark: 'dpo-latency',
        layout: LAYOUT,
        messages: COUNT,
        concurrency: CONCURRENCY,
        offeredRatePerSecond: RATE || 'unpaced',
        latencyMs: {
          min: ms(latencies[0]),
          p50: ms(percentile(latencies, 50)),
          p90: ms(percentile(latencies, 90)),
          p99: ms(percentile(latencies, 99)),
          max: ms(latencies.at(-1)),
          mean: ms(mean),
        },
        sendsPerSecond: +((COUNT * 1000) / sendMs).toFixed(1),
        deliveredPerSecond: +((COUNT * 1000) / totalMs).toFixed(1),
        seconds: +(totalMs / 1000).toFixed(1),
        cpuMsPerMessage,
        // were the cores ours alone and the work spread perfectly: the most messages per second they allow
        cpuBoundPerSecond: +((cpus().length * 1000) / totalCpuMs).toFixed(1),
        peakRssMiB: Object.fromEntries(Object.entries(pieces).map(([name, c]) => [name, peakRssMiB(c.pid)])),
      },
      null,
      2,
    ),
  )
} finally {
  await world.stop()
  await agent.close()
  rmSync(world.dir, { recursive: true, force: true })
}
