// Uploads one large file (default 2 GiB) with PUT /api/messages/out/{id} to an integration point in its
// own process and reports the server's peak RSS before and after, beside a baseline in the same run:
// a bare node:http server piping the same bytes to a file.
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { request } from 'undici'
import { benchProperties, PROCESS, peakRssMiB, RECEIVER, startIp, startRegistry } from './support.mjs'

const SIZE = Number(process.env.BENCH_BYTES ?? 2 * 1024 ** 3)
const CHUNK = Buffer.alloc(1024 * 1024, 0x5a)

function body() {
  let sent = 0
  return Readable.from(
    (function* () {
      while (sent < SIZE) {
        const n = Math.min(CHUNK.length, SIZE - sent)
        sent += n
        yield n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n)
      }
    })(),
  )
}

async function upload(url, headers) {
  const started = process.hrtime.bigint()
  const res = await request(url, {
    method: 'PUT',
    headers: { 'content-length': String(SIZE), ...headers },
    body: body(),
    headersTimeout: 0,
    bodyTimeout: 0,
  })
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`upload answered ${res.statusCode}: ${text}`)
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return { seconds: +seconds.toFixed(2), MiBps: Math.round(SIZE / 1024 ** 2 / seconds) }
}

const registry = await startRegistry()
const ip = await startIp(benchProperties(registry.url, { 'difi.move.dpo.upload-size-limit': '8GB' }))
const sbd = {
  standardBusinessDocumentHeader: {
    headerVersion: '1.0',
    receiver: [{ identifier: { authority: 'iso6523-actorid-upis', value: `0192:${RECEIVER}` } }],
    documentIdentification: {
      standard: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
      type: 'arkivmelding',
      typeVersion: '2.0',
    },
    businessScope: { scope: [{ identifier: PROCESS, type: 'ConversationId' }] },
  },
  arkivmelding: {},
}
const created = await request(`${ip.url}/api/messages/out`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(sbd),
})
const messageId = (await created.body.json()).standardBusinessDocumentHeader.documentIdentification
  .instanceIdentifier
const rssBefore = peakRssMiB(ip.child.pid)
const ours = await upload(`${ip.url}/api/messages/out/${messageId}`, {
  'content-type': 'application/octet-stream',
  'content-disposition': 'attachment; name=Stor; filename=stor.bin',
})
const oursPeak = peakRssMiB(ip.child.pid)
await ip.stop()
rmSync(ip.dir, { recursive: true, force: true })
registry.close()

// baseline: the same bytes to a file with nothing else
const dir = mkdtempSync(join(tmpdir(), 'bench-put-'))
const server = createServer(async (req, res) => {
  await pipeline(req, createWriteStream(join(dir, 'f')))
  res.end()
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const base = await upload(`http://127.0.0.1:${server.address().port}/`, {})
server.close()
rmSync(dir, { recursive: true, force: true })

console.log(
  JSON.stringify(
    {
      benchmark: 'put-large',
      bytes: SIZE,
      ours,
      baseline: base,
      ratio: +(base.seconds / ours.seconds).toFixed(2),
      oursPeakRssMiB: { beforeUpload: rssBefore, afterUpload: oursPeak },
    },
    null,
    2,
  ),
)
