// One-step multipart send of a 10 KiB file (POST /api/messages/out/multipart) against SQLite, beside a
// baseline in the same run: a bare Fastify handler that streams the same multipart file to disk
// (temp file + rename) and inserts one row. Reports requests/s, the ratio, and peak RSS.
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createWriteStream, mkdtempSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import autocannon from 'autocannon'
import Database from 'better-sqlite3'
import Busboy from 'busboy'
import Fastify from 'fastify'
import { benchProperties, PROCESS, peakRssMiB, RECEIVER, startIp, startRegistry } from './support.mjs'

const DURATION = Number(process.env.BENCH_SECONDS ?? 15)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16)
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
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration,
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    requests: [{ setupRequest: (req) => ({ ...req, body: multipartBody() }) }],
  })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  }
}

/** The baseline: what any server must do for this request, and nothing more. */
async function startBaseline() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-baseline-'))
  const db = new Database(join(dir, 'baseline.sqlite'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec(
    'create table files (id integer primary key, message_id text unique, filename text, size integer, sbd text)',
  )
  const insert = db.prepare('insert into files (message_id, filename, size, sbd) values (?, ?, ?, ?)')
  const app = Fastify()
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload))
  app.post('/upload', async (req, reply) => {
    const bb = Busboy({ headers: req.headers })
    let sbd = ''
    const files = []
    bb.on('field', (name, value) => {
      if (name === 'sbd') sbd = value
    })
    bb.on('file', (_name, stream, info) => {
      const tmp = join(dir, randomUUID())
      files.push(
        pipeline(stream, createWriteStream(tmp))
          .then(() => renameSync(tmp, `${tmp}.done`))
          .then(() => info.filename),
      )
    })
    req.raw.pipe(bb)
    await once(bb, 'close')
    const names = await Promise.all(files)
    insert.run(randomUUID(), names.join(','), FILE.length, sbd)
    return reply.send({ ok: true })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    url: `http://127.0.0.1:${app.server.address().port}/upload`,
    pid: process.pid,
    close: () => app.close(),
  }
}

const registry = await startRegistry()
const ip = await startIp(benchProperties(registry.url))
const baseline = await startBaseline()

let ours
let base
let oursRss
try {
  const warm = await load(`${ip.url}/api/messages/out/multipart`, 3)
  if (warm.non2xx) throw new Error(`integration point answered ${warm.non2xx} non-2xx during warm-up`)
  await load(baseline.url, 3)
  ours = await load(`${ip.url}/api/messages/out/multipart`)
  if (ours.non2xx) throw new Error(`integration point answered ${ours.non2xx} non-2xx`)
  base = await load(baseline.url)
  oursRss = peakRssMiB(ip.child.pid)
} finally {
  await ip.stop()
  await baseline.close()
  registry.close()
}

console.log(
  JSON.stringify(
    {
      benchmark: 'multipart-send-10KiB',
      seconds: DURATION,
      connections: CONNECTIONS,
      ours,
      baseline: base,
      ratio: +(ours.rps / base.rps).toFixed(2),
      oursPeakRssMiB: oursRss,
      registryCalls: registry.calls(),
    },
    null,
    2,
  ),
)
