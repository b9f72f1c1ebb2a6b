import { createHash } from 'node:crypto'
import { request } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { liveBytes } from '../../../test/support/live-memory.js'
import { decryptStream, encryptStream } from '../../packaging/cms.js'
import { basic, fiksHeaders, forsendelse, harness, KONTO_A, ORG_A, ORG_B } from './test-support.js'

// A 100 MiB document through the send (multipart → disk → CMS decryption → disk) and the SvarInn
// download (disk → zip → CMS encryption → socket) with the memory of a small one.

const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()))
})

const TOTAL = 100 * 1024 * 1024
const PIECE = Buffer.alloc(64 * 1024, 0x61)

function* pieces(): Generator<Buffer> {
  for (let n = 0; n < TOTAL / PIECE.length; n++) yield PIECE
}

/** Streams a multipart send whose one document is `TOTAL` bytes encrypted on the fly, pulling as the socket takes it. */
function streamSend(
  url: string,
  certPem: string,
  f: Record<string, unknown>,
  onChunk: (sent: number) => void,
) {
  const boundary = 'svarut-memory-boundary'
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="forsendelse"\r\n\r\n${JSON.stringify(f)}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="filer_0"; filename="stor.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const { hostname, port } = new URL(url)
  return new Promise<{ status: number | undefined; text: string }>((resolve, reject) => {
    const req = request({
      host: hostname,
      port,
      path: `/api/v3/kontoer/${KONTO_A}/forsendelser/organisasjon`,
      method: 'POST',
      headers: { ...fiksHeaders(ORG_A), 'content-type': `multipart/form-data; boundary=${boundary}` },
    })
    req.on('response', (res) => {
      let text = ''
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode, text }))
    })
    req.on('error', reject)
    let sent = 0
    const body = async function* () {
      yield head
      for await (const chunk of Readable.from(pieces()).pipe(encryptStream(certPem))) {
        sent += (chunk as Buffer).length
        onChunk(sent)
        yield chunk as Buffer
      }
      yield tail
    }
    pipeline(Readable.from(body()), req).catch(reject)
  })
}

describe('memory', () => {
  it('a 100 MiB document is sent, decrypted and stored byte-identical, and downloaded, in constant memory', async () => {
    const h = await harness()
    open.push(h)
    const hash = createHash('sha256')
    for (const p of pieces()) hash.update(p)
    const sha = hash.digest('hex')
    const f = forsendelse({
      mottaker: { navn: 'B', digitalId: ORG_B },
      dokumenter: [{ filnavn: 'stor.pdf', mimeType: 'application/pdf' }],
    })
    const live = liveBytes()
    const before = live()
    let peak = before
    let samples = 0
    let next = 0
    const res = await streamSend(h.svarut.url, h.svarut.certificatePem, f, (sent) => {
      if (sent < next) return
      next += 5 * 1024 * 1024
      samples++
      peak = Math.max(peak, live())
    })
    expect(res.status, res.text).toBe(200)
    peak = Math.max(peak, live())
    expect(samples).toBeGreaterThanOrEqual(15)
    // holding the body would add 100 MiB
    expect(peak - before).toBeLessThan(32 * 1024 * 1024)
    const { id } = JSON.parse(res.text)
    const item = await (await h.call(`/sandbox/api/forsendelser/${id}`)).json()
    expect(item.dokumenter[0]).toMatchObject({ size: TOTAL, sha256: sha })

    // the download, decrypted as it arrives: the zip's bytes are counted, never held
    const dl = await h.call(`/tjenester/svarinn/forsendelse/${id}`, {
      headers: { authorization: basic(ORG_B) },
    })
    expect(dl.status).toBe(200)
    const start = live()
    let peakDl = start
    let zipBytes = 0
    let nextDl = 0
    await pipeline(
      Readable.fromWeb(dl.body as import('node:stream/web').ReadableStream),
      decryptStream(h.b.keyPem),
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) {
          zipBytes += chunk.length
          if (zipBytes < nextDl) continue
          nextDl += 5 * 1024 * 1024
          peakDl = Math.max(peakDl, live())
        }
      },
    )
    expect(zipBytes).toBeGreaterThan(0)
    expect(peakDl - start).toBeLessThan(32 * 1024 * 1024)
  }, 120_000)
})
