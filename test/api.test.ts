import { afterEach, describe, expect, it } from 'vitest'
import { jsonBody, startTestIp, TEST_USER, type TestIp } from './support/ip.js'

type Json = Record<string, any>

describe('the HTTP surface', () => {
  let ip: TestIp
  afterEach(async () => ip?.close())

  it('asks for HTTP Basic credentials on /api when security is on', async () => {
    ip = await startTestIp('sqlite', { overrides: { 'difi.security.enable': 'true' } })
    const anonymous = await fetch(`${ip.url}/api/conversations`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="Realm"')
    const body = (await anonymous.json()) as Json
    expect(body).toMatchObject({ status: 401, error: 'Unauthorized', path: '/api/conversations' })
    const wrong = await fetch(`${ip.url}/api/conversations`, {
      headers: { authorization: `Basic ${Buffer.from(`${TEST_USER.name}:wrong`).toString('base64')}` },
    })
    expect(wrong.status).toBe(401)
    expect((await ip.fetch('/api/conversations')).status).toBe(200)
  })

  it('answers unknown paths 404, wrong methods 405, and accepts a trailing slash', async () => {
    ip = await startTestIp('sqlite')
    const missing = await ip.json<Json>('/api/nothing-here')
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({ status: 404, error: 'Not Found', path: '/api/nothing-here' })
    const wrongMethod = await ip.json<Json>('/api/conversations', { method: 'PUT' })
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('allow')).toContain('GET')
    expect(wrongMethod.body).toMatchObject({
      exception: 'org.springframework.web.HttpRequestMethodNotSupportedException',
      message: "Method 'PUT' is not supported.",
    })
    expect((await ip.json('/api/conversations/')).status).toBe(200)
    expect((await ip.json('/api/statuses/?size=1')).status).toBe(200)
  })

  it('maps capabilities from the registry as the reference', async () => {
    ip = await startTestIp('sqlite')
    const res = await ip.json<Json>('/api/capabilities/910077473')
    expect(res.status).toBe(200)
    expect(res.body.capabilities[0]).toEqual({
      process: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
      serviceIdentifier: 'DPO',
      documentTypes: [{ type: 'arkivmelding', standard: 'urn:no:difi:arkivmelding:xsd::arkivmelding' }],
    })
    const dpi = await ip.json<Json>('/api/capabilities/09118532322?securityLevel=3')
    expect(dpi.body.capabilities[0]).toMatchObject({
      serviceIdentifier: 'DPI',
      postAddress: { name: '', street: '', postalCode: '', postalArea: '', country: '' },
      digitalPostAddress: { supplier: expect.any(String), address: expect.any(String) },
    })
    expect(ip.registry.requests.some((r) => r.url === '/identifier/09118532322?securityLevel=3')).toBe(true)

    const unknown = await ip.json<Json>('/api/capabilities/974720760')
    expect(unknown.status).toBe(404)
    expect(unknown.body.exception).toBe('no.difi.meldingsutveksling.exceptions.IdentifierNotFoundException')
    expect(unknown.body.message).toMatch(
      /^--no\.difi\.meldingsutveksling\.exceptions\.IdentifierNotFoundException-- \[Service record not found for parameters: SRParameter\(identifier=974720760/,
    )
    expect((await ip.json<Json>('/api/capabilities/910077473?securityLevel=high')).status).toBe(400)
  })

  it('gives a prototype that passes create once filled in', async () => {
    ip = await startTestIp('sqlite')
    const res = await ip.json<Json>('/api/prototype/arkivmelding?receiverIdentifier=910075918')
    expect(res.status).toBe(200)
    const header = res.body.standardBusinessDocumentHeader
    expect(header.sender[0].identifier.value).toBe('0192:910077473')
    expect(header.receiver[0].identifier).toEqual({
      value: '0192:910075918',
      authority: 'iso6523-actorid-upis',
    })
    expect(header.documentIdentification).toMatchObject({
      standard: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
      type: 'arkivmelding',
      creationDateAndTime: '2026-03-10T10:00:00+01:00',
    })
    const scope = header.businessScope.scope[0]
    expect(scope).toMatchObject({
      type: 'ConversationId',
      identifier: expect.stringMatching(/^urn:no:difi:profile:arkivmelding:/),
    })
    expect(scope.scopeInformation[0].expectedResponseDateTime).toBe('2026-03-11T10:00:00+01:00')
    expect(Object.keys(res.body)).toEqual(['standardBusinessDocumentHeader', 'arkivmelding'])
    res.body.arkivmelding.hoveddokument = 'vedtak.pdf'
    const created = await ip.json<Json>('/api/messages/out', jsonBody(res.body))
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    expect(created.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier).toBe(
      header.documentIdentification.instanceIdentifier,
    )
  })

  it('gives prototypes for every type a receiver takes, and refuses the rest', async () => {
    ip = await startTestIp('sqlite')
    const digital = await ip.json<Json>('/api/prototype/digital?receiverIdentifier=09118532322')
    expect(digital.status).toBe(200)
    expect(digital.body.standardBusinessDocumentHeader.receiver[0].identifier.value).toBe('09118532322')
    expect(digital.body.digital).toBeTypeOf('object')
    const filled = digital.body
    Object.assign(filled.digital, { hoveddokument: 'brev.pdf', tittel: 'Brev', spraak: 'NO' })
    expect((await ip.json<Json>('/api/messages/out', jsonBody(filled))).status).toBe(200)

    const innsyn = await ip.json<Json>('/api/prototype/innsynskrav?receiverIdentifier=910076787')
    expect(innsyn.body.standardBusinessDocumentHeader.businessScope.scope[0].identifier).toBe(
      'urn:no:difi:profile:einnsyn:innsynskrav:ver1.0',
    )
    const print = await ip.json<Json>('/api/prototype/print')
    expect(print.status).toBe(200)
    expect(print.body.standardBusinessDocumentHeader.receiver).toBeUndefined()

    const unknownType = await ip.json<Json>('/api/prototype/brevdue?receiverIdentifier=910075918')
    expect(unknownType.status).toBe(400)
    expect(unknownType.body.exception).toBe(
      'no.difi.meldingsutveksling.exceptions.UnknownMessageTypeException',
    )
    const notTaken = await ip.json<Json>('/api/prototype/digital?receiverIdentifier=910075918')
    expect(notTaken.status).toBe(400)
    expect(notTaken.body.exception).toBe(
      'no.difi.meldingsutveksling.exceptions.ReceiverDoesNotAcceptDocumentType',
    )
    expect((await ip.json<Json>('/api/prototype/arkivmelding')).status).toBe(400)
    expect((await ip.json<Json>('/api/prototype/arkivmelding?receiverIdentifier=12345')).status).toBe(400)
    expect((await ip.json<Json>('/api/prototype/arkivmelding?receiverIdentifier=974720760')).status).toBe(404)
  })
})
