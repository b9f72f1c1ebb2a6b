// One-step multipart send of a 10 KiB file (POST /api/messages/out/multipart), beside baselines in the
// same run that make the same bytes durable with nothing else around them.
//
// BENCH_STORE=sqlite (the default): the integration point on SQLite, its default payload store (files, but
// a small one-step send's files in the database with their message); baselines, bare Fastify handlers
// streaming the parts with busboy:
//   - "durable": each part to a temp file that is fsynced, renamed into the message's folder, the folder
//     fsynced, and one row committed in SQLite (WAL, synchronous=FULL): the promise our 200 makes;
//   - "no file fsync": the same without the file and folder fsyncs (the baseline before issue 20);
//   - "bytes in the row": the message row and the parts' bytes in one SQLite transaction (synchronous=FULL).
// BENCH_STORE=postgres (BENCH_POSTGRES_URL or TEST_POSTGRES_URL): the integration point on PostgreSQL
// with payloads in the database (`use-db-persistence`); baseline, a bare handler inserting the message row
// and the two parts' bytes in one transaction.
// Reports requests/s, latency, the ratios, the integration point's peak RSS, and for each load the CPU of
// this process (autocannon, and the baseline's handler) per request and how many of the machine's cores
// were busy.
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { open, rename } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import Database from 'better-sqlite3'
import Busboy from 'busboy'
import Fastify from 'fastify'
import pg from 'pg'
import {
  benchProperties,
  cpuSeconds,
  freshSchema,
  PROCESS,
  peakRssMiB,
  RECEIVER,
  startIp,
  startRegistry,
  waitIdle,
} from './support.mjs'

const DURATION = Number(process.env.BENCH_SECONDS ?? 15)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16)
const STORE = process.env.BENCH_STORE ?? 'sqlite'
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL
if (STORE !== 'sqlite' && STORE !== 'postgres')
  throw new Error(`BENCH_STORE is sqlite or postgres, not ${STORE}`)
if (STORE === 'postgres' && !POSTGRES_URL) {
  console.error('BENCH_STORE=postgres needs BENCH_POSTGRES_URL or TEST_POSTGRES_URL')
  process.exit(2)
}
const FILE = Buffer.alloc(10 * 1024, 'a')
// an arkivmelding needs its arkivmelding.xml; both servers get the same two-file body
const ARKIVMELDING = `<?xml version="1.0" encoding="utf-8"?>
<arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <system>bench</system><meldingId>1</meldingId><tidspunkt>2026-01-01T00:00:00</tidspunkt><antallFiler>1</antallFiler>
  <mappe xsi:type="saksmappe"><systemID>sak-1</systemID><tittel>Sak</tittel>
    <basisregistrering xsi:type="journalpost"><systemID>jp-1</systemID>
      <dokumentbeskrivelse><systemID>d-1</systemID><tittel>Dokument</tittel><tilknyttetRegistreringSom>Hoveddokument</tilknyttetRegistreringSom><dokumentnummer>1</dokumentnummer>
        <dokumentobjekt><versjonsnummer>1</versjonsnummer><variantformat>Produksjonsformat</variantformat><referanseDokumentfil>dokument.txt</referanseDokumentfil></dokumentobjekt>
      </dokumentbeskrivelse>
      <tittel>Vedtak</tittel><offentligTittel>Vedtak</offentligTittel><journalpostnummer>1</journalpostnummer>
    </basisregistrering>
  </mappe>
</arkivmelding>`
const BOUNDARY = 'benchboundary7MA4YWxkTrZu0gW'

function multipartBody() {
  const sbd = {
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      receiver: [{ identifier: { authority: 'iso6523-actorid-upis', value: `0192:${RECEIVER}` } }],
      documentIdentification: {
        standard: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
        type: 'arkivmelding',
        typeVersion: '2.0',
        instanceIdentifier: randomUUID(),
      },
      businessScope: { scope: [{ identifier: PROCESS, type: 'ConversationId' }] },
    },
    arkivmelding: { hoveddokument: 'dokument.txt' },
  }
  const head =
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="sbd"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(sbd)}\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="Arkivmelding"; filename="arkivmelding.xml"\r\nContent-Type: application/xml\r\n\r\n${ARKIVMELDING}\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="Dokument"; filename="dokument.txt"\r\nContent-Type: text/plain\r\n\r\n`
  return Buffer.concat([Buffer.from(head), FILE, Buffer.from(`\r\n--${BOUNDARY}--\r\n`)])
}

async function load(url, duration = DURATION) {
  // this process's CPU (autocannon's, and the baseline handler's when it serves the load) and the machine's
  const cpu0 = process.cpuUsage()
  const machine0 = machineTicks()
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration,
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    requests: [{ setupRequest: (req) => ({ ...req, body: multipartBody() }) }],
  })
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    benchCpuMsPerRequest: cpuMsPer(process.cpuUsage(cpu0), result.requests.total),
    machineCoresBusy: coresBusy(machine0, machineTicks()),
  }
}

const cpuMsPer = ({ user, system }, requests) => +((user + system) / 1000 / requests).toFixed(3)

/** All the cores' busy and total ticks from /proc/stat (Linux; null elsewhere). */
function machineTicks() {
  try {
    const lines = readFileSync('/proc/stat', 'utf8').split('\n')
    const ticks = lines[0].trim().split(/\s+/).slice(1, 9).map(Number)
    const idle = ticks[3] + ticks[4]
    const total = ticks.reduce((a, b) => a + b, 0)
    return { busy: total - idle, total, cores: lines.filter((l) => /^cpu\d/.test(l)).length }
  } catch {
    return null
  }
}

/** How many of the machine's cores were busy, on average, between two readings. */
function coresBusy(a, b) {
  if (!a || !b || b.total === a.total) return null
  return +(((b.busy - a.busy) / (b.total - a.total)) * b.cores).toFixed(2)
}

/** Reads a multipart request with busboy: the sbd field, and each file given to `onFile`. */
async function readParts(req, onFile) {
  const bb = Busboy({ headers: req.headers })
  let sbd = ''
  const files = []
  bb.on('field', (name, value) => {
    if (name === 'sbd') sbd = value
  })
  bb.on('file', (_name, stream, info) => files.push(onFile(stream, info)))
  req.raw.pipe(bb)
  await once(bb, 'close')
  return { sbd, files: await Promise.all(files) }
}

/** The sbd field and each file's name and bytes, read whole into memory. */
function readPartsInMemory(req) {
  return readParts(req, async (stream, info) => {
    const chunks = []
    for await (const c of stream) chunks.push(c)
    return { name: info.filename, data: Buffer.concat(chunks) }
  })
}

async function fsyncPath(path) {
  const h = await open(path, 'r')
  try {
    await h.sync()
  } finally {
    await h.close()
  }
}

/** A file written, and fsynced before it is closed when `durable`. */
async function writeFile(path, stream, durable) {
  const h = await open(path, 'w')
  try {
    for await (const chunk of stream) await h.write(chunk)
    if (durable) await h.sync()
  } finally {
    await h.close()
  }
}

/** Stops a SQLite baseline and removes its folder (its rows and files are a gigabyte after a long run). */
async function closeBaseline(app, db, dir) {
  await app.close()
  db.close()
  rmSync(dir, { recursive: true, force: true })
}

/** The SQLite baseline: what any server must do for this request to be durable, and nothing more. */
async function startSqliteBaseline({ durable }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-baseline-'))
  const db = new Database(join(dir, 'baseline.sqlite'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec(
    'create table files (id integer primary key, message_id text unique, filename text, size integer, sbd text)',
  )
  const insert = db.prepare('insert into files (message_id, filename, size, sbd) values (?, ?, ?, ?)')
  mkdirSync(join(dir, 'tmp'))
  const app = Fastify()
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload))
  app.post('/upload', async (req, reply) => {
    const id = randomUUID()
    const { sbd, files } = await readParts(req, async (stream, info) => {
      const tmp = join(dir, 'tmp', randomUUID())
      await writeFile(tmp, stream, durable)
      return { tmp, name: info.filename }
    })
    const folder = join(dir, id)
    mkdirSync(folder)
    await Promise.all(files.map((f) => rename(f.tmp, join(folder, f.name))))
    if (durable) await Promise.all([fsyncPath(folder), fsyncPath(dir)])
    insert.run(id, files.map((f) => f.name).join(','), FILE.length, sbd)
    return reply.send({ ok: true })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    url: `http://127.0.0.1:${app.server.address().port}/upload`,
    close: () => closeBaseline(app, db, dir),
  }
}

/**
 * The SQLite baseline with the bytes in the database, as our SQLite store keeps a small send's files: the
 * message row and the parts' bytes inserted in one transaction (WAL, synchronous=FULL).
 */
async function startSqliteRowBaseline() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-baseline-'))
  const db = new Database(join(dir, 'baseline.sqlite'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec(
    `create table messages (id text primary key, sbd text not null);
     create table files (message_id text not null references messages(id), filename text not null, data blob not null,
       primary key (message_id, filename))`,
  )
  const insertMessage = db.prepare('insert into messages (id, sbd) values (?, ?)')
  const insertFile = db.prepare('insert into files (message_id, filename, data) values (?, ?, ?)')
  const store = db.transaction((id, sbd, files) => {
    insertMessage.run(id, sbd)
    for (const f of files) insertFile.run(id, f.name, f.data)
  })
  const app = Fastify()
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload))
  app.post('/upload', async (req, reply) => {
    const { sbd, files } = await readPartsInMemory(req)
    store(randomUUID(), sbd, files)
    return reply.send({ ok: true })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    url: `http://127.0.0.1:${app.server.address().port}/upload`,
    close: () => closeBaseline(app, db, dir),
  }
}

/** The PostgreSQL baseline: the message row and the parts' bytes inserted in one transaction. */
async function startPostgresBaseline(url) {
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  await pool.query(
    `create table messages (id uuid primary key, sbd text not null);
     create table files (message_id uuid not null references messages(id), filename text not null, data bytea not null,
       primary key (message_id, filename))`,
  )
  const app = Fastify()
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload))
  app.post('/upload', async (req, reply) => {
    const { sbd, files } = await readPartsInMemory(req)
    const id = randomUUID()
    const c = await pool.connect()
    try {
      await c.query('begin')
      await c.query('insert into messages (id, sbd) values ($1, $2)', [id, sbd])
      await c.query(
        'insert into files (message_id, filename, data) select $1, * from unnest($2::text[], $3::bytea[])',
        [id, files.map((f) => f.name), files.map((f) => f.data)],
      )
      await c.query('commit')
    } catch (e) {
      await c.query('rollback')
      throw e
    } finally {
      c.release()
    }
    return reply.send({ ok: true })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    url: `http://127.0.0.1:${app.server.address().port}/upload`,
    close: async () => {
      await app.close()
      await pool.end()
    },
  }
}

const registry = await startRegistry()
const admin = STORE === 'postgres' ? new pg.Client({ connectionString: POSTGRES_URL }) : null
await admin?.connect()
const schemas = []
let ipProps = benchProperties(registry.url)
const baselines = []
if (STORE === 'postgres') {
  const forIp = await freshSchema(admin, POSTGRES_URL, 'bench_ip')
  const forBase = await freshSchema(admin, POSTGRES_URL, 'bench_base')
  schemas.push(forIp.schema, forBase.schema)
  ipProps = benchProperties(registry.url, {
    'difi.datasource.url': forIp.url,
    'difi.move.nextmove.use-db-persistence': 'true',
  })
  baselines.push({ name: 'durable', server: await startPostgresBaseline(forBase.pgUrl) })
} else {
  baselines.push({ name: 'durable', server: await startSqliteBaseline({ durable: true }) })
  baselines.push({ name: 'no file fsync', server: await startSqliteBaseline({ durable: false }) })
  baselines.push({ name: 'bytes in the row', server: await startSqliteRowBaseline() })
}
const ip = await startIp(ipProps)

let ours
const base = {}
let oursRss
try {
  const warm = await load(`${ip.url}/api/messages/out/multipart`, 3)
  if (warm.non2xx) throw new Error(`integration point answered ${warm.non2xx} non-2xx during warm-up`)
  await waitIdle(ip.child.pid)
  for (const b of baselines) await load(b.server.url, 3)
  const cpuBefore = cpuSeconds(ip.child.pid)
  ours = await load(`${ip.url}/api/messages/out/multipart`)
  // CPU time per request: less bent than requests/s when other work shares the cores
  ours.cpuMsPerRequest = +(((cpuSeconds(ip.child.pid) - cpuBefore) * 1000) / ours.requests).toFixed(2)
  if (ours.non2xx) throw new Error(`integration point answered ${ours.non2xx} non-2xx`)
  // each message's send job runs after its 200 (in this benchmark it fails at once: no broker); those
  // still queued when the load ends run now, before the baselines, and count in the CPU per message
  ours.drainSeconds = await waitIdle(ip.child.pid)
  ours.cpuMsPerRequestWithJobs = +(((cpuSeconds(ip.child.pid) - cpuBefore) * 1000) / ours.requests).toFixed(2)
  for (const b of baselines) {
    base[b.name] = await load(b.server.url)
    if (base[b.name].non2xx) throw new Error(`baseline ${b.name} answered ${base[b.name].non2xx} non-2xx`)
  }
  oursRss = peakRssMiB(ip.child.pid)
} finally {
  await ip.stop()
  rmSync(ip.dir, { recursive: true, force: true })
  for (const b of baselines) await b.server.close()
  registry.close()
  for (const schema of schemas) await admin.query(`drop schema ${schema} cascade`)
  await admin?.end()
}

console.log(
  JSON.stringify(
    {
      benchmark: 'multipart-send-10KiB',
      store: STORE,
      seconds: DURATION,
      connections: CONNECTIONS,
      ours,
      baseline: base,
      ratios: Object.fromEntries(Object.entries(base).map(([k, v]) => [k, +(ours.rps / v.rps).toFixed(2)])),
      oursPeakRssMiB: oursRss,
      registryCalls: registry.calls(),
    },
    null,
    2,
  ),
)
