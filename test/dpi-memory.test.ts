// A 50 MB digital letter through the integration point (create, a streamed PUT, send) and the access point
// stand-in (which decrypts and unpacks it as a mailbox), in constant memory: the live memory of this
// process, which runs both, is sampled after a collection while the letter travels.

import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebStream } from 'node:stream/web'
import { afterEach, describe, expect, it } from 'vitest'
import { DIGITAL_PERSON, type DpiWorld, startDpiWorld } from './support/dpi-world.js'
import { liveMemorySampler } from './support/live-memory.js'
import { eventually, json } from './support/poll.js'

/**
 * 50 MB: the API takes up to difi.move.dpi.upload-size-limit (50MB, that is 50 MiB) less the DPI channel's
 * packing headroom (64 KiB), see uploadLimitOf; the PUT's 200 shows it was taken.
 */
const SIZE = 50_000_000
const BLOCK = 1024 * 1024
/** holding the document once, anywhere on its way, would add 50 MB */
const BOUND = 24 * 1024 * 1024

/** Writes `size` random (incompressible) bytes to `path` a block at a time; answers their SHA-256. */
async function randomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256')
  async function* blocks() {
    for (let left = size; left > 0; left -= BLOCK) {
      const block = randomBytes(Math.min(BLOCK, left))
      hash.update(block)
      yield block
    }
  }
  await pipeline(Readable.from(blocks()), createWriteStream(path))
  return hash.digest('hex')
}

/** PUT the file to the message, streamed from disk; `onBytes` is told how much has gone so far. */
function upload(
  url: string,
  path: string,
  filename: string,
  onBytes: (sent: number) => void,
): Promise<{ status?: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'PUT',
      headers: {
        'content-type': 'application/pdf',
        'content-disposition': `attachment; name="Vedtak"; filename="${filename}"`,
        'content-length': String(SIZE),
      },
    })
    req.on('response', (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        text += c
      })
      res.on('end', () => resolve({ status: res.statusCode, text }))
    })
    req.on('error', reject)
    let sent = 0
    const count = new Transform({
      transform(chunk: Buffer, _e, done) {
        sent += chunk.length
        onBytes(sent)
        done(null, chunk)
      },
    })
    pipeline(createReadStream(path), count, req).catch(reject)
  })
}

// SQLite only: the store holds rows, never the document, so PostgreSQL would measure the same streams
describe('a 50 MB DPI letter', () => {
  let w: DpiWorld | undefined
  let dir: string | undefined
  afterEach(async () => {
    await w?.close()
    w = undefined
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('is uploaded, packed, sent, decrypted and delivered (LEVERT) in constant memory, byte-identical', async () => {
    w = await startDpiWorld('sqlite')
    dir = mkdtempSync(join(tmpdir(), 'dpi-memory-'))
    const file = join(dir, 'stor.pdf')
    const sha256 = await randomFile(file, SIZE)

    const proto = await json(`${w.ip.url}/api/prototype/digital?receiverIdentifier=${DIGITAL_PERSON}`)
    expect(proto.status).toBe(200)
    const sbd = proto.body
    Object.assign(sbd.digital, { hoveddokument: 'stor.pdf', tittel: 'Stort vedtak', sikkerhetsnivaa: 3 })
    const messageId: string = sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
    const created = await json(`${w.ip.url}/api/messages/out`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sbd),
    })
    expect(created.status, JSON.stringify(created.body)).toBe(200)

    const sampler = liveMemorySampler()
    try {
      // while the integration point takes the upload: at every 5 MB the client has sent
      sampler.phase = 'upload'
      let next = 0
      const put = await upload(`${w.ip.url}/api/messages/out/${messageId}`, file, 'stor.pdf', (sent) => {
        if (sent < next) return
        next += 5_000_000
        sampler.sample()
      })
      expect(put.status, put.text).toBe(200)
      // while it packs, encrypts and posts the letter, and the stand-in decrypts and unpacks it
      sampler.phase = 'send'
      sampler.every()
      const sent = await fetch(`${w.ip.url}/api/messages/out/${messageId}`, { method: 'POST' })
      expect(sent.status, await sent.text()).toBe(200)
      // a slow machine needs longer than untilStatuses waits for 50 MB to go through twice
      const world = w
      await eventually(
        async () => ((await world.statuses(messageId)).includes('LEVERT') ? true : undefined),
        `LEVERT on ${messageId}`,
        120_000,
        100,
      )
    } finally {
      sampler.stop()
    }
    const { growth, said } = sampler.report()
    // samples all along the upload, and along the packing, the access point's upload and the mailbox's unpacking
    expect(sampler.samples.upload, said).toBeGreaterThanOrEqual(10)
    expect(sampler.samples.send, said).toBeGreaterThanOrEqual(5)
    expect(growth, said).toBeLessThan(BOUND)

    const letter = await w.messageOf(messageId)
    expect(letter.documents).toHaveLength(1)
    expect(letter.documents[0]).toMatchObject({ href: 'stor.pdf', size: SIZE })
    const res = await fetch(letter.documents[0].url)
    expect(res.status).toBe(200)
    const hash = createHash('sha256')
    await pipeline(Readable.fromWeb(res.body as WebStream), hash)
    expect(hash.digest('hex')).toBe(sha256)
  }, 180_000)
})
