import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../util/time.js'
import {
  correspondenceClient,
  DIRECT,
  file,
  ipFields,
  ORG_RECIPIENT,
  PERSON,
  SENDER,
} from './correspondence/test-support.js'
import { startAltinnBroker } from './server.js'
import { capturingLogger, tempDir } from './test-support.js'

// The Correspondence API of the Altinn stand-in through real HTTP: what the integration point sends is
// stored as sent, its statuses move as Altinn moves them, and only the right tokens get in.

const dir = tempDir()
const clock = new ManualClock('2026-03-10T10:00:00Z')
const PUBLISH_DELAY = 5_000
const FAILING = '24816040074'
let broker: Awaited<ReturnType<typeof startAltinnBroker>>
let client: ReturnType<typeof correspondenceClient>
let token: string

beforeAll(async () => {
  broker = await startAltinnBroker({
    port: 0,
    dataDir: dir.path,
    logger: capturingLogger().logger,
    clock,
    correspondence: { publishDelayMs: PUBLISH_DELAY, failingRecipients: [FAILING] },
  })
  client = correspondenceClient(broker.url)
  token = await client.token()
})
// the clock moves by hours in some tests, past an Altinn token's 30 minutes
beforeEach(async () => {
  token = await client.token()
})
afterAll(async () => {
  await broker?.close()
  dir.remove()
})

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function sent(fields = ipFields({}, clock.now()), files = [file('test.txt', 'hello')]) {
  const res = await client.upload(token, fields, files)
  expect(res.status, res.text).toBe(200)
  return res.json().correspondences[0].correspondenceId as string
}

describe('upload', () => {
  it('stores the form and the files as sent, and answers with fresh UUIDv7 ids', async () => {
    const bytes = randomBytes(70_000)
    const fields = ipFields(
      {
        'correspondence.content.attachments[1].fileName': 'b.pdf',
        'correspondence.content.attachments[1].displayName': 'Vedlegg',
        'correspondence.content.attachments[1].isEncrypted': 'false',
        'correspondence.content.attachments[1].sendersReference': 'ref-b',
      },
      clock.now(),
    )
    const res = await client.upload(token, fields, [file('test.txt', 'hello'), file('b.pdf', bytes)])
    expect(res.status, res.text).toBe(200)
    const body = res.json()
    expect(body.correspondences).toEqual([
      {
        correspondenceId: expect.stringMatching(
          /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        ),
        status: 'Initialized',
        recipient: ORG_RECIPIENT,
        notifications: [
          { orderId: expect.any(String), isReminder: false, status: 'Success' },
          { orderId: expect.any(String), isReminder: true, status: 'Success' },
        ],
      },
    ])
    expect(body.attachmentIds).toHaveLength(2)
    const id = body.correspondences[0].correspondenceId
    const [item] = (await client.sandbox('?recipient=910094092'))
      .json()
      .filter((c: { correspondenceId: string }) => c.correspondenceId === id)
    expect(item).toMatchObject({
      sendersReference: Object.fromEntries(fields)['correspondence.sendersReference'],
      recipient: ORG_RECIPIENT,
      title: 'Nye lysrør',
      attachments: [
        { fileName: 'test.txt', displayName: 'Test', size: 5, sha256: sha256(Buffer.from('hello')) },
        { fileName: 'b.pdf', displayName: 'Vedlegg', size: bytes.length, sha256: sha256(bytes) },
      ],
    })
    expect(item.fields).toEqual(Object.fromEntries(fields))
    const download = await fetch(
      `${broker.url}/sandbox/correspondence/${id}/attachments/${body.attachmentIds[1]}`,
    )
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true)
  })

  it('binds PascalCase keys as camelCase ones, and answers ReadyForPublish without attachments', async () => {
    const fields = ipFields({}, clock.now())
      .filter(([k]) => !k.includes('attachments['))
      .map(([k, v]): [string, string] => [
        k.replace(/(^|\.)([a-z])/g, (_, dot, c) => dot + c.toUpperCase()),
        v,
      ])
    expect(fields.find(([k]) => k === 'Correspondence.Content.MessageTitle')).toBeDefined()
    const res = await client.upload(token, fields, [])
    expect(res.status, res.text).toBe(200)
    expect(res.json().correspondences[0].status).toBe('ReadyForPublish')
    expect(res.json().attachmentIds).toEqual([])
  })

  it('answers 409 1034 to a repeated idempotentKey, even with other content', async () => {
    const fields = ipFields({}, clock.now())
    await sent(fields)
    const again = fields.map(([k, v]): [string, string] => [
      k,
      k.endsWith('messageTitle') ? 'Annen tittel' : v,
    ])
    const res = await client.upload(token, again, [file('test.txt', 'other')])
    expect(res.status).toBe(409)
    expect(res.json()).toMatchObject({
      type: 'https://tools.ietf.org/html/rfc9110#section-15.5.10',
      title: 'Conflict',
      status: 409,
      detail: 'A correspondence with the same idempotent key already exists',
      code: 'CORR-01034',
      errorCode: 1034,
      traceId: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/),
    })
  })
})

describe('status', () => {
  it('moves from ReadyForPublish to Published after the delay, Read when read, and 404 after a purge', async () => {
    const id = await sent()
    const first = (await client.overview(token, id)).json()
    expect(first).toMatchObject({
      correspondenceId: id,
      status: 'ReadyForPublish',
      published: null,
      read: null,
    })
    expect(first.created).toMatch(/\+00:00$/)
    expect(first.content.messageTitle).toBe('Nye lysrør') // the sender sees content before publication
    clock.advance(PUBLISH_DELAY - 1)
    expect((await client.overview(token, id)).json().status).toBe('ReadyForPublish')
    clock.advance(1)
    const published = (await client.overview(token, id)).json()
    expect(published).toMatchObject({ status: 'Published', content: null })
    expect(published.published).toBe(published.statusChanged)
    expect(published.published).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/)
    clock.advance(60_000)
    expect((await client.hook(id, 'read')).status).toBe(200)
    const read = (await client.overview(token, id)).json()
    expect(read).toMatchObject({ status: 'Read', published: published.published })
    expect(Date.parse(read.read) - Date.parse(read.published)).toBe(60_000)
    expect((await client.hook(id, 'purge')).status).toBe(200)
    const gone = await client.overview(token, id)
    expect(gone.status).toBe(404)
    expect(gone.json()).toMatchObject({ errorCode: 1001, code: 'CORR-01001', status: 404 })
  })

  it('publishes at the requested publish time when that is later', async () => {
    const later = new Date(clock.now().getTime() + 3_600_000).toISOString()
    const id = await sent(ipFields({ 'correspondence.requestedPublishTime': later }, clock.now()))
    clock.advance(3_600_000 + PUBLISH_DELAY - 1)
    token = await client.token()
    expect((await client.overview(token, id)).json().status).toBe('ReadyForPublish')
    clock.advance(1)
    expect((await client.overview(token, id)).json().status).toBe('Published')
  })

  it('refuses to read before publication, and fails with the reason given to the hook', async () => {
    const id = await sent()
    const early = await client.hook(id, 'read')
    expect(early.status).toBe(409)
    expect((await client.hook(id, 'fail', { reason: 'Mottaker finnes ikke' })).status).toBe(200)
    clock.advance(PUBLISH_DELAY)
    const failed = (await client.overview(token, id)).json()
    expect(failed).toMatchObject({ status: 'Failed', statusText: 'Mottaker finnes ikke', published: null })
  })

  it('fails a configured failing recipient at publication time instead of publishing', async () => {
    const id = await sent(ipFields({ 'recipients[0]': FAILING }, clock.now()))
    expect((await client.overview(token, id)).json().status).toBe('ReadyForPublish')
    clock.advance(PUBLISH_DELAY)
    const failed = (await client.overview(token, id)).json()
    expect(failed).toMatchObject({ status: 'Failed', published: null })
    expect(failed.statusText).toContain(FAILING)
  })

  it('lets a recipient organisation fetch and mark as read through the API, in that order', async () => {
    const id = await sent()
    clock.advance(PUBLISH_DELAY)
    const recipient = await client.token('0192:910094092', 'altinn:correspondence.read')
    const tooSoon = await client.call(`${DIRECT}/${id}/markasread`, { method: 'POST', token: recipient })
    expect(tooSoon.json().errorCode).toBe(1024)
    const seen = (await client.overview(recipient, id, DIRECT)).json()
    expect(seen.content.messageBody).toBe('Nye lysrør')
    expect(seen.status).toBe('Published') // Fetched never shows as the status
    expect(
      (await client.call(`${DIRECT}/${id}/markasread`, { method: 'POST', token: recipient })).status,
    ).toBe(200)
    const twice = await client.call(`${DIRECT}/${id}/markasread`, { method: 'POST', token: recipient })
    expect(twice.json().errorCode).toBe(1040)
    expect((await client.overview(token, id)).json().status).toBe('Read')
  })
})

describe('search', () => {
  it('needs role in strict mode, and finds the caller own correspondences by key or reference', async () => {
    const fields = ipFields({}, clock.now())
    const id = await sent(fields)
    const key = Object.fromEntries(fields).idempotentKey!
    const missing = await client.search(token, `sendersReference=${key}`)
    expect(missing.status).toBe(400)
    expect(missing.json().errors.role).toBeDefined()
    expect((await client.search(token, `role=Sender&sendersReference=${key}`)).json()).toEqual({ ids: [id] })
    const byKey = await client.search(
      token,
      `role=sender&resourceId=eformidling-dpv-administrasjon&idempotentKey=${key}`,
    )
    expect(byKey.json()).toEqual({ ids: [id] })
    const other = await client.token('0192:910075918')
    expect((await client.search(other, `role=Sender&sendersReference=${key}`)).json()).toEqual({ ids: [] })
  })

  it('takes a search without role as a sender search in lenient mode', async () => {
    const lenient = await startAltinnBroker({
      port: 0,
      dataDir: `${dir.path}/lenient`,
      logger: capturingLogger().logger,
      clock,
      correspondence: { lenientSearch: true },
    })
    try {
      const c = correspondenceClient(lenient.url)
      const t = await c.token()
      const fields = ipFields({}, clock.now())
      const id = (await c.upload(t, fields, [file('test.txt', 'x')])).json().correspondences[0]
        .correspondenceId
      const res = await c.search(t, `sendersReference=${Object.fromEntries(fields).idempotentKey}`)
      expect(res.json()).toEqual({ ids: [id] })
    } finally {
      await lenient.close()
    }
  })
})

describe('tokens', () => {
  it('refuses a missing or unknown token with 401 and a wrong scope with 403, in the proxy format', async () => {
    const fields = ipFields({}, clock.now())
    const none = await client.upload(undefined, fields)
    expect(none.status).toBe(401)
    expect(none.json()).toMatchObject({
      type: 'https://tools.ietf.org/html/rfc7807',
      title: 'UNAUTHORIZED',
      status: 401,
    })
    expect(none.json().detail).toMatch(/^Proxy AuthN error : /)
    expect((await client.upload('not-a-token', fields)).status).toBe(401)
    const broker = await client.token(SENDER, 'altinn:broker.write altinn:broker.read')
    const wrong = await client.upload(broker, fields)
    expect(wrong.status).toBe(403)
    expect(wrong.json()).toMatchObject({ title: 'FORBIDDEN', status: 403 })
    expect(wrong.json().detail).toMatch(/^Proxy AuthZ error : /)
  })

  it('wants Altinn scopes on the direct path, and eformidling:dpv is not one of them', async () => {
    const fields = ipFields({}, clock.now())
    expect((await client.upload(token, fields, [file('test.txt', 'x')], DIRECT)).status).toBe(403)
    const read = await client.token(SENDER, 'altinn:correspondence.read')
    expect((await client.upload(read, fields, [file('test.txt', 'x')], DIRECT)).status).toBe(403)
    const write = await client.token(SENDER, 'altinn:correspondence.write')
    expect((await client.upload(write, fields, [file('test.txt', 'x')], DIRECT)).status).toBe(200)
  })

  it('lets only members of a configured access list through the proxy', async () => {
    const listed = await startAltinnBroker({
      port: 0,
      dataDir: `${dir.path}/listed`,
      logger: capturingLogger().logger,
      clock,
      correspondence: { accessList: ['910075918'] },
    })
    try {
      const c = correspondenceClient(listed.url)
      const refused = await c.upload(await c.token(SENDER), ipFields({}, clock.now()), [
        file('test.txt', 'x'),
      ])
      expect(refused.status).toBe(403)
      expect(refused.json().detail).toBe(
        'Proxy AuthZ error : Access denied. Organization 910077473 is not on access list eformidling-meldingsteneste-test-tilgangsliste',
      )
      const member = await c.token('0192:910075918')
      expect((await c.upload(member, ipFields({}, clock.now()), [file('test.txt', 'x')])).status).toBe(200)
    } finally {
      await listed.close()
    }
  })

  it('serves the health probe with no token', async () => {
    expect((await client.call('/health-probe')).status).toBe(200)
  })
})

describe('sandbox', () => {
  it('lists an inbox by bare number or urn, and reads with the page button', async () => {
    const fields = ipFields({ 'recipients[0]': `urn:altinn:person:identifier-no:${PERSON}` }, clock.now())
    const id = await sent(fields)
    clock.advance(PUBLISH_DELAY)
    const byBare = (await client.sandbox(`?recipient=${PERSON}`)).json()
    const byUrn = (await client.sandbox(`?recipient=urn:altinn:person:identifier-no:${PERSON}`)).json()
    expect(byBare.map((c: { correspondenceId: string }) => c.correspondenceId)).toContain(id)
    expect(byUrn).toEqual(byBare)
    const page = await (await fetch(`${broker.url}/sandbox/correspondence?recipient=${PERSON}`)).text()
    const action = `/sandbox/correspondence/${id}/read?recipient=${PERSON}`
    expect(page).toContain(`action="${action}"`)
    expect(page).toContain('Nye lysrør')
    const press = await fetch(`${broker.url}${action}`, { method: 'POST', redirect: 'manual' })
    expect(press.status).toBe(303)
    expect(press.headers.get('location')).toBe(`/sandbox/correspondence?recipient=${PERSON}`)
    const again = await fetch(`${broker.url}${action}`, { method: 'POST', redirect: 'manual' })
    expect(again.status).toBe(303) // read twice changes nothing
    expect((await client.sandbox('/0198408f-979c-75e0-b23e-aef6e907015f')).status).toBe(404)
    expect((await client.sandbox(`/${id}`)).json().status).toBe('Read')
  })

  it('escapes what the sender wrote on the page', async () => {
    const fields = ipFields(
      { 'correspondence.content.messageBody': '<script>alert(1)</script>' },
      clock.now(),
    )
    await sent(fields)
    const page = await (await fetch(`${broker.url}/sandbox/correspondence`)).text()
    expect(page).not.toContain('<script>alert(1)')
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
  })
})
