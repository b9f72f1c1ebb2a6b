// Sandbox end to end over DPO: from the 200 of a one-step multipart send at A (910075918) to the message
// being peekable at B (910077473), p50/p99 over many small messages, and the throughput. The sandbox
// (`npm start`: both stand-ins and both integration points) runs in one child process, as `npm start`
// runs it; this process is the two fagsystems: senders at A, and at B one peek loop whose messages are
// then popped and deleted, as a fagsystem does. The reference polls the broker every 15 s, so its p50
// would be about 7.5 s plus the transfer.
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import {
  arkivmeldingSbd,
  arkivmeldingXml,
  ORG_B,
  peakRssMiB,
  percentile,
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
const DOCUMENT = Buffer.alloc(10 * 1024, 'a')
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
async function round(sandbox, n) {
  const ids = Array.from({ length: n }, () => randomUUID())
  const sentAt = new Map()
  const seenAt = new Map()
  const started = performance.now()
  const [sendMs] = await Promise.all([
    sendAll(sandbox.urlA, ids, sentAt),
    receiveAll(sandbox.urlB, ids, seenAt),
  ])
  const lastSeen = Math.max(...seenAt.values())
  const latencies = ids.map((id) => seenAt.get(id) - sentAt.get(id)).sort((a, b) => a - b)
  return { sendMs, totalMs: lastSeen - started, latencies }
}

const ms = (v) => Math.round(v)
const sandbox = await startSandboxProcess()
try {
  // the first messages pay for tokens, certificates and cold code paths
  if (WARMUP > 0) await round(sandbox, WARMUP)
  const { sendMs, totalMs, latencies } = await round(sandbox, COUNT)
  const mean = latencies.reduce((s, v) => s + v, 0) / latencies.length
  console.log(
    JSON.stringify(
      {
        benchmark: 'dpo-latency',
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
        sandboxPeakRssMiB: peakRssMiB(sandbox.child.pid),
      },
      null,
      2,
    ),
  )
} finally {
  await sandbox.stop()
  await agent.close()
  rmSync(sandbox.dir, { recursive: true, force: true })
}
