import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/http/app.js'
import { intakeIncoming } from '../src/messages/in/intake.js'
import { buildOpenApiDocument } from '../src/openapi/document.js'
import { normalisePath, routesOfTree, schemaValidator } from '../src/openapi/test-support.js'
import { parseSbd } from '../src/sbd/parse.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { arkivmeldingSbd, jsonBody, OWN_ORG, PROCESS, startTestIp, type TestIp } from './support/ip.js'
import { type Subscriber, startSubscriber } from './support/subscriber.js'

warnIfPostgresSkipped()

type Json = any
const INVALID = 'org.springframework.web.bind.MethodArgumentNotValidException'
const UNREADABLE = 'org.springframework.http.converter.HttpMessageNotReadableException'

describe.each(STORES)('the OpenAPI document and Swagger UI on %s', (kind) => {
  let ip: TestIp
  let sub: Subscriber
  let doc: Json
  let strict: ReturnType<typeof schemaValidator>
  beforeAll(async () => {
    // with Basic auth on, as the reference's default: the documentation stays open, the API does not
    ip = await startTestIp(kind, { overrides: { 'difi.security.enable': 'true' } })
    sub = await startSubscriber()
    doc = (await (await fetch(`${ip.url}/v3/api-docs`)).json()) as Json
    strict = schemaValidator(doc, { strict: true })
  })
  afterAll(async () => {
    await ip.close()
    await sub.close()
  })

  /** The answer is one the document lists for the operation: its status, media type and schema. */
  async function answers(method: string, template: string, res: Response): Promise<Json> {
    const text = await res.text()
    const where = `${method} ${template} → ${res.status} ${text.slice(0, 300)}`
    const op = doc.paths[template]?.[method]
    expect(op, where).toBeDefined()
    const documented = op.responses[String(res.status)]
    expect(documented, where).toBeDefined()
    if (!documented.content) {
      expect(text, where).toBe('')
      return undefined
    }
    const [mediaType, { schema }] = Object.entries(documented.content as Record<string, Json>)[0]!
    const type = (res.headers.get('content-type') ?? '').replace(/\s/g, '').toLowerCase()
    expect(type, where).toBe(mediaType.replace(/\s/g, '').toLowerCase())
    if (!mediaType.includes('json')) return text
    const body = JSON.parse(text)
    expect(strict.errors(schema, body), where).toEqual([])
    return body
  }
  const call = async (method: string, template: string, path: string, init: RequestInit = {}) =>
    answers(method, template, await ip.fetch(path, { ...init, method: method.toUpperCase() }))

  it('serves the document at /v3/api-docs without credentials; the API still asks for them', async () => {
    const res = await fetch(`${ip.url}/v3/api-docs`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(await res.json()).toEqual(buildOpenApiDocument({ security: true }))
    expect(doc.security).toEqual([{ basicAuth: [] }])
    expect((await fetch(`${ip.url}/api/conversations`)).status).toBe(401)
  })

  it('documents every /api route the app serves, with its method, and nothing else', async () => {
    const app = await buildApp(ip.deps)
    await app.ready()
    const served = routesOfTree(app.printRoutes({ commonPrefix: false })).filter((r) => r.includes(' /api'))
    await app.close()
    const documented = Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${normalisePath(path)}`),
    )
    expect(served.length).toBeGreaterThan(30)
    expect([...new Set(served)].sort()).toEqual([...documented].sort())
  })

  it('answers as documented: statuses, media types and JSON, with no member the document lacks', async () => {
    const sbd = arkivmeldingSbd()
    const created = await call('post', '/api/messages/out', '/api/messages/out', jsonBody(sbd))
    const id = created.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
    await call('get', '/api/messages/out', '/api/messages/out?size=5&sort=lastUpdated,desc')
    await call('get', '/api/messages/out/{messageId}', `/api/messages/out/${id}`)
    await call('get', '/api/messages/out/{messageId}', `/api/messages/out/${randomUUID()}`)
    await call('post', '/api/messages/out/{messageId}', `/api/messages/out/${id}`)
    const bad = await call('post', '/api/messages/out', '/api/messages/out', jsonBody({ ...sbd, extra: 1 }))
    expect(bad.status).toBe(400)
    const invalid = structuredClone(sbd) as Json
    delete invalid.standardBusinessDocumentHeader.headerVersion
    expect(
      (await call('post', '/api/messages/out', '/api/messages/out', jsonBody(invalid))).errors,
    ).toHaveLength(1)

    await call('get', '/api/capabilities/{receiverIdentifier}', '/api/capabilities/910077473')
    await call(
      'get',
      '/api/capabilities/{receiverIdentifier}',
      '/api/capabilities/09118532322?securityLevel=3',
    )
    await call('get', '/api/capabilities/{receiverIdentifier}', '/api/capabilities/910077473?securityLevel=x')
    await call(
      'get',
      '/api/prototype/{capability}',
      '/api/prototype/arkivmelding?receiverIdentifier=910075918',
    )
    await call('get', '/api/prototype/{capability}', '/api/prototype/print')
    await call('get', '/api/prototype/{capability}', '/api/prototype/feil?receiverIdentifier=910075918')

    const conversations = await call('get', '/api/conversations', '/api/conversations?direction=OUTGOING')
    const conversation = conversations.content[0]
    expect(conversation.messageStatuses.length).toBeGreaterThan(0)
    await call('get', '/api/conversations', '/api/conversations?finished=maybe')
    await call('get', '/api/conversations/queue', '/api/conversations/queue')
    await call('get', '/api/conversations/{id}', `/api/conversations/${conversation.id}`)
    await call('get', '/api/conversations/{id}', '/api/conversations/999999')
    await call('get', '/api/conversations/messageId/{messageId}', `/api/conversations/messageId/${id}`)
    await call('get', '/api/statuses', `/api/statuses?messageId=${id}`)
    await call('get', '/api/statuses/{id}', `/api/statuses/${id}`)
    await call('get', '/api/messages/status/{messageId}', `/api/messages/status/${id}`)
    const queued = await call('get', '/api/statuses/peek', '/api/statuses/peek')
    await call('delete', '/api/statuses/{id}', `/api/statuses/${queued.id}`)
    await call('delete', '/api/statuses/{id}', '/api/statuses/999999')
    await call('delete', '/api/conversations/messageId/{messageId}', `/api/conversations/messageId/${id}`)
    await call('delete', '/api/conversations/{id}', `/api/conversations/${conversation.id}`)
    await call('delete', '/api/messages/out/{messageId}', `/api/messages/out/${id}`)
  })

  it('reads every typed query parameter it documents: a bad value is a documented 400', async () => {
    const sample: Record<string, string> = { receiverIdentifier: '910077473' }
    let checked = 0
    for (const [template, item] of Object.entries(doc.paths as Record<string, Json>)) {
      for (const [method, op] of Object.entries(item as Record<string, Json>)) {
        const typed = (op.parameters ?? []).filter(
          (p: Json) =>
            p.in === 'query' &&
            !['page', 'size', 'sort'].includes(p.name) &&
            (p.schema.type !== 'string' || p.schema.enum || p.schema.format),
        )
        for (const p of typed) {
          const path = template.replace(/\{([^}]+)\}/g, (_, name) => sample[name] ?? randomUUID())
          const res = await ip.fetch(`${path}?${p.name}=not-a-${p.schema.type}`, {
            method: method.toUpperCase(),
            ...(method === 'post'
              ? { headers: { 'content-type': 'application/json' }, body: '{"messageIds":[]}' }
              : {}),
          })
          expect(res.status, `${method} ${template} ?${p.name}`).toBe(400)
          await answers(method, template, res)
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(14)
  })

  it('answers the receiving side and subscriptions as documented', async () => {
    const incoming = arkivmeldingSbd({ receiver: OWN_ORG }) as Json
    const header = incoming.standardBusinessDocumentHeader
    header.sender = [{ identifier: { authority: 'iso6523-actorid-upis', value: '0192:910075918' } }]
    header.documentIdentification.instanceIdentifier = randomUUID()
    header.businessScope.scope[0].instanceIdentifier = randomUUID()
    header.businessScope.scope[0].scopeInformation = [
      { expectedResponseDateTime: '2026-03-11T10:00:00+01:00' },
    ]
    const id = header.documentIdentification.instanceIdentifier
    const stored = await intakeIncoming(ip.deps, {
      sbd: parseSbd(incoming),
      serviceIdentifier: 'DPO',
      asic: null,
      transferRef: null,
      authenticatedSender: '0192:910075918',
    })
    expect(stored).toBe('stored')
    await call('get', '/api/messages/in', `/api/messages/in?process=${PROCESS.administrasjon}`)
    await call('get', '/api/messages/in/peek', '/api/messages/in/peek?serviceIdentifier=DPO')
    await call('get', '/api/messages/in/pop/{messageId}', `/api/messages/in/pop/${id}`)
    await call('post', '/api/messages/in/unlock/{messageId}', `/api/messages/in/unlock/${id}`)
    await call('post', '/api/messages/in/unlock', '/api/messages/in/unlock', jsonBody({ messageIds: [id] }))
    await call('get', '/api/messages/in/peek', '/api/messages/in/peek')
    await call('delete', '/api/messages/in/{messageId}', `/api/messages/in/${id}`)
    await call('get', '/api/messages/in/peek', '/api/messages/in/peek')
    await call('get', '/api/messages/in/pop/{messageId}', `/api/messages/in/pop/${id}`)

    const input = { name: 'openapi', pushEndpoint: `${sub.url}/hooks`, resource: 'all', event: 'all' }
    expect(strict.errors('SubscriptionInput', input)).toEqual([])
    const created = await call('post', '/api/subscriptions', '/api/subscriptions', jsonBody(input))
    await call('post', '/api/subscriptions', '/api/subscriptions', jsonBody({ ...input, event: 'never' }))
    await call('get', '/api/subscriptions', '/api/subscriptions')
    await call('get', '/api/subscriptions/{id}', `/api/subscriptions/${created.id}`)
    await call(
      'put',
      '/api/subscriptions/{id}',
      `/api/subscriptions/${created.id}`,
      jsonBody({ filter: 'status=FEIL' }),
    )
    await call('delete', '/api/subscriptions/{id}', `/api/subscriptions/${created.id}`)
    await call('get', '/api/subscriptions/{id}', `/api/subscriptions/${created.id}`)
    const ping = sub.received.find((r) => r.json?.event === 'ping')
    expect(ping).toBeDefined()
    expect(
      strict.errors(doc.webhooks.ping.post.requestBody.content['application/json'].schema, ping!.json),
    ).toEqual([])
  })

  it('refuses an SBD without a member the schema requires, as the API does, and only those', async () => {
    const header = doc.components.schemas.StandardBusinessDocumentHeader
    const schemaOf = (s: Json): Json =>
      s?.$ref ? schemaOf(doc.components.schemas[s.$ref.split('/').pop()]) : s?.items ? schemaOf(s.items) : s
    // every member of the suite's fixture, taken away one at a time
    const walk = (value: Json, schema: Json, at: string[]): [string[], boolean][] =>
      Object.entries(value).flatMap(([key, v]) => {
        const own: [string[], boolean] = [[...at, key], (schema.required ?? []).includes(key)]
        const sub = schemaOf(schema.properties?.[key])
        const inner = Array.isArray(v) ? v[0] : v
        return inner && typeof inner === 'object' && sub
          ? [own, ...walk(inner, sub, [...at, key, ...(Array.isArray(v) ? ['0'] : [])])]
          : [own]
      })
    const members = walk(arkivmeldingSbd().standardBusinessDocumentHeader, header, [
      'standardBusinessDocumentHeader',
    ])
    expect(members.filter(([, required]) => required).length).toBeGreaterThanOrEqual(6)
    for (const [path, required] of members) {
      const sbd = arkivmeldingSbd() as Json
      const parent = path.slice(0, -1).reduce((node, key) => node[key], sbd)
      delete parent[path[path.length - 1]!]
      const where = path.join('.')
      expect(strict.errors('StandardBusinessDocument', sbd).length > 0, where).toBe(required)
      const res = await ip.json<Json>('/api/messages/out', jsonBody(sbd))
      if (required) {
        expect(res.status, where).toBe(400)
        // the type names the business message, so without it the SBD does not even bind
        expect([INVALID, UNREADABLE], where).toContain(res.body.exception)
        if (res.body.exception === INVALID)
          expect(
            res.body.errors.map((e: Json) => e.field),
            where,
          ).toContain(where.replace(/\.0\./g, '[].'))
      } else {
        expect([INVALID, UNREADABLE], where).not.toContain(res.body.exception)
      }
    }
  })

  it('serves Swagger UI from this server, reading /v3/api-docs', async () => {
    for (const path of ['/swagger-ui', '/swagger-ui/']) {
      const page = await fetch(`${ip.url}${path}`)
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toMatch(/^text\/html/)
      const html = await page.text()
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map(
        (m) => new URL(m[1]!, `${ip.url}${path}`),
      )
      expect(assets.map((u) => u.pathname)).toEqual(
        expect.arrayContaining([
          '/swagger-ui/static/swagger-ui.css',
          '/swagger-ui/static/swagger-ui-bundle.js',
        ]),
      )
      for (const url of assets) {
        expect(url.origin, `${url} is on this server`).toBe(new URL(ip.url).origin)
        const asset = await fetch(url)
        expect(asset.status, url.pathname).toBe(200)
        const type = asset.headers.get('content-type') ?? ''
        if (url.pathname.endsWith('.js')) expect(type, url.pathname).toMatch(/javascript/)
        if (url.pathname.endsWith('.css')) expect(type, url.pathname).toMatch(/^text\/css/)
        expect((await asset.arrayBuffer()).byteLength, url.pathname).toBeGreaterThan(0)
      }
    }
    const initializer = await (await fetch(`${ip.url}/swagger-ui/static/swagger-initializer.js`)).text()
    const config = JSON.parse(/const config = (\{.*\})\n/.exec(initializer)![1]!)
    expect(config.urls).toEqual([{ url: '/v3/api-docs', name: expect.any(String) }])
    const bundle = await (await fetch(`${ip.url}/swagger-ui/static/swagger-ui-bundle.js`)).text()
    expect(bundle.length).toBeGreaterThan(500_000)
  })
})
