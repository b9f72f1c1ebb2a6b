import { createHash } from 'node:crypto'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { text } from 'node:stream/consumers'
import { crc32 } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { IN_MEMORY_PART_BYTES } from '../src/messages/out/multipart-send.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { arkivmeldingSbd, filesUnder, jsonBody, startTestIp, type TestIp } from './support/ip.js'

warnIfPostgresSkipped()

type Json = Record<string, any>

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** A payload's bytes that no compression shortens and no offset mix-up leaves equal. */
function bytes(n: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 7919 + (i >> 11)) % 251
  return b
}

/** A one-step send's body: the SBD, arkivmelding.xml and vedtak.pdf. */
function multipartForm(messageId: string, pdf: Buffer): FormData {
  const form = new FormData()
  form.append(
    'sbd',
    new Blob([JSON.stringify(arkivmeldingSbd({ messageId, hoveddokument: 'vedtak.pdf' }))], {
      type: 'application/json',
    }),
  )
  const xml = arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Vedtak' })
  form.append('Arkivmelding', new Blob([xml], { type: 'application/xml' }), 'arkivmelding.xml')
  form.append('Vedtak', new Blob([new Uint8Array(pdf)], { type: 'application/pdf' }), 'vedtak.pdf')
  return form
}

describe.each(STORES)('payloads in the database through the API, on %s', (kind) => {
  let ip: TestIp
  beforeEach(async () => {
    ip = await startTestIp(kind, {
      overrides: {
        'difi.move.nextmove.use-db-persistence': 'true',
        'difi.move.dpo.upload-size-limit': '8MB',
      },
    })
  })
  afterEach(async () => ip.close())

  const payloadRows = () => ip.db.kysely.selectFrom('payloads').selectAll().orderBy('key').execute()

  async function create(messageId?: string): Promise<string> {
    const res = await ip.json<Json>(
      '/api/messages/out',
      jsonBody(arkivmeldingSbd({ hoveddokument: 'vedtak.pdf', messageId })),
    )
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
  }

  function put(id: string, filename: string, body: Buffer | string, type = 'application/pdf') {
    return ip.json<Json>(`/api/messages/out/${id}`, {
      method: 'PUT',
      headers: {
        'content-type': type,
        'content-disposition': `attachment; name=Vedlegg; filename=${filename}`,
      },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    })
  }

  it('stores uploads in the database, reads arkivmelding.xml back from it, sends, and leaves no file on disk', async () => {
    const id = await create()
    const pdf = bytes(3 * 1024 * 1024 + 17)
    expect((await put(id, 'vedtak.pdf', pdf)).status).toBe(200)
    const xml = arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Vedtak fra basen' })
    expect((await put(id, 'arkivmelding.xml', xml, 'application/xml')).status).toBe(200)

    const files = await ip.db.kysely.selectFrom('out_files').selectAll().orderBy('dokumentnummer').execute()
    const rows = await payloadRows()
    expect(rows.map((r) => [r.key, r.size, r.sha256])).toEqual(
      files.map((f) => [f.storage_key, f.size, f.sha256]).sort(),
    )
    expect(files.find((f) => f.filename === 'vedtak.pdf')).toMatchObject({
      size: pdf.length,
      sha256: sha256(pdf),
      crc32: crc32(pdf),
    })
    const stored: Buffer[] = []
    for await (const chunk of ip.payloads.read(files[0]!.storage_key)) stored.push(chunk as Buffer)
    expect(Buffer.concat(stored).equals(pdf)).toBe(true)
    // the conversation's title came from arkivmelding.xml, read back from the database
    expect((await ip.json<Json>(`/api/conversations/messageId/${id}`)).body.messageTitle).toBe(
      'Vedtak fra basen',
    )
    // the send check reads arkivmelding.xml again to see that vedtak.pdf is there
    expect((await ip.json<Json>(`/api/messages/out/${id}`, { method: 'POST' })).status).toBe(200)
    expect(filesUnder(ip, '')).toEqual([])
  })

  it("keeps each upload's CRC-32 with its file, an unsigned 32-bit number, for the send to store it by", async () => {
    const id = await create()
    // the CRC-32 check value, over 2^31: a signed column would not hold it
    expect((await put(id, 'ni.txt', '123456789', 'text/plain')).status).toBe(200)
    const row = await ip.db.kysely.selectFrom('out_files').selectAll().executeTakeFirstOrThrow()
    expect(row).toMatchObject({ filename: 'ni.txt', size: 9, crc32: 0xcbf43926 })
  })

  it('removes the payloads with their message', async () => {
    const id = await create()
    expect((await put(id, 'vedtak.pdf', bytes(100_000))).status).toBe(200)
    const kept = await create()
    expect((await put(kept, 'vedtak.pdf', 'kept')).status).toBe(200)
    expect(await payloadRows()).toHaveLength(2)
    expect((await ip.fetch(`/api/messages/out/${id}`, { method: 'DELETE' })).status).toBe(200)
    const left = await payloadRows()
    expect(left.map((r) => r.key)).toEqual([expect.stringContaining(kept)])
    expect(await text(ip.payloads.read(left[0]!.key!))).toBe('kept')
    expect(await ip.db.kysely.selectFrom('payload_chunks').select('seq').execute()).toHaveLength(1)
  })

  it('refuses an upload over the limit while it streams and keeps nothing of it', async () => {
    const id = await create()
    const res = await put(id, 'vedtak.pdf', bytes(9 * 1024 * 1024))
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
    expect(await payloadRows()).toEqual([])
    expect(await ip.db.kysely.selectFrom('payload_chunks').select('seq').execute()).toEqual([])
  })

  async function expectStored(pdf: Buffer) {
    const files = await ip.db.kysely.selectFrom('out_files').selectAll().orderBy('dokumentnummer').execute()
    expect(files.map((f) => f.filename)).toEqual(['arkivmelding.xml', 'vedtak.pdf'])
    for (const f of files) expect(await ip.payloads.exists(f.storage_key)).toBe(true)
    expect(files[1]).toMatchObject({ size: pdf.length, sha256: sha256(pdf) })
    const back = Buffer.concat(await ip.payloads.read(files[1]!.storage_key).toArray())
    expect(sha256(back)).toBe(sha256(pdf))
    expect(await text(ip.payloads.read(files[0]!.storage_key))).toBe(
      arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Vedtak' }),
    )
    // the multipart parts were local temp files: stored, then gone
    expect(filesUnder(ip, '')).toEqual([])
    return files
  }

  it('stores the parts of a one-step multipart send in the transaction that stores the message', async () => {
    const pdf = bytes(1024 * 1024 + 5)
    const res = await ip.json<Json>('/api/messages/out/multipart', {
      method: 'POST',
      body: multipartForm('ff88849c-e281-4809-8555-7cd54952b916', pdf),
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    await expectStored(pdf)
    // two chunks for the 1 MiB + 5 document, one for arkivmelding.xml
    expect(await ip.db.kysely.selectFrom('payload_chunks').select('seq').execute()).toHaveLength(3)
  })

  it('adopts parts larger together than a transaction takes chunk by chunk first, as an upload', async () => {
    const pdf = bytes(4 * 1024 * 1024 + 3)
    const res = await ip.json<Json>('/api/messages/out/multipart', {
      method: 'POST',
      body: multipartForm('0c0b4c54-5b0e-4d8c-9a57-3a3f2f3d0e11', pdf),
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    await expectStored(pdf)
  })

  it('holds the small parts of a one-step send in memory: only a part too large for that gets a temp file', async () => {
    const pdf = bytes(IN_MEMORY_PART_BYTES + 4096)
    const form = new Response(multipartForm('a3f1c2d4-7b8e-4f90-8a1b-2c3d4e5f6a7b', pdf))
    const body = Buffer.from(await form.arrayBuffer())
    const dir = ip.payloads.tempDir
    const parts = () => (existsSync(dir) ? readdirSync(dir) : [])
    const documentWritten = () => parts().some((f) => statSync(join(dir, f)).size > IN_MEMORY_PART_BYTES)
    expect(parts()).toEqual([])
    const req = request(`${ip.url}/api/messages/out/multipart`, {
      method: 'POST',
      headers: { 'content-type': form.headers.get('content-type')!, 'content-length': body.length },
    })
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      req.on('response', async (res) => resolve({ status: res.statusCode!, text: await text(res) }))
      req.on('error', reject)
    })
    // all but the end of the document: arkivmelding.xml, before it, is whole by the time the document's
    // temp file exists
    req.write(body.subarray(0, body.length - 100))
    try {
      const deadline = Date.now() + 5000
      while (!documentWritten() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
      expect(parts()).toHaveLength(1)
    } finally {
      // also after a failed expectation, so the server is not left waiting for the rest of the body
      req.end(body.subarray(body.length - 100))
    }
    const res = await answer
    expect(res.status, res.text).toBe(200)
    await expectStored(pdf)
    expect(parts()).toEqual([])
  })

  it("keeps only the winner's parts when the same message is sent twice at once", async () => {
    const messageId = '5d7e3f9a-58a4-4b0e-9d43-6c1f2a7b8e90'
    const pdf = bytes(64 * 1024)
    const answers = await Promise.all(
      [0, 1, 2].map(() =>
        ip.json<Json>('/api/messages/out/multipart', { method: 'POST', body: multipartForm(messageId, pdf) }),
      ),
    )
    const statuses = answers.map((a) => a.status).sort()
    expect(statuses[0]).toBe(200)
    expect(statuses.filter((s) => s === 200)).toHaveLength(1)
    for (const s of statuses.slice(1)) expect(s).toBeGreaterThanOrEqual(400)
    for (const s of statuses) expect(s).toBeLessThan(500)
    const files = await expectStored(pdf)
    // the losers' payloads rolled back with their transactions, or were never stored
    expect((await payloadRows()).map((r) => r.key)).toEqual(files.map((f) => f.storage_key).sort())
  })
})

describe('small one-step sends in the database with use-db-persistence left unset, on sqlite', () => {
  let ip: TestIp
  beforeEach(async () => {
    ip = await startTestIp('sqlite', { configuredPayloadStore: true })
  })
  afterEach(async () => ip.close())

  async function send(messageId: string, pdf: Buffer) {
    const res = await ip.json<Json>('/api/messages/out/multipart', {
      method: 'POST',
      body: multipartForm(messageId, pdf),
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const files = await ip.db.kysely
      .selectFrom('out_files')
      .innerJoin('out_messages', 'out_messages.id', 'out_files.message_fk')
      .where('out_messages.message_id', '=', messageId)
      .select(['storage_key', 'sha256'])
      .orderBy('dokumentnummer')
      .execute()
    expect(files).toHaveLength(2)
    const back = Buffer.concat(await ip.payloads.read(files[1]!.storage_key).toArray())
    expect(sha256(back)).toBe(sha256(pdf))
    expect(files[1]!.sha256).toBe(sha256(pdf))
    return files
  }

  it('stores the files of a small send in its transaction, and no file at all', async () => {
    const id = 'c5a7e1f0-3b2d-4c6e-9f8a-1b2c3d4e5f60'
    const files = await send(id, bytes(10 * 1024))
    const rows = await ip.db.kysely.selectFrom('payloads').select('key').orderBy('key').execute()
    expect(rows.map((r) => r.key)).toEqual(files.map((f) => f.storage_key).sort())
    expect(filesUnder(ip, '')).toEqual([])
  })

  it('keeps a send with a part too large to hold in memory as files, as before', async () => {
    const id = 'd6b8f2a1-4c3e-4d7f-8a9b-2c3d4e5f6a71'
    await send(id, bytes(IN_MEMORY_PART_BYTES + 1))
    expect(await ip.db.kysely.selectFrom('payloads').select('key').execute()).toEqual([])
    expect(filesUnder(ip, `out/${id}`)).toHaveLength(2)
  })
})
