import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { verifySignature } from '../src/webhooks/signing.js'
import { STORES, type StoreKind, warnIfPostgresSkipped } from './support/db.js'
import { jsonBody, startTestIp, type TestIp } from './support/ip.js'
import { type Subscriber, startSubscriber } from './support/subscriber.js'

warnIfPostgresSkipped()

type Json = any
const EX = 'no.difi.meldingsutveksling.exceptions.'

describe.each(STORES)('/api/subscriptions on %s', (kind: StoreKind) => {
  let ip: TestIp | undefined
  let sub: Subscriber | undefined
  afterEach(async () => {
    await ip?.close()
    await sub?.close()
    ip = sub = undefined
  })

  async function start(overrides: Record<string, string> = {}) {
    sub = await startSubscriber()
    ip = await startTestIp(kind, { overrides })
    return { ip, sub }
  }
  const input = (over: Record<string, unknown> = {}) => ({
    name: 'Innkommende',
    pushEndpoint: `${sub!.url}/hooks`,
    resource: 'messages',
    event: 'status',
    filter: 'status=INNKOMMENDE_MOTTATT&direction=INCOMING',
    ...over,
  })
  const create = (body: unknown) => ip!.json<Json>('/api/subscriptions', jsonBody(body))

  it('creates after a ping, then shows, lists, updates and deletes', async () => {
    const { ip, sub } = await start()
    const created = await create(input({ secret: 'a-secret-of-16+chars' }))
    expect(created.status).toBe(200)
    expect(created.body).toEqual({
      id: expect.any(Number),
      name: 'Innkommende',
      pushEndpoint: `${sub.url}/hooks`,
      resource: 'messages',
      event: 'status',
      filter: 'status=INNKOMMENDE_MOTTATT&direction=INCOMING',
      delivery: { signed: true, givenUp: 0 },
    })
    const id = created.body.id
    // the ping, signed with the secret
    expect(sub.received).toHaveLength(1)
    const ping = sub.received[0]!
    expect(ping.path).toBe('/hooks')
    expect(ping.headers['content-type']).toBe('application/json')
    expect(ping.json).toEqual({
      createdTs: '2026-03-10T10:00:00+01:00',
      event: 'ping',
      id: expect.any(String),
    })
    expect(
      verifySignature(
        ping.body,
        'a-secret-of-16+chars',
        ping.headers['x-integrasjonspunkt-signature'] as string,
      ),
    ).toBe(true)

    expect((await ip.json(`/api/subscriptions/${id}`)).body).toEqual(created.body)
    const page = (await ip.json<Json>('/api/subscriptions')).body
    expect(page).toMatchObject({
      content: [created.body],
      totalElements: 1,
      size: 10,
      sort: { sorted: false },
    })

    // partial update: null keeps, a value overwrites; the same endpoint is not pinged again
    const put = await ip.fetch(
      `/api/subscriptions/${id}`,
      jsonBody({ name: 'Alt', filter: null, event: 'all' }, 'PUT'),
    )
    expect(put.status).toBe(200)
    expect(await put.text()).toBe('')
    expect((await ip.json(`/api/subscriptions/${id}`)).body).toMatchObject({
      name: 'Alt',
      event: 'all',
      filter: 'status=INNKOMMENDE_MOTTATT&direction=INCOMING',
    })
    expect(sub.received).toHaveLength(1)
    // a new endpoint is pinged; `secret: ""` removes the secret
    const moved = jsonBody({ pushEndpoint: `${sub.url}/other`, secret: '' }, 'PUT')
    expect((await ip.fetch(`/api/subscriptions/${id}`, moved)).status).toBe(200)
    expect(sub.received.map((r) => r.path)).toEqual(['/hooks', '/other'])
    expect(sub.received[1]!.headers['x-integrasjonspunkt-signature']).toBeUndefined()
    expect((await ip.json<Json>(`/api/subscriptions/${id}`)).body.delivery.signed).toBe(false)

    const del = await ip.fetch(`/api/subscriptions/${id}`, { method: 'DELETE' })
    expect([del.status, await del.text()]).toEqual([200, ''])
    const gone = await ip.json<Json>(`/api/subscriptions/${id}`)
    expect(gone.status).toBe(404)
    expect(gone.body).toMatchObject({
      status: 404,
      exception: `${EX}SubscriptionNotFoundException`,
      message: `Subscription with id = ${id} was not found`,
      path: `/api/subscriptions/${id}`,
    })
    expect((await ip.fetch(`/api/subscriptions/${id}`, { method: 'DELETE' })).status).toBe(404)
    expect((await ip.fetch(`/api/subscriptions/${id}`, jsonBody({ name: 'x' }, 'PUT'))).status).toBe(404)
  })

  it('refuses what the reference refuses, with its error JSON', async () => {
    const { ip, sub } = await start()
    const bad = await create({
      id: 84,
      event: 'nonexistent',
      resource: 'messages',
      pushEndpoint: 'not a url',
    })
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({
      status: 400,
      error: 'Bad Request',
      exception: 'org.springframework.web.bind.MethodArgumentNotValidException',
      message: "Validation failed for object='subscription'. Error count: 4",
      path: '/api/subscriptions',
    })
    expect(bad.body.errors.map((e: Json) => [e.field, e.code])).toEqual([
      ['name', 'NotNull'],
      ['id', 'Null'],
      ['pushEndpoint', 'URL'],
      ['event', 'OneOf'],
    ])
    expect(bad.body.errors[3]).toEqual({
      codes: ['OneOf.subscription.event', 'OneOf.event', 'OneOf.java.lang.String', 'OneOf'],
      defaultMessage: "'nonexistent' is not expected. Allowed values are: [all, status]",
      objectName: 'subscription',
      field: 'event',
      rejectedValue: 'nonexistent',
      bindingFailure: false,
      code: 'OneOf',
    })
    for (const filter of ['colour=red', 'status!=FEIL', 'status', '']) {
      const r = await create(input({ filter }))
      expect(r.status, filter).toBe(400)
      expect(r.body.errors, filter).toEqual([
        expect.objectContaining({
          field: 'filter',
          code: 'WebhookFilter',
          defaultMessage: 'Must be a valid filter definition.',
        }),
      ])
    }
    const ftp = await create(input({ pushEndpoint: 'ftp://fagsystem.example.no/x' }))
    expect(ftp.body.errors[0]).toMatchObject({
      field: 'pushEndpoint',
      code: 'URL',
      defaultMessage: 'must be an http or https URL',
    })
    const short = await create(input({ secret: 'short' }))
    expect(short.body.errors[0]).toMatchObject({ field: 'secret', code: 'Size', rejectedValue: '********' })
    // nothing was saved and nothing pinged
    expect((await ip.json<Json>('/api/subscriptions')).body.totalElements).toBe(0)
    expect(sub.received).toHaveLength(0)

    const wrongShape = await create(input({ name: { a: 1 } }))
    expect(wrongShape.body).toMatchObject({
      status: 400,
      exception: 'org.springframework.http.converter.HttpMessageNotReadableException',
    })
    expect(wrongShape.body.message).toMatch(
      /^JSON parse error: Cannot deserialize value of type `java.lang.String` from Object value/,
    )
    const text = await ip.fetch('/api/subscriptions', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    })
    expect(text.status).toBe(415)
    const nonNumeric = await ip.json<Json>('/api/subscriptions/abc')
    expect(nonNumeric.body.exception).toBe(
      'org.springframework.web.method.annotation.MethodArgumentTypeMismatchException',
    )
  })

  it('refuses a second subscription with the same name and push endpoint', async () => {
    const { ip } = await start()
    const first = await create(input())
    expect(first.status).toBe(200)
    const again = await create(input({ event: 'all' }))
    expect(again.status).toBe(400)
    expect(again.body).toMatchObject({
      exception: `${EX}SubscriptionWithSameNameAndPushEndpointAlreadyExists`,
      message: 'Subscription with same name and push endpoint already exists.',
    })
    const other = await create(input({ name: 'Andre' }))
    expect(other.status).toBe(200)
    const clash = await ip.json<Json>(
      `/api/subscriptions/${other.body.id}`,
      jsonBody({ name: 'Innkommende' }, 'PUT'),
    )
    expect(clash.status).toBe(400)
    expect(clash.body.exception).toBe(`${EX}SubscriptionWithSameNameAndPushEndpointAlreadyExists`)
    // its own name and endpoint again is fine
    expect(
      (await ip.fetch(`/api/subscriptions/${other.body.id}`, jsonBody({ name: 'Andre' }, 'PUT'))).status,
    ).toBe(200)
  })

  it('refuses a push endpoint whose ping fails, and saves nothing', async () => {
    const { ip, sub } = await start()
    sub.answer = () => 503
    const refused = await create(input())
    expect(refused.status).toBe(400)
    expect(refused.body).toMatchObject({
      exception: `${EX}WebhookPushEndpointPingFailedException`,
      message: 'Ping failed with: HTTP 503.',
    })
    await sub.down()
    const down = await create(input())
    expect(down.body.exception).toBe(`${EX}WebhookPushEndpointPingFailedException`)
    expect(down.body.message).toBe('Ping failed with: connection refused (ECONNREFUSED).')
    expect((await ip.json<Json>('/api/subscriptions')).body.totalElements).toBe(0)

    // moving an existing subscription to an endpoint that fails the ping changes nothing
    await sub.up()
    sub.answer = () => 200
    const { body } = await create(input())
    sub.answer = (r) => (r.path === '/broken' ? 500 : 200)
    const moved = await ip.json<Json>(
      `/api/subscriptions/${body.id}`,
      jsonBody({ pushEndpoint: `${sub.url}/broken` }, 'PUT'),
    )
    expect(moved.body.exception).toBe(`${EX}WebhookPushEndpointPingFailedException`)
    expect((await ip.json<Json>(`/api/subscriptions/${body.id}`)).body.pushEndpoint).toBe(`${sub.url}/hooks`)
  })

  it('says only the status or the class of network error when a ping fails, never what answered', async () => {
    await start()
    // an internal service that answers with something secret: the ping must not become a way to read it
    const secret = 'internal-admin-token=7f3c9a'
    const internal = createServer((_req, res) => res.writeHead(500, { 'x-internal': secret }).end(secret))
    await new Promise<void>((r) => internal.listen(0, '127.0.0.1', r))
    const port = (internal.address() as AddressInfo).port
    try {
      const answered = await create(input({ pushEndpoint: `http://127.0.0.1:${port}/admin` }))
      expect(answered.status).toBe(400)
      expect(answered.body.message).toBe('Ping failed with: HTTP 500.')
      expect(JSON.stringify(answered.body)).not.toContain('7f3c9a')
    } finally {
      await new Promise<void>((r) => internal.close(() => r()))
    }
    // the same port now closed: the class of the error, not the system's text with the address in it
    const closed = await create(input({ pushEndpoint: `http://127.0.0.1:${port}/admin` }))
    expect(closed.body.message).toBe('Ping failed with: connection refused (ECONNREFUSED).')
    expect(closed.body.message).not.toContain(String(port))
    const unknownHost = await create(input({ pushEndpoint: 'http://no-such-host.invalid/hooks' }))
    expect(unknownHost.body.message).toMatch(/^Ping failed with: DNS failure \(E[A-Z_]+\)\.$/)
  })

  it('keeps push endpoints to difi.move.webhooks.allowed-hosts', async () => {
    const { sub } = await start({ 'difi.move.webhooks.allowed-hosts': 'fagsystem.example.no,localhost' })
    const refused = await create(input())
    expect(refused.status).toBe(400)
    expect(refused.body.errors).toEqual([
      expect.objectContaining({
        field: 'pushEndpoint',
        code: 'AllowedHost',
        defaultMessage: "host '127.0.0.1' is not in difi.move.webhooks.allowed-hosts",
      }),
    ])
    expect(sub.received).toHaveLength(0)
    const allowed = await create(
      input({ pushEndpoint: sub.url.replace('127.0.0.1', 'localhost') + '/hooks' }),
    )
    expect(allowed.status).toBe(200)
  })

  it('deletes them all, pages and sorts', async () => {
    const { ip } = await start()
    for (const name of ['c', 'a', 'b']) expect((await create(input({ name }))).status).toBe(200)
    const page = (await ip.json<Json>('/api/subscriptions?size=2&sort=name,desc')).body
    expect(page.content.map((s: Json) => s.name)).toEqual(['c', 'b'])
    expect(page).toMatchObject({
      totalElements: 3,
      totalPages: 2,
      numberOfElements: 2,
      sort: { sorted: true },
    })
    const del = await ip.fetch('/api/subscriptions', { method: 'DELETE' })
    expect([del.status, await del.text()]).toEqual([200, ''])
    expect((await ip.json<Json>('/api/subscriptions')).body.content).toEqual([])
  })
})
