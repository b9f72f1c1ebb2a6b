// DPV sends per second through the integration point to the Altinn stand-in's Correspondence API, beside
// a bare upload of the same multipart bytes straight to the stand-in. The sandbox (`npm start`: the
// ServiceRegistry and Altinn stand-ins, both integration points) runs in one child process; this process
// is the fagsystem at A (910075918), sending arkivmeldinger with a 10 KiB document to 910094092, which the
// catalogue reaches by DPV only. A message counts as sent when its correspondence exists at the stand-in;
// the baseline posts, from the same number of connections, the form fields A sent for one of them (fresh
// keys) and the same document, with an Altinn token of A's.
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import { arkivmeldingSbd, arkivmeldingXml, peakRssMiB, percentile, startSandboxProcess } from './support.mjs'

const COUNT = Number(process.env.BENCH_MESSAGES ?? 300)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4)
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 600) * 1000
const RECIPIENT = '910094092'
const DOCUMENT = Buffer.alloc(10 * 1024, 'a')
const BOUNDARY = 'dpvbenchboundary8Qz2'
const agent = new Agent({ connections: CONCURRENCY + 4 })

const part = (name, filename, type) =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}${type ? `\r\nContent-Type: ${type}` : ''}\r\n\r\n`

/** the fagsystem's one-step send: the SBD, arkivmelding.xml and the document */
function sendBody(messageId) {
  const sbd = arkivmeldingSbd(RECIPIENT, 'dokument.txt', messageId)
  return Buffer.concat([
    Buffer.from(
      `${part('sbd', null, 'application/json')}${JSON.stringify(sbd)}\r\n` +
        `${part('Arkivmelding', 'arkivmelding.xml', 'application/xml')}${arkivmeldingXml('dokument.txt')}\r\n` +
        part('Dokument', 'dokument.txt', 'text/plain'),
    ),
    DOCUMENT,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ])
}

/** the correspondence upload as the integration point made it, with fresh keys */
function uploadBody(fields) {
  const key = randomUUID()
  const text = Object.entries({ ...fields, idempotentKey: key, 'correspondence.sendersReference': key })
    .map(([k, v]) => `${part(k)}${v}\r\n`)
    .join('')
  return Buffer.concat([
    Buffer.from(text + part('attachments', 'dokument.txt', 'text/plain')),
    DOCUMENT,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ])
}

async function post(url, body, headers = {}) {
  const res = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, ...headers },
    body,
  })
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}: ${text}`)
  return text
}

/** runs `work(i)` for i < n from CONCURRENCY workers; the seconds it took */
async function workers(n, work) {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await work(next++)
    }),
  )
  return (performance.now() - started) / 1000
}

async function getJson(url) {
  const res = await request(url, { dispatcher: agent })
  return JSON.parse(await res.body.text())
}

/** the stand-in's inbox of RECIPIENT, by sendersReference */
async function inbox(altinn) {
  const list = await getJson(`${altinn}/sandbox/api/correspondences?recipient=${RECIPIENT}`)
  return new Map(list.map((c) => [c.sendersReference, c]))
}

async function untilAll(altinn, ids) {
  const deadline = Date.now() + TIMEOUT_MS
  for (;;) {
    const found = await inbox(altinn)
    if (ids.every((id) => found.has(id))) return found
    if (Date.now() > deadline)
      throw new Error(`only ${ids.filter((id) => found.has(id)).length} of ${ids.length} arrived`)
    await sleep(100)
  }
}

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')

async function altinnToken(altinn, org) {
  // the stand-in's exchange takes an unsigned Maskinporten token (docs/altinn-broker-standin.md)
  const mp = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ consumer: { authority: 'iso6523-actorid-upis', ID: `0192:${org}` }, scope: 'eformidling:dpv' })}.`
  const res = await request(`${altinn}/authentication/api/v1/exchange/maskinporten`, {
    dispatcher: agent,
    headers: { authorization: `Bearer ${mp}` },
  })
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`the exchange answered ${res.statusCode}: ${text}`)
  return text
}

const sandbox = await startSandboxProcess()
try {
  const { urlA } = sandbox
  const health = await getJson(`${urlA}/manage/health`)
  const altinn = health.components.dpv.details.url.replace(/\/health-probe$/, '')

  // warm-up, and the fields the integration point sends, for the baseline
  const warm = Array.from({ length: 5 }, () => randomUUID())
  for (const id of warm) await post(`${urlA}/api/messages/out/multipart`, sendBody(id))
  const fields = (await untilAll(altinn, warm)).get(warm[0]).fields

  const ids = Array.from({ length: COUNT }, () => randomUUID())
  const sentAt = new Map()
  const started = performance.now()
  const startedAt = Date.now()
  await workers(COUNT, async (i) => {
    await post(`${urlA}/api/messages/out/multipart`, sendBody(ids[i]))
    sentAt.set(ids[i], Date.now())
  })
  const found = await untilAll(altinn, ids)
  const lastCreated = Math.max(...ids.map((id) => Date.parse(found.get(id).created)))
  const ipSeconds = Math.max((lastCreated - startedAt) / 1000, (performance.now() - started) / 1000 - 0.1)
  const latencies = ids.map((id) => Date.parse(found.get(id).created) - sentAt.get(id)).sort((a, b) => a - b)
  const rss = peakRssMiB(sandbox.child.pid)

  const token = await altinnToken(altinn, '910075918')
  const uploadUrl = `${altinn}/altinn-proxy/correspondence/api/v1/correspondence/upload`
  const baseSeconds = await workers(COUNT, () =>
    post(uploadUrl, uploadBody(fields), { authorization: `Bearer ${token}` }),
  )

  const ipRate = COUNT / ipSeconds
  const baseRate = COUNT / baseSeconds
  console.log(`DPV: ${COUNT} arkivmeldinger (10 KiB document), ${CONCURRENCY} connections`)
  console.log(
    `integration point: ${ipRate.toFixed(0)} sends/s (send 200 → correspondence at the stand-in: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms); sandbox peak RSS ${rss} MiB`,
  )
  console.log(`baseline (the same uploads straight to the stand-in): ${baseRate.toFixed(0)} uploads/s`)
  console.log(`ratio: ${(ipRate / baseRate).toFixed(2)}`)
} finally {
  await sandbox.stop()
  await agent.close()
  rmSync(sandbox.dir, { recursive: true, force: true })
}
