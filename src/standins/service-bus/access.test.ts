import { afterEach, describe, expect, it } from 'vitest'
import type { ServiceBusExtension } from './app.js'
import { sasToken } from './sas.js'
import { SANDBOX_KEY, SANDBOX_KEY_NAME } from './settings.js'
import { brokerProperties, type Harness, harness, QUEUE } from './test-support.js'

/** SAS refusals over HTTP, injected faults, the sandbox API and page, and the extension point. */
const open: Harness[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()))
})

async function start(opts: Parameters<typeof harness>[0] = {}) {
  const h = await harness(opts)
  open.push(h)
  return h
}

const nowS = (h: Harness) => Math.floor(h.clock.now().getTime() / 1000)
const token = (h: Harness, path: string, o: { key?: string; expiresAt?: number } = {}) =>
  sasToken({
    resourceUrl: `${h.url}${path}`,
    keyName: SANDBOX_KEY_NAME,
    key: o.key ?? SANDBOX_KEY,
    expiresAt: o.expiresAt ?? nowS(h) + 20,
  })
const queued = async (h: Harness) =>
  (await (await h.call('/sandbox/api/queues')).json()) as { active: number }[]

describe('SAS over HTTP', () => {
  it('answers 401 without a token, with a wrong key and with a token for another queue, and keeps nothing', async () => {
    const h = await start()
    const path = `/${QUEUE}/messages`
    const post = (auth: boolean | string) => h.call(path, { method: 'POST', body: 'x', auth })
    const none = await post(false)
    expect(none.status).toBe(401)
    expect(await none.text()).toMatch(/^<Error><Code>401<\/Code>/)
    expect((await post(token(h, path, { key: 'not-the-key' }))).status).toBe(401)
    expect((await post(token(h, '/nextbestqueue910077473innsyn/messages'))).status).toBe(401)
    expect(await queued(h)).toEqual([])
  })

  it('takes the reference’s rounded expiry up to 300 s in the past, not 301', async () => {
    const h = await start()
    const path = `/${QUEUE}/messages/head`
    const head = (expiresAt: number) => h.call(path, { method: 'POST', auth: token(h, path, { expiresAt }) })
    expect((await head(nowS(h) - 44)).status).toBe(204)
    expect((await head(nowS(h) - 300)).status).toBe(204)
    expect((await head(nowS(h) - 301)).status).toBe(401)
  })

  it('takes a token for the whole namespace, and one signed with the dead-letter queue’s $ unencoded', async () => {
    const h = await start()
    const send = await h.call(`/${QUEUE}/messages`, { method: 'POST', body: 'x', auth: token(h, '/') })
    expect(send.status).toBe(201)
    const path = `/${QUEUE}/%24DeadLetterQueue/messages/head`
    const res = await h.call(path, {
      method: 'POST',
      auth: token(h, `/${QUEUE}/$DeadLetterQueue/messages/head`),
    })
    expect(res.status).toBe(204)
  })

  it('asks nothing of the sandbox and /health', async () => {
    const h = await start()
    expect((await h.call('/sandbox/api/queues', { auth: false })).status).toBe(200)
    expect((await h.call('/health', { auth: false })).status).toBe(200)
  })
})

describe('injected faults', () => {
  it('answers 503 before doing anything at errorRate 1, sparing the sandbox', async () => {
    const h = await start({ faults: { errorRate: 1 } })
    expect((await h.send(QUEUE, 'x')).status).toBe(503)
    expect(await queued(h)).toEqual([])
    expect(h.arrived).toEqual([])
  })

  it('draws from the given random: only a draw under errorRate fails', async () => {
    const draws = [0.9, 0.1]
    const h = await start({ faults: { errorRate: 0.5, random: () => draws.shift() ?? 1 } })
    expect((await h.send(QUEUE, 'a')).status).toBe(201)
    expect((await h.send(QUEUE, 'b')).status).toBe(503)
    expect((await h.send(QUEUE, 'c')).status).toBe(201)
    expect(await queued(h)).toMatchObject([{ active: 2 }])
  })

  it('stores a send whose answer it drops, so a retry puts a second copy on the queue', async () => {
    const h = await start({
      faults: {
        dropResponseRate: 1,
        applies: (method, url) => method === 'POST' && url.endsWith('/messages'),
      },
    })
    await expect(h.send(QUEUE, 'x', { MessageId: 'once' })).rejects.toThrow()
    expect(await queued(h)).toMatchObject([{ active: 1 }])
    // as Azure without duplicate detection: the receiver's deduplication by messageId is what holds
    await expect(h.send(QUEUE, 'x', { MessageId: 'once' })).rejects.toThrow()
    expect(brokerProperties(await h.head(QUEUE))).toMatchObject({ MessageId: 'once', SequenceNumber: 1 })
    expect(brokerProperties(await h.head(QUEUE))).toMatchObject({ MessageId: 'once', SequenceNumber: 2 })
  })
})

describe('the sandbox', () => {
  it('lists a queue’s messages with their state, deliveries and a preview; 404 for a queue never used', async () => {
    const h = await start({ settings: { maxDeliveryCount: 1, lockDurationMs: 1_000 } })
    await h.send(QUEUE, `{"sbd":"${'x'.repeat(300)}"}`, { MessageId: 'long', Label: 'l' }, 'application/json')
    await h.send(QUEUE, 'second')
    await h.head(QUEUE)
    h.clock.advance(1_000)
    await h.head(QUEUE)
    const res = await h.call(`/sandbox/api/queues/${QUEUE}/messages`)
    const items = await res.json()
    expect(items).toHaveLength(2)
    expect(items[0]).toMatchObject({
      sequenceNumber: 1,
      messageId: 'long',
      state: 'deadLettered',
      deliveryCount: 1,
      deadLetterReason: 'MaxDeliveryCountExceeded',
      contentType: 'application/json',
      size: 310,
      properties: { Label: 'l' },
      enqueuedTime: '2026-08-20T10:00:00.000Z',
    })
    expect(items[0].preview).toBe(`{"sbd":"${'x'.repeat(192)}…`)
    expect(items[1]).toMatchObject({
      sequenceNumber: 2,
      state: 'locked',
      deliveryCount: 1,
      preview: 'second',
    })
    expect((await h.call('/sandbox/api/queues/nextbestqueue000000000innsyn/messages')).status).toBe(404)
  })

  it('shows the queues on a page, the senders’ text escaped', async () => {
    const h = await start()
    await h.send(QUEUE, '<script>alert(1)</script>', { MessageId: '"><b>id' })
    const page = await (await h.call('/sandbox')).text()
    expect(page).toContain(`<h2>${QUEUE}</h2>`)
    expect(page).toContain('1 active · 0 locked · 0 dead-lettered')
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(page).toContain('&quot;&gt;&lt;b&gt;id')
    expect(page).not.toContain('<script>')
  })

  it('answers a send whose onArrived listener throws as any other', async () => {
    const h = await start({
      onArrived: () => {
        throw new Error('the receiver is not there')
      },
    })
    expect((await h.send(QUEUE, 'x')).status).toBe(201)
    expect((await h.head(QUEUE)).status).toBe(201)
  })
})

describe('an extension served beside the Service Bus', () => {
  it('gets its own routes with its own body parsing, hears of arrivals and adds to the page', async () => {
    const heard: string[] = []
    const extension: ServiceBusExtension = {
      name: 'echo',
      register(app, ctx) {
        ctx.arrivals.subscribe((queue) => heard.push(queue))
        app.post('/sandbox/api/echo', async (req) => ({ got: req.body, at: ctx.baseUrl() }))
      },
      pageSection: () => '<section><h2>Echo</h2></section>',
    }
    const h = await start({ extensions: [extension] })
    const res = await h.call('/sandbox/api/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    })
    expect(await res.json()).toEqual({ got: { a: 1 }, at: h.url })
    await h.send(QUEUE, 'x')
    expect(heard).toEqual([QUEUE])
    expect(await (await h.call('/sandbox')).text()).toContain('<section><h2>Echo</h2></section>')
  })
})
