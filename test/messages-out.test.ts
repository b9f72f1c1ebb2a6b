import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import {
  arkivmeldingSbd,
  filesUnder,
  jsonBody,
  OWN_ORG,
  PROCESS,
  startTestIp,
  type TestIp,
} from './support/ip.js'

warnIfPostgresSkipped()

type Json = Record<string, any>

const EX = 'no.difi.meldingsutveksling.exceptions.'

function put(
  ip: TestIp,
  messageId: string,
  filename: string,
  body: string | Buffer,
  opts: { type?: string; name?: string } = {},
) {
  return ip.json(`/api/messages/out/${messageId}`, {
    method: 'PUT',
    headers: {
      'content-type': opts.type ?? 'application/pdf',
      'content-disposition': `attachment; name=${opts.name ?? 'Vedlegg'}; filename=${filename}`,
    },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  })
}

describe.each(STORES)('outgoing messages on %s', (kind) => {
  let ip: TestIp
  beforeEach(async () => {
    ip = await startTestIp(kind)
  })
  afterEach(async () => ip.close())

  async function create(sbd: Json = arkivmeldingSbd()) {
    const res = await ip.json<Json>('/api/messages/out', jsonBody(sbd))
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier as string
  }

  it('creates a message with the reference defaults and an OPPRETTET conversation', async () => {
    const res = await ip.json<Json>('/api/messages/out', jsonBody(arkivmeldingSbd()))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    const header = res.body.standardBusinessDocumentHeader
    expect(header.sender).toEqual([
      { identifier: { value: `0192:${OWN_ORG}`, authority: 'iso6523-actorid-upis' } },
    ])
    const id = header.documentIdentification
    expect(id.instanceIdentifier).toMatch(/^[0-9a-f-]{36}$/)
    expect(id.creationDateAndTime).toBe('2026-03-10T10:00:00+01:00')
    const scope = header.businessScope.scope[0]
    expect(scope.instanceIdentifier).toMatch(/^[0-9a-f-]{36}$/)
    // default TTL 24 hours
    expect(scope.scopeInformation[0].expectedResponseDateTime).toBe('2026-03-11T10:00:00+01:00')
    expect(Object.keys(res.body)).toEqual(['standardBusinessDocumentHeader', 'arkivmelding'])

    const stored = await ip.json<Json>(`/api/messages/out/${id.instanceIdentifier}`)
    expect(stored.body).toEqual(res.body)
    const conv = await ip.json<Json>(`/api/conversations/messageId/${id.instanceIdentifier}`)
    expect(conv.status).toBe(200)
    expect(conv.body).toMatchObject({
      conversationId: scope.instanceIdentifier,
      messageId: id.instanceIdentifier,
      sender: `0192:${OWN_ORG}`,
      senderIdentifier: OWN_ORG,
      receiver: '0192:910075918',
      receiverIdentifier: '910075918',
      processIdentifier: PROCESS.administrasjon,
      documentIdentifier: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
      messageReference: scope.instanceIdentifier,
      messageTitle: '',
      finished: false,
      expiry: '2026-03-11T10:00:00+01:00',
      direction: 'OUTGOING',
      serviceIdentifier: 'DPO',
    })
    expect(conv.body.messageStatuses.map((s: Json) => s.status)).toEqual(['OPPRETTET'])
  })

  it('asks the registry for the receiver, process and conversation, signed', async () => {
    const sbd = arkivmeldingSbd() as Json
    sbd.standardBusinessDocumentHeader.businessScope.scope[0].instanceIdentifier =
      '37efbd4c-413d-4e2c-bbc5-257ef4a65a45'
    await create(sbd)
    const call = ip.registry.requests.find((r) => r.url.startsWith('/identifier/910075918/process/'))
    expect(call?.url).toBe(
      '/identifier/910075918/process/urn:no:difi:profile:arkivmelding:administrasjon:ver1.0?conversationId=37efbd4c-413d-4e2c-bbc5-257ef4a65a45',
    )
    expect(call?.headers.accept).toContain('application/jose')
  })

  it('rewrites another organisation as sender to on-behalf-of', async () => {
    const sbd = arkivmeldingSbd()
    ;(sbd.standardBusinessDocumentHeader as Json).sender = [
      { identifier: { authority: 'iso6523-actorid-upis', value: '0192:910075926' } },
    ]
    const res = await ip.json<Json>('/api/messages/out', jsonBody(sbd))
    expect(res.body.standardBusinessDocumentHeader.sender[0].identifier.value).toBe(
      `0192:${OWN_ORG}:910075926`,
    )
    const id = res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
    const conv = await ip.json<Json>(`/api/conversations/messageId/${id}`)
    expect(conv.body.sender).toBe(`0192:${OWN_ORG}:910075926`)
    expect(conv.body.senderIdentifier).toBe('910075926')
  })

  it('refuses bad create requests with the reference errors', async () => {
    const notJson = await ip.json<Json>('/api/messages/out', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    })
    expect(notJson.status).toBe(415)
    const broken = await ip.json<Json>('/api/messages/out', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"x":',
    })
    expect(broken.status).toBe(400)
    expect(broken.body.exception).toBe('org.springframework.http.converter.HttpMessageNotReadableException')
    expect(broken.body.message).toMatch(/^JSON parse error/)
    expect(broken.body.path).toBe('/api/messages/out')
    expect(broken.body.timestamp).toBe('2026-03-10T10:00:00+01:00')

    const noVersion = arkivmeldingSbd()
    delete (noVersion.standardBusinessDocumentHeader as Json).headerVersion
    const invalid = await ip.json<Json>('/api/messages/out', jsonBody(noVersion))
    expect(invalid.status).toBe(400)
    expect(invalid.body.exception).toBe('org.springframework.web.bind.MethodArgumentNotValidException')
    expect(invalid.body.message).toBe(
      "Validation failed for object='standardBusinessDocument'. Error count: 1",
    )
    expect(invalid.body.errors[0]).toMatchObject({
      field: 'standardBusinessDocumentHeader.headerVersion',
      code: 'NotNull',
    })

    const otherKey = { ...arkivmeldingSbd(), arkivmelding: undefined, digital: {} }
    const wrongKey = await ip.json<Json>('/api/messages/out', jsonBody(otherKey))
    expect(wrongKey.status).toBe(400)
    expect(wrongKey.body.exception).toBe('org.springframework.http.converter.HttpMessageNotReadableException')
  })

  it('refuses a messageId used before', async () => {
    const id = await create()
    const again = await ip.json<Json>('/api/messages/out', jsonBody(arkivmeldingSbd({ messageId: id })))
    expect(again.status).toBe(400)
    expect(again.body.exception).toBe(`${EX}MessageAlreadyExistsException`)
    expect(again.body.message).toBe(`Message with messageId = ${id} already exists`)
  })

  it('says when the receiver does not take the process, and when the registry is down', async () => {
    const res = await ip.json<Json>(
      '/api/messages/out',
      jsonBody(arkivmeldingSbd({ process: 'urn:no:difi:profile:arkivmelding:naturOgMiljoe:ver1.0' })),
    )
    expect(res.status).toBe(400)
    expect(res.body.exception).toBe(`${EX}ReceiverDoesNotAcceptProcessException`)
    expect(res.body.message).toBe(
      'Receiver do not accept the document process urn:no:difi:profile:arkivmelding:naturOgMiljoe:ver1.0',
    )
    expect(res.body.description).toBeTruthy()

    await ip.registry.close()
    const down = await ip.json<Json>(
      '/api/messages/out',
      jsonBody(arkivmeldingSbd({ receiver: '910075942' })),
    )
    expect(down.status).toBe(503)
    expect(down.body.message).toMatch(
      /^ServiceRegistry is unavailable: GET http:\/\/127\.0\.0\.1:\d+\/identifier\/910075942/,
    )
  })

  it('refuses a service that is not enabled here', async () => {
    await ip.close()
    ip = await startTestIp(kind, { overrides: { 'difi.move.feature.enableDPO': 'false' } })
    const res = await ip.json<Json>('/api/messages/out', jsonBody(arkivmeldingSbd()))
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({
      exception: `${EX}ServiceNotEnabledException`,
      message: 'Service DPO is not enabled',
    })
  })

  it('refuses at once a service that is enabled but has no transport here, by create and by multipart', async () => {
    await ip.close()
    // DPV on, as in the sandbox of old; only DPO can be delivered by this build
    ip = await startTestIp(kind, { transports: ['DPO'] })
    const refused = {
      exception: `${EX}ServiceNotEnabledException`,
      message: 'Service DPV is not enabled',
    }
    const created = await ip.json<Json>(
      '/api/messages/out',
      jsonBody(arkivmeldingSbd({ receiver: '910075942' })),
    )
    expect(created.status, JSON.stringify(created.body)).toBe(400)
    expect(created.body).toMatchObject(refused)
    const form = new FormData()
    form.append(
      'sbd',
      new Blob([JSON.stringify(arkivmeldingSbd({ receiver: '910075942' }))], { type: 'application/json' }),
    )
    form.append(
      'Arkivmelding',
      new Blob(['<arkivmelding/>'], { type: 'application/xml' }),
      'arkivmelding.xml',
    )
    const multipart = await ip.json<Json>('/api/messages/out/multipart', { method: 'POST', body: form })
    expect(multipart.status).toBe(400)
    expect(multipart.body).toMatchObject(refused)
    // nothing stored, no conversation
    expect((await ip.json<Json>('/api/conversations')).body.content).toEqual([])
    // and what can be delivered still is
    expect((await ip.json<Json>('/api/messages/out', jsonBody(arkivmeldingSbd()))).status).toBe(200)
    const info = (await ip.json<Json>('/manage/info')).body
    expect(info.app.servicesWithoutTransport).toEqual(['DPV', 'DPI', 'DPF', 'DPE', 'DPH'])
    const config = await (await ip.fetch('/configuration')).text()
    expect(config).toMatch(
      /data-service="DPV" data-enabled="true" data-transport="false">DPV on, no transport: refused/,
    )
    expect(config).toMatch(/data-service="DPO" data-enabled="true" data-transport="true">DPO on</)
  })

  it('uploads files, reads arkivmelding.xml and sends with a durable job', async () => {
    const id = await create(arkivmeldingSbd({ hoveddokument: 'vedtak.pdf' }))
    const xml = arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Tilskudd til lysrør', journalpostnummer: 7 })
    expect(
      (await put(ip, id, 'arkivmelding.xml', xml, { type: 'application/xml', name: 'Arkivmelding' })).status,
    ).toBe(200)
    expect((await put(ip, id, 'vedtak.pdf', Buffer.from('%PDF-1.4 vedtak'))).status).toBe(200)

    const conv = await ip.json<Json>(`/api/conversations/messageId/${id}`)
    expect(conv.body.messageTitle).toBe('Tilskudd til lysrør')
    expect(conv.body.messageReference).toBe('sak-42-7')

    const send = await ip.fetch(`/api/messages/out/${id}`, { method: 'POST' })
    expect(send.status).toBe(200)
    expect(await send.text()).toBe('')
    const jobs = await ip.db.kysely.selectFrom('jobs').selectAll().where('message_id', '=', id).execute()
    expect(jobs).toHaveLength(1)
    expect(jobs[0]).toMatchObject({ kind: 'send:DPO', state: 'PENDING' })

    // a retry after a lost answer sends nothing twice
    expect((await ip.fetch(`/api/messages/out/${id}`, { method: 'POST' })).status).toBe(200)
    expect(
      await ip.db.kysely.selectFrom('jobs').selectAll().where('message_id', '=', id).execute(),
    ).toHaveLength(1)

    // no more files once sent
    const late = await put(ip, id, 'late.pdf', 'x')
    expect(late.status).toBe(400)
  })

  it('checks every upload', async () => {
    const missing = await put(ip, 'no-such-message', 'a.pdf', 'x')
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({
      exception: `${EX}MessageNotFoundException`,
      message: 'Message with messageId = no-such-message was not found',
    })

    const id = await create()
    const noDisposition = await ip.json<Json>(`/api/messages/out/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/pdf' },
      body: 'x',
    })
    expect(noDisposition.status).toBe(400)
    expect(noDisposition.body.exception).toBe('org.springframework.web.bind.MissingRequestHeaderException')
    // Spring 6 puts the problem detail into `message`, as the reference answers
    expect(noDisposition.body.message).toBe("Required header 'Content-Disposition' is not present.")

    const badDisposition = await ip.json<Json>(`/api/messages/out/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename' },
      body: 'x',
    })
    expect(badDisposition.status).toBe(400)

    const traversal = await put(ip, id, '../../etc/passwd', 'x')
    expect(traversal.status).toBe(400)

    expect((await put(ip, id, 'a.pdf', 'x')).status).toBe(200)
    const dup = await put(ip, id, 'a.pdf', 'y')
    expect(dup.status).toBe(400)
    expect(dup.body).toMatchObject({
      exception: `${EX}DuplicateFilenameException`,
      message: 'Filename already exists in message: a.pdf.',
    })
    expect(filesUnder(ip, 'out')).toHaveLength(1)
  })

  it('stops an upload past the service limit while streaming and keeps nothing of it', async () => {
    const sbd = {
      standardBusinessDocumentHeader: {
        headerVersion: '1.0',
        receiver: [{ identifier: { authority: 'iso6523-actorid-upis', value: '0192:910076787' } }],
        documentIdentification: {
          standard: 'urn:no:difi:einnsyn:xsd::innsynskrav',
          type: 'innsynskrav',
          typeVersion: '1.0',
        },
        businessScope: { scope: [{ identifier: PROCESS.innsynskrav, type: 'ConversationId' }] },
      },
      innsynskrav: { orgnr: '910076787', epost: 'a@b.no' },
    }
    const id = await create(sbd)
    // DPE's limit is 2 MB; send 3 MB chunked so no Content-Length warns us
    const chunk = Buffer.alloc(256 * 1024, 1)
    const body = new ReadableStream({
      start(c) {
        for (let i = 0; i < 12; i++) c.enqueue(chunk)
        c.close()
      },
    })
    const res = await ip.json<Json>(`/api/messages/out/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'content-disposition': 'attachment; filename=big.json' },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(400)
    expect(res.body.exception).toBe(`${EX}MaxFileSizeExceededException`)
    expect(res.body.message).toMatch(
      /exceeds the maximum allowed upload size for the target service \(DPE, 2MB\)/,
    )
    expect(filesUnder(ip, 'out')).toHaveLength(0)
    expect(filesUnder(ip, '.tmp')).toEqual([])
  })

  it('refuses to send what the reference refuses', async () => {
    const noFiles = await create()
    const res = await ip.json<Json>(`/api/messages/out/${noFiles}`, { method: 'POST' })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({
      exception: `${EX}MissingFileException`,
      message: 'There must always be at least one attachment',
    })

    expect((await put(ip, noFiles, 'a.pdf', 'x')).status).toBe(200)
    const noArkivmelding = await ip.json<Json>(`/api/messages/out/${noFiles}`, { method: 'POST' })
    expect(noArkivmelding.body).toMatchObject({ exception: `${EX}MissingArkivmeldingException` })

    expect(
      (
        await put(ip, noFiles, 'arkivmelding.xml', arkivmeldingXml({ files: ['a.pdf', 'b.pdf'] }), {
          type: 'application/xml',
        })
      ).status,
    ).toBe(200)
    const missingRef = await ip.json<Json>(`/api/messages/out/${noFiles}`, { method: 'POST' })
    expect(missingRef.body).toMatchObject({
      exception: `${EX}MissingArkivmeldingFileException`,
      message: 'File(s) defined in arkivmelding, but not found in message: b.pdf',
    })
    const jobs = await ip.db.kysely.selectFrom('jobs').selectAll().execute()
    expect(jobs).toHaveLength(0)
  })

  it('registers LEVETID_UTLOPT when the message expired before it was sent', async () => {
    const id = await create()
    expect(
      (await put(ip, id, 'arkivmelding.xml', arkivmeldingXml({ files: [] }), { type: 'application/xml' }))
        .status,
    ).toBe(200)
    ip.clock.advance(25 * 3600 * 1000)
    const res = await ip.json<Json>(`/api/messages/out/${id}`, { method: 'POST' })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({
      exception: `${EX}TimeToLiveException`,
      message:
        'ExpectedResponseDateTime 2026-03-11T10:00:00+01:00 has been exceeded. Please resend the message',
    })
    const statuses = await ip.json<Json>(`/api/statuses/${id}`)
    expect(statuses.body.content.map((s: Json) => s.status)).toEqual(['OPPRETTET', 'LEVETID_UTLOPT'])
    expect(statuses.body.content[1].description).toBe('Levetiden for meldingen er utgått. Må sendes på nytt')
    // the message stays, as the reference
    expect((await ip.json(`/api/messages/out/${id}`)).status).toBe(200)
  })

  it('deletes a message and its files, idempotently, leaving the conversation', async () => {
    const id = await create()
    expect((await put(ip, id, 'a.pdf', 'x')).status).toBe(200)
    expect(filesUnder(ip, 'out')).toHaveLength(1)
    expect((await ip.fetch(`/api/messages/out/${id}`, { method: 'DELETE' })).status).toBe(200)
    expect(filesUnder(ip, 'out')).toHaveLength(0)
    expect((await ip.json(`/api/messages/out/${id}`)).status).toBe(404)
    expect((await ip.fetch(`/api/messages/out/${id}`, { method: 'DELETE' })).status).toBe(200)
    expect((await ip.json(`/api/conversations/messageId/${id}`)).status).toBe(200)
  })

  it('lists outgoing messages with filters and Spring paging', async () => {
    const a = await create()
    await create(arkivmeldingSbd({ receiver: '910075942' }))
    await create()
    const all = await ip.json<Json>('/api/messages/out?size=2&sort=lastUpdated,asc')
    expect(all.body).toMatchObject({
      totalElements: 3,
      totalPages: 2,
      size: 2,
      number: 0,
      first: true,
      last: false,
      numberOfElements: 2,
    })
    expect(all.body.pageable).toMatchObject({
      offset: 0,
      pageNumber: 0,
      pageSize: 2,
      paged: true,
      unpaged: false,
    })
    const dpv = await ip.json<Json>('/api/messages/out?serviceIdentifier=DPV')
    expect(dpv.body.content).toHaveLength(1)
    expect(dpv.body.content[0].standardBusinessDocumentHeader.receiver[0].identifier.value).toBe(
      '0192:910075942',
    )
    const byReceiver = await ip.json<Json>('/api/messages/out?receiverIdentifier=910075918')
    expect(byReceiver.body.totalElements).toBe(2)
    const one = await ip.json<Json>(`/api/messages/out?messageId=${a}`)
    expect(one.body.content).toHaveLength(1)
    const bad = await ip.json<Json>('/api/messages/out?serviceIdentifier=NOPE')
    expect(bad.status).toBe(400)
    const badSort = await ip.json<Json>('/api/messages/out?sort=nope')
    expect(badSort.status).toBe(400)
  })
})
