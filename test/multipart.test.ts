import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { arkivmeldingSbd, filesUnder, startTestIp, type TestIp } from './support/ip.js'

warnIfPostgresSkipped()

type Json = Record<string, any>
const EX = 'no.difi.meldingsutveksling.exceptions.'
const MESSAGE_ID = 'ff88849c-e281-4809-8555-7cd54952b916'

function form(
  sbd: unknown,
  files: { name: string; filename: string; type?: string; content: string | Buffer }[],
  sbdAsFile = false,
) {
  const f = new FormData()
  const json = new Blob([JSON.stringify(sbd)], { type: 'application/json' })
  if (sbdAsFile) f.append('sbd', json, 'sbd.json')
  else f.append('sbd', json)
  for (const file of files)
    f.append(
      file.name,
      new Blob([typeof file.content === 'string' ? file.content : new Uint8Array(file.content)], {
        type: file.type ?? 'application/pdf',
      }),
      file.filename,
    )
  return f
}

describe.each(STORES)('one-step multipart send on %s', (kind) => {
  let ip: TestIp
  beforeEach(async () => {
    ip = await startTestIp(kind)
  })
  afterEach(async () => ip.close())

  const sbd = () => arkivmeldingSbd({ messageId: MESSAGE_ID, hoveddokument: 'vedtak.pdf' })
  const files = (refs = ['vedtak.pdf']) => [
    {
      name: 'Arkivmelding',
      filename: 'arkivmelding.xml',
      type: 'application/xml',
      content: arkivmeldingXml({ files: refs, title: 'Vedtak' }),
    },
    { name: 'Vedtak', filename: 'vedtak.pdf', content: '%PDF-1.4 vedtak' },
  ]

  it('creates, attaches and sends in one request', async () => {
    const res = await ip.json<Json>('/api/messages/out/multipart', {
      method: 'POST',
      body: form(sbd(), files()),
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier).toBe(MESSAGE_ID)
    const rows = await ip.db.kysely.selectFrom('out_files').selectAll().orderBy('dokumentnummer').execute()
    expect(rows.map((r) => [r.filename, r.title, r.mime_type, r.primary_document, r.dokumentnummer])).toEqual(
      [
        ['arkivmelding.xml', 'Arkivmelding', 'application/xml', 0, 1],
        ['vedtak.pdf', 'Vedtak', 'application/pdf', 1, 2],
      ],
    )
    const jobs = await ip.db.kysely.selectFrom('jobs').selectAll().execute()
    expect(jobs.map((j) => [j.kind, j.message_id])).toEqual([['send:DPO', MESSAGE_ID]])
    const conv = await ip.json<Json>(`/api/conversations/messageId/${MESSAGE_ID}`)
    expect(conv.body.messageTitle).toBe('Vedtak')
  })

  it('stores it SENDING with its OPPRETTET conversation, titled also from an arkivmelding.xml over the in-memory cap', async () => {
    const xml = arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Stort vedtak', journalpostnummer: 7 })
    // past ARKIVMELDING_IN_MEMORY_BYTES (1 MiB): read back from its temp file instead
    const big = xml.replace('?>', `?><!--${' '.repeat(1024 * 1024)}-->`)
    const res = await ip.json<Json>('/api/messages/out/multipart', {
      method: 'POST',
      body: form(sbd(), [{ ...files()[0]!, content: big }, files()[1]!]),
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const message = await ip.db.kysely.selectFrom('out_messages').selectAll().executeTakeFirstOrThrow()
    expect(message.state).toBe('SENDING')
    const conv = await ip.json<Json>(`/api/conversations/messageId/${MESSAGE_ID}`)
    expect([conv.body.messageTitle, conv.body.messageReference]).toEqual(['Stort vedtak', 'sak-42-7'])
    expect(conv.body.messageStatuses.map((s: Json) => s.status)).toEqual(['OPPRETTET'])
    const stored = await ip.db.kysely
      .selectFrom('out_files')
      .select('size')
      .orderBy('dokumentnummer')
      .execute()
    expect(stored[0]!.size).toBe(Buffer.byteLength(big))
    // every temp file was moved into the store, none left behind
    expect(filesUnder(ip, '.tmp')).toEqual([])
    expect(filesUnder(ip, `out/${MESSAGE_ID}`)).toHaveLength(2)
  })

  it('never takes the sbd part as an attachment, even with a filename', async () => {
    const res = await ip.json<Json>('/api/messages/out/multipart', {
      method: 'POST',
      body: form(sbd(), files(), true),
    })
    expect(res.status).toBe(200)
    const names = (await ip.db.kysely.selectFrom('out_files').select('filename').execute()).map(
      (r) => r.filename,
    )
    expect(names.sort()).toEqual(['arkivmelding.xml', 'vedtak.pdf'])
  })

  it('is atomic: a refused send leaves nothing, and the same messageId can be sent again', async () => {
    const refused = await ip.json<Json>('/api/messages/out/multipart', {
      method: 'POST',
      body: form(sbd(), files(['vedtak.pdf', 'mangler.pdf'])),
    })
    expect(refused.status).toBe(400)
    expect(refused.body.exception).toBe(`${EX}MissingArkivmeldingFileException`)
    expect(await ip.db.kysely.selectFrom('out_messages').selectAll().execute()).toHaveLength(0)
    expect(await ip.db.kysely.selectFrom('conversations').selectAll().execute()).toHaveLength(0)
    expect(filesUnder(ip, '')).toEqual([])

    const again = await ip.json<Json>('/api/messages/out/multipart', {
      method: 'POST',
      body: form(sbd(), files()),
    })
    expect(again.status).toBe(200)
  })

  it('refuses a file over 5 MiB and duplicate filenames, as the reference', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024 + 1, 7)
    const tooBig = await ip.json<Json>('/api/messages/out/multipart', {
      method: 'POST',
      body: form(sbd(), [...files(), { name: 'Stor', filename: 'stor.pdf', content: big }]),
    })
    expect(tooBig.status).toBe(400)
    expect(tooBig.body).toMatchObject({
      exception: `${EX}MultipartFileToLargeException`,
      message:
        "The attachment named 'stor.pdf' is too large. The maximum size for multipart requests is 5,242,880 bytes. Please use the non-multipart API to avoid such problems.",
    })
    const dup = await ip.json<Json>('/api/messages/out/multipart', {
      method: 'POST',
      body: form(sbd(), [...files(), { name: 'Igjen', filename: 'vedtak.pdf', content: 'x' }]),
    })
    expect(dup.status).toBe(400)
    expect(dup.body).toMatchObject({
      exception: `${EX}DuplicateFilenameException`,
      message: 'Filename already exists in message: vedtak.pdf, vedtak.pdf.',
    })
    expect(filesUnder(ip, '')).toEqual([])
  })

  it('answers a missing sbd part, a broken body and a wrong content type with 4xx', async () => {
    const f = new FormData()
    f.append('Vedtak', new Blob(['x']), 'a.pdf')
    const noSbd = await ip.json<Json>('/api/messages/out/multipart', { method: 'POST', body: f })
    expect(noSbd.status).toBe(400)
    expect(noSbd.body.message).toBe("Required parameter 'sbd' is not present.")

    const broken = await ip.json<Json>('/api/messages/out/multipart', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="sbd"\r\n\r\n{"a":',
    })
    expect(broken.status).toBe(400)

    const noBoundary = await ip.json<Json>('/api/messages/out/multipart', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data' },
      body: 'x',
    })
    expect(noBoundary.status).toBe(400)
    expect(noBoundary.body.exception).toBe('org.springframework.web.multipart.MultipartException')

    const json = await ip.json<Json>('/api/messages/out/multipart', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect(json.status).toBe(415)
    expect(filesUnder(ip, '')).toEqual([])
  })

  it('validates the sbd part as the reference (ConstraintViolation with the parameter path)', async () => {
    const bad = arkivmeldingSbd()
    delete (bad.standardBusinessDocumentHeader as Json).documentIdentification.typeVersion
    const res = await ip.json<Json>('/api/messages/out/multipart', {
      method: 'POST',
      body: form(bad, files()),
    })
    expect(res.status).toBe(400)
    expect(res.body.exception).toBe('jakarta.validation.ConstraintViolationException')
    expect(res.body.message).toBe(
      'createAndSendMessage.sbd.standardBusinessDocumentHeader.documentIdentification.typeVersion: must not be null',
    )
  })
})
