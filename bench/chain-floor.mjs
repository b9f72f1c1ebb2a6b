// The shortest chain a DPO message can take, as a floor for `dpo-large`: the same four transfers of the
// same bytes between the same kinds of process, each doing only what the exchange cannot do without.
//
//   1. the fagsystem PUTs the document to the sender, which writes it and fsyncs it (a 200 is durable);
//   2. the sender reads it, encrypts it with AES-256-CBC (CMS's cipher, without the CMS envelope or the
//      ASiC-E around it) and PUTs it to the broker, which counts its MD5 (Altinn's checksum) as it writes;
//      the sender then removes its copy;
//   3. the receiver GETs it from the broker, writes it and fsyncs it;
//   4. the fagsystem GETs it from the receiver, which decrypts it as it reads, and hashes it (SHA-256) as
//      it writes it to disk, as `dpo-large`'s fagsystem checks the document as the pop arrives.
//
// The sender and the receiver are one process (as the integration point is one process for both
// directions), the broker another, the fagsystem the benchmark's: every step has two processes at work,
// as in `dpo-large`. Left out: the ASiC-E and sbd.zip packaging, the CRC-32s and the manifest's digest,
// the receiver's check of the package, the CMS envelope and signatures, database rows and commits, polls
// and peeks. What `dpo-large` spends beyond this chain is the integration point's own cost (and the
// broker stand-in's, beyond its MD5); what this chain spends beyond the baseline is the exchange's shape.
//
// Run as a child: `node bench/chain-floor.mjs ip <dir> <brokerUrl> durable|no-fsync` or `node bench/chain-floor.mjs broker
// <dir>`; each prints `FLOOR-READY <url>`.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdirSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { READ_PIECE_BYTES } from '../dist/src/files/payload-store.js'
import { syncingWriteStream } from '../dist/src/files/sync-ahead.js'
import { tuneRuntime } from '../dist/src/ops/runtime.js'
import { cpuSeconds, spawnUntil } from './support.mjs'

const NO_TIMEOUT = { headersTimeout: 0, bodyTimeout: 0 }
const KEY = randomBytes(32)
const IV = randomBytes(16)

/**
 * Written and fsynced as the integration point writes what it must keep (written back as it arrives), or,
 * for the chain without fsyncs, written as the baseline writes.
 */
const keptFile = (path, durable) =>
  durable ? syncingWriteStream(path, { flush: true, ahead: true }) : createWriteStream(path)

/** A pass-through that feeds every chunk to `hash` on the way. */
const hashing = (hash) =>
  new Transform({
    transform(chunk, _e, done) {
      hash.update(chunk)
      done(null, chunk)
    },
  })

async function call(url, opts = {}) {
  const res = await request(url, { ...NO_TIMEOUT, ...opts })
  if (res.statusCode !== 200) throw new Error(`${opts.method ?? 'GET'} ${url}: ${res.statusCode}`)
  return res
}

function serve(handler) {
  const server = createServer((req, res) => {
    handler(req, res).then(
      () => res.end(),
      (error) => {
        res.statusCode = 500
        res.end(String(error))
      },
    )
  })
  server.listen(0, '127.0.0.1', () => console.log(`FLOOR-READY http://127.0.0.1:${server.address().port}`))
}

/** The sender and the receiver. */
function ip(dir, brokerUrl, durable) {
  const sent = join(dir, 'ip-upload.bin')
  const received = join(dir, 'ip-download.bin')
  serve(async (req, res) => {
    if (req.url === '/upload') await pipeline(req, keptFile(sent, durable))
    else if (req.url === '/send') {
      req.resume()
      const cipher = createCipheriv('aes-256-cbc', KEY, IV)
      const body = createReadStream(sent, { highWaterMark: READ_PIECE_BYTES }).pipe(cipher)
      await (await call(`${brokerUrl}/file`, { method: 'PUT', body })).body.dump()
      // as the integration point removes a message's files once the broker has them
      rmSync(sent)
    } else if (req.url === '/fetch') {
      req.resume()
      await pipeline((await call(`${brokerUrl}/file`)).body, keptFile(received, durable))
    } else if (req.url === '/pop') {
      const decipher = createDecipheriv('aes-256-cbc', KEY, IV)
      await pipeline(createReadStream(received, { highWaterMark: READ_PIECE_BYTES }), decipher, res)
    } else throw new Error(`no ${req.url}`)
  })
}

/** The broker: keeps the file and its MD5, as the Altinn broker stand-in does (no fsync there either). */
function broker(dir) {
  const file = join(dir, 'broker.bin')
  serve(async (req, res) => {
    if (req.method === 'PUT') {
      const md5 = createHash('md5')
      await pipeline(req, hashing(md5), createWriteStream(file))
      res.setHeader('content-md5', md5.digest('base64'))
    } else await pipeline(createReadStream(file, { highWaterMark: READ_PIECE_BYTES }), res)
  })
}

/** One of the chain's processes, this file run as `role`, once it listens. */
const start = (role, dir, brokerUrl = '', durable = true) =>
  spawnUntil(
    [fileURLToPath(import.meta.url), role, dir, brokerUrl, durable ? 'durable' : 'no-fsync'],
    dir,
    /FLOOR-READY (\S+)/,
    `chain-floor ${role}`,
  )

const seconds = (from) => +((performance.now() - from) / 1000).toFixed(2)

/**
 * Runs the chain once with the file at `source`; resolves with its phases (seconds from the start, each
 * at its step's end), and throws unless the bytes the fagsystem got back hash to `sha256`. `durable`
 * false: the sender and the receiver do not fsync (as the baseline does not), to show what the two
 * fsynced gigabytes cost.
 */
export async function chainFloor(dir, source, sha256, durable = true) {
  const work = join(dir, 'floor')
  mkdirSync(work)
  const running = []
  try {
    const brokerProc = await start('broker', work)
    running.push(brokerProc)
    const ipProc = await start('ip', work, brokerProc.ready, durable)
    running.push(ipProc)
    const ipUrl = ipProc.ready
    const procs = { ip: ipProc.child.pid, broker: brokerProc.child.pid }
    const cpuBefore = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, cpuSeconds(pid)]))
    const ownBefore = process.cpuUsage()
    const started = performance.now()
    const phases = {}
    // with its length, as dpo-large's fagsystem uploads
    const upload = { method: 'PUT', headers: { 'content-length': String(statSync(source).size) } }
    await (await call(`${ipUrl}/upload`, { ...upload, body: createReadStream(source) })).body.dump()
    phases.uploaded = seconds(started)
    await (await call(`${ipUrl}/send`, { method: 'POST' })).body.dump()
    phases.atBroker = seconds(started)
    await (await call(`${ipUrl}/fetch`, { method: 'POST' })).body.dump()
    phases.atReceiver = seconds(started)
    const hash = createHash('sha256')
    const popped = createWriteStream(join(work, 'popped.bin'))
    await pipeline((await call(`${ipUrl}/pop`)).body, hashing(hash), popped)
    phases.popped = seconds(started)
    const got = hash.digest('hex')
    if (got !== sha256) throw new Error(`the floor chain delivered SHA-256 ${got}, not ${sha256}`)
    const cpu = Object.fromEntries(
      Object.entries(procs).map(([k, pid]) => [k, +(cpuSeconds(pid) - cpuBefore[k]).toFixed(2)]),
    )
    const own = process.cpuUsage(ownBefore)
    cpu.benchmark = +((own.user + own.system) / 1e6).toFixed(2)
    cpu.total = +Object.values(cpu)
      .reduce((a, b) => a + b, 0)
      .toFixed(2)
    return { seconds: phases.popped, phases, cpuSeconds: cpu }
  } finally {
    for (const p of running) await p.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // as every command of the integration point and the broker stand-in's process in the benchmarks
  tuneRuntime()
  // exit through process.exit, so that --cpu-prof writes its profile
  process.once('SIGTERM', () => process.exit(0))
  const [role, dir, brokerUrl, durable] = process.argv.slice(2)
  if (role === 'ip') ip(dir, brokerUrl, durable === 'durable')
  else if (role === 'broker') broker(dir)
  else throw new Error(`chain-floor: no role ${role}`)
}
