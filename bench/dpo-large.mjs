// One large message (default 1 GiB of random bytes) end to end over DPO, every piece in its own process
// so each one's peak RSS is its own: A (910075918) creates the message, PUTs arkivmelding.xml and the
// document streamed from a file, sends; B (910077473) peeks, pops the ASiC-E to disk, the document's
// SHA-256 inside it is checked (as it arrives), B deletes. Beside it, in the same run, a baseline:
// `openssl cms -encrypt` of the same file to B's certificate, then a plain HTTP upload and download of
// the result.
import { spawn } from 'node:child_process'
import { createHash, randomFill } from 'node:crypto'
import { once } from 'node:events'
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { request } from 'undici'
import { openZipFile } from '../dist/src/packaging/zip-file.js'
import { ZipScanner } from '../dist/src/packaging/zip-scan.js'
import { chainFloor } from './chain-floor.mjs'
import {
  arkivmeldingSbd,
  arkivmeldingXml,
  cpuSeconds,
  dpoProperties,
  ORG_A,
  ORG_B,
  peakRssMiB,
  startBrokerProcess,
  startIp,
  startRegistryProcess,
} from './support.mjs'

const MIB = 1024 ** 2
const MB = Number(process.env.BENCH_MB ?? 1024)
const SIZE = MB * MIB
const DOCUMENT = 'dokument.bin'
/** how often B's fagsystem peeks, and how often B's integration point polls the broker (no nudge here) */
const PEEK_MS = 200
const BROKER_POLL_MS = 1000
const NO_TIMEOUT = { headersTimeout: 0, bodyTimeout: 0 }

/** Writes SIZE random bytes (incompressible, as most large documents are); returns their SHA-256. */
async function generate(path) {
  const file = await open(path, 'w')
  const hash = createHash('sha256')
  const buf = Buffer.alloc(4 * MIB)
  for (let left = SIZE; left > 0; left -= buf.length) {
    const chunk = buf.subarray(0, Math.min(buf.length, left))
    await promisify(randomFill)(chunk)
    hash.update(chunk)
    await file.write(chunk)
  }
  await file.close()
  return hash.digest('hex')
}

const seconds = (from) => +((performance.now() - from) / 1000).toFixed(2)

const ownCpuSeconds = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

async function call(url, opts = {}, want = 200) {
  const res = await request(url, { ...NO_TIMEOUT, ...opts })
  if (res.statusCode !== want)
    throw new Error(`${opts.method ?? 'GET'} ${url}: ${res.statusCode} ${await res.body.text()}`)
  return res
}

/**
 * The registry and the broker, then A and B. Both limits are raised above SIZE: by default the
 * integration point takes at most 1 GiB of files per message, and the broker at most 1 GiB per
 * sbd.zip, which is larger than its files (ASiC-E, CMS, sbd.json), so a 1 GiB document fits neither.
 */
async function startProcesses(dir) {
  mkdirSync(join(dir, 'registry'))
  mkdirSync(join(dir, 'broker'))
  const registry = await startRegistryProcess(join(dir, 'registry'))
  const broker = await startBrokerProcess(join(dir, 'broker'), SIZE + 64 * MIB)
  const ip = async (org) =>
    startIp(
      await dpoProperties(
        {
          org,
          registryUrl: registry.url,
          registryDir: registry.dataDir,
          brokerUrl: broker.url,
          keyDir: join(dir, org),
        },
        {
          'difi.move.dpo.upload-size-limit': `${MB + 16}MB`,
          'difi.move.dpo.pollingrate': String(BROKER_POLL_MS),
        },
      ),
    )
  const a = await ip(ORG_A)
  const b = await ip(ORG_B)
  return { registry, broker, a, b }
}

/** A's fagsystem: create, upload both files, send. */
async function sendFromA(urlA, source) {
  const created = await call(`${urlA}/api/messages/out`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(arkivmeldingSbd(ORG_B, DOCUMENT)),
  })
  const id = (await created.body.json()).standardBusinessDocumentHeader.documentIdentification
    .instanceIdentifier
  const put = (name, filename, type, body, length) =>
    call(`${urlA}/api/messages/out/${id}`, {
      method: 'PUT',
      headers: {
        'content-type': type,
        'content-length': String(length),
        'content-disposition': `attachment; name=${name}; filename=${filename}`,
      },
      body,
    }).then((res) => res.body.dump())
  const xml = Buffer.from(arkivmeldingXml(DOCUMENT))
  await put('Arkivmelding', 'arkivmelding.xml', 'application/xml', xml, xml.length)
  await put('Dokument', DOCUMENT, 'application/octet-stream', createReadStream(source), SIZE)
  const uploaded = performance.now()
  await (await call(`${urlA}/api/messages/out/${id}`, { method: 'POST' })).body.dump()
  return { id, uploaded }
}

/** B's fagsystem: peek until the message is there, pop it to `asicPath`, check the document, delete. */
async function receiveAtB(urlB, id, asicPath, sha256) {
  const times = {}
  const started = performance.now()
  for (;;) {
    const res = await request(`${urlB}/api/messages/in/peek?messageId=${id}`)
    await res.body.dump()
    if (res.statusCode === 200) break
    if (res.statusCode !== 204) throw new Error(`peek answered ${res.statusCode}`)
    await sleep(PEEK_MS)
  }
  times.peekable = seconds(started)
  // the document's SHA-256 taken as the pop arrives, as a fagsystem that streams would; read back from
  // the file only where that pass could not read the entry (it stops at a stored entry sized by a data
  // descriptor, which our writer does not make)
  const scanner = new ZipScanner(SCAN_LIMITS)
  const tap = new Transform({
    transform(chunk, _e, done) {
      if (scanner.write(chunk)) done(null, chunk)
      else scanner.once('drain', () => done(null, chunk))
    },
  })
  await pipeline((await call(`${urlB}/api/messages/in/pop/${id}`)).body, tap, createWriteStream(asicPath))
  times.popped = seconds(started)
  scanner.end()
  await once(scanner, 'finish')
  const asPopped = [...scanner.result().entries.values()].some(
    (e) => e.size === SIZE && e.sha256.toString('hex') === sha256,
  )
  times.checkedAsPopped = asPopped
  const found = asPopped ? sha256 : await documentSha256(asicPath)
  if (found !== sha256) throw new Error(`the document B got has SHA-256 ${found}, not ${sha256}`)
  times.checked = seconds(started)
  await (await call(`${urlB}/api/messages/in/${id}`, { method: 'DELETE' })).body.dump()
  times.deleted = seconds(started)
  return times
}

/** what the pass over the popped ASiC-E reads: its few entries, none held, a few bytes of tail kept */
const SCAN_LIMITS = {
  maxEntries: 100,
  maxEntryBytes: 2 * SIZE,
  maxTotalBytes: 4 * SIZE,
  maxRatio: 1000,
  ratioFloor: 1024 * 1024,
  hold: () => 0,
  maxHeldBytes: 0,
  tailBytes: 64,
}

/** When A registered `status` (the broker had the whole sbd.zip), in seconds from `since` (epoch ms). */
async function statusAt(urlA, id, status, since) {
  const page = await (await call(`${urlA}/api/statuses/${id}`)).body.json()
  const found = page.content.find((s) => s.status === status)
  return found ? +((Date.parse(found.lastUpdate) - since) / 1000).toFixed(2) : null
}

/** SHA-256 of the document inside the ASiC-E, streamed out of the zip. */
async function documentSha256(asicPath) {
  // read in 256 KiB pieces, as the integration point reads zips (yauzl's own reader takes 16 KiB)
  const zip = await openZipFile(asicPath, { lazyEntries: true })
  try {
    zip.readEntry()
    for (;;) {
      const [entry] = await once(zip, 'entry')
      if (entry.fileName !== DOCUMENT) {
        zip.readEntry()
        continue
      }
      const hash = createHash('sha256')
      await pipeline(await promisify(zip.openReadStream.bind(zip))(entry), hash)
      return hash.digest('hex')
    }
  } finally {
    zip.close()
  }
}

async function ours(dir, source, sha256) {
  const procs = await startProcesses(dir)
  const all = { senderIp: procs.a, receiverIp: procs.b, broker: procs.broker, registry: procs.registry }
  const atRest = Object.fromEntries(Object.entries(all).map(([k, p]) => [k, peakRssMiB(p.child.pid)]))
  const cpuBefore = Object.fromEntries(Object.entries(all).map(([k, p]) => [k, cpuSeconds(p.child.pid)]))
  const benchCpuBefore = ownCpuSeconds()
  try {
    const [started, startedEpoch] = [performance.now(), Date.now()]
    const { id, uploaded } = await sendFromA(procs.a.url, source)
    const sent = seconds(started)
    const atB = await receiveAtB(procs.b.url, id, join(dir, 'popped-asic.zip'), sha256)
    const phases = {
      uploaded: +((uploaded - started) / 1000).toFixed(2),
      sent,
      SENDT: await statusAt(procs.a.url, id, 'SENDT', startedEpoch),
      ...Object.fromEntries(
        Object.entries(atB).map(([k, v]) => [k, typeof v === 'number' ? +(sent + v).toFixed(2) : v]),
      ),
    }
    const peak = Object.fromEntries(Object.entries(all).map(([k, p]) => [k, peakRssMiB(p.child.pid)]))
    const cpu = Object.fromEntries(
      Object.entries(all).map(([k, p]) => [k, +(cpuSeconds(p.child.pid) - cpuBefore[k]).toFixed(2)]),
    )
    // the fagsystems' side: A's uploads, B's pop to disk and the SHA-256 check of the document
    cpu.benchmark = +(ownCpuSeconds() - benchCpuBefore).toFixed(2)
    cpu.total = +Object.values(cpu)
      .reduce((a, b) => a + b, 0)
      .toFixed(2)
    return { seconds: phases.deleted, phases, peakRssMiB: peak, peakRssAtRestMiB: atRest, cpuSeconds: cpu }
  } finally {
    for (const p of [procs.a, procs.b]) {
      await p.stop()
      rmSync(p.dir, { recursive: true, force: true })
    }
    await procs.broker.stop()
    rmSync(join(dir, 'broker'), { recursive: true, force: true })
    await procs.registry.stop()
  }
}

/** `openssl cms -encrypt` to B's certificate (streamed, DER); resolves with its peak RSS in MiB and CPU seconds. */
async function encrypt(source, out, cert) {
  const args = [
    '-f',
    '%M %U %S',
    'openssl',
    'cms',
    '-encrypt',
    '-binary',
    '-aes256',
    '-stream',
    '-outform',
    'DER',
  ]
  const child = spawn('/usr/bin/time', [...args, '-recip', cert, '-in', source, '-out', out], {
    stdio: ['ignore', 'inherit', 'pipe'],
  })
  let err = ''
  child.stderr.on('data', (d) => {
    err += d
  })
  const [code] = await once(child, 'exit')
  if (code !== 0) throw new Error(`openssl cms -encrypt failed: ${err}`)
  const [kb, user, system] = err.trim().split('\n').at(-1).split(' ').map(Number)
  return { peakRssMiB: Math.round(kb / 1024), cpuSeconds: +(user + system).toFixed(2) }
}

/** The baseline: encrypt with openssl, upload the result to a bare node:http server, download it again. */
async function baseline(dir, source, cert) {
  const stored = join(dir, 'baseline-stored.cms')
  const server = createServer(async (req, res) => {
    if (req.method !== 'PUT') return pipeline(createReadStream(stored), res)
    await pipeline(req, createWriteStream(stored))
    res.end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${server.address().port}/f`
  const encrypted = join(dir, 'baseline.cms')
  const started = performance.now()
  const benchCpuBefore = ownCpuSeconds()
  const openssl = await encrypt(source, encrypted, cert)
  const phases = { encrypted: seconds(started) }
  await (await call(url, { method: 'PUT', body: createReadStream(encrypted) })).body.dump()
  phases.uploaded = seconds(started)
  await pipeline((await call(url)).body, createWriteStream(join(dir, 'baseline-downloaded.cms')))
  phases.downloaded = seconds(started)
  server.close()
  // the HTTP server and client both run in this process
  const http = +(ownCpuSeconds() - benchCpuBefore).toFixed(2)
  const cpuSeconds = { openssl: openssl.cpuSeconds, http, total: +(openssl.cpuSeconds + http).toFixed(2) }
  return { seconds: phases.downloaded, phases, opensslPeakRssMiB: openssl.peakRssMiB, cpuSeconds }
}

const dir = mkdtempSync(join(tmpdir(), 'dpo-large-'))
const cleanUp = () => rmSync(dir, { recursive: true, force: true })
process.once('SIGINT', () => {
  cleanUp()
  process.exit(130)
})
try {
  const source = join(dir, 'source.bin')
  const sha256 = await generate(source)
  // BENCH_FLOOR_FIRST=1: the chains first, since on these virtual machines a run is faster after another
  // has freed the memory its files held (bench/README.md, "Large messages")
  const floorFirst = process.env.BENCH_FLOOR_FIRST === '1'
  const chains = async () => [
    await chainFloor(dir, source, sha256),
    await chainFloor(dir, source, sha256, false),
  ]
  const early = floorFirst ? await chains() : null
  const us = await ours(dir, source, sha256)
  rmSync(join(dir, 'popped-asic.zip'))
  const base = await baseline(
    dir,
    source,
    join(dir, 'registry/sandbox-data/service-registry/certs', `${ORG_B}.cert.pem`),
  )
  for (const f of ['baseline.cms', 'baseline-stored.cms', 'baseline-downloaded.cms']) rmSync(join(dir, f))
  const [floor, floorNoFsync] = early ?? (await chains())
  console.log(
    JSON.stringify(
      {
        benchmark: 'dpo-large',
        bytes: SIZE,
        ours: us,
        baseline: base,
        floorFirst,
        floor,
        floorNoFsync,
        ratio: +(base.seconds / us.seconds).toFixed(3),
        // the best ratio the exchange's four transfers allow, and how near ours comes to that chain
        floorRatio: +(base.seconds / floor.seconds).toFixed(3),
        ratioToFloor: +(floor.seconds / us.seconds).toFixed(3),
        floorNoFsyncRatio: +(base.seconds / floorNoFsync.seconds).toFixed(3),
        cpuRatio: +(base.cpuSeconds.total / us.cpuSeconds.total).toFixed(3),
        aimPeakRssMiB: Math.floor(200e6 / MIB),
      },
      null,
      2,
    ),
  )
} finally {
  cleanUp()
}
