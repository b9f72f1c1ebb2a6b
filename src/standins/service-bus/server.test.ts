import { afterEach, describe, expect, it } from 'vitest'
import { brokerProperties, type Harness, harness, lockPath, QUEUE } from './test-support.js'

const open: Harness[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()))
})

async function start(opts: Parameters<typeof harness>[0] = {}) {
  const h = await harness(opts)
  open.push(h)
  return h
}

// the reference's body: pretty-printed JSON with non-ASCII text, sent as octet-stream
const BODY = '{\n  "sbd" : { "innsynskrav" : { "orgnr" : "910075918", "epost" : "ærlig@example.no" } }\n}'

describe('send (POST /{queue}/messages)', () => {
  it('answers 201, and the message comes back byte for byte with its Content-Type and charset', async () => {
    const h = await start()
    const res = await h.send(QUEUE, BODY, {})
    expect(res.status).toBe(201)
    expect(await res.text()).toBe('')
    const got = await h.head(QUEUE)
    expect(got.status).toBe(201)
    expect(got.headers.get('content-type')).toBe('application/octet-stream; charset=utf-8')
    expect(Buffer.from(await got.arrayBuffer())).toEqual(Buffer.from(BODY))
    expect(h.arrived).toEqual([QUEUE])
  })

  it('assigns a MessageId when the sender gives none, keeps one it gives, and numbers each queue from 1', async () => {
    const h = await start()
    await h.send(QUEUE, 'a')
    await h.send(
      QUEUE,
      'b',
      { MessageId: 'given-id', Label: 'innsynskrav' },
      'application/json; charset=utf-8',
    )
    await h.send('nextbestqueue991825827data', 'c')
    const first = brokerProperties(await h.head(QUEUE))
    const second = await h.head(QUEUE)
    const other = brokerProperties(await h.head('nextbestqueue991825827data'))
    expect(first.MessageId).toMatch(/^[0-9a-f]{32}$/)
    expect(first.SequenceNumber).toBe(1)
    expect(brokerProperties(second)).toMatchObject({
      MessageId: 'given-id',
      SequenceNumber: 2,
      Label: 'innsynskrav',
    })
    expect(second.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(other.SequenceNumber).toBe(1)
  })

  it('refuses a body over maxMessageBytes with 403 and keeps nothing', async () => {
    const h = await start({ settings: { maxMessageBytes: 1000 } })
    expect((await h.send(QUEUE, Buffer.alloc(1000, 'x'))).status).toBe(201)
    const res = await h.send(QUEUE, Buffer.alloc(1001, 'x'))
    expect(res.status).toBe(403)
    expect(await res.text()).toMatch(/^<Error><Code>403<\/Code><Detail>.*larger than 1000 bytes/)
    const queues = await (await h.call('/sandbox/api/queues')).json()
    expect(queues).toMatchObject([{ name: QUEUE, active: 1 }])
  })

  it('refuses BrokerProperties that are not a JSON object, or a MessageId that is not a string', async () => {
    const h = await start()
    const bad = await h.call(`/${QUEUE}/messages`, {
      method: 'POST',
      headers: { brokerproperties: '{nope' },
      body: 'x',
    })
    expect(bad.status).toBe(400)
    expect((await h.send(QUEUE, 'x', { MessageId: 42 })).status).toBe(400)
    expect((await h.send(QUEUE, 'x', { TimeToLive: -1 })).status).toBe(400)
    expect((await h.head(QUEUE)).status).toBe(204)
  })

  it('drops a message once its TimeToLive has passed unread', async () => {
    const h = await start()
    await h.send(QUEUE, 'short-lived', { TimeToLive: 10 })
    h.clock.advance(10_001)
    expect((await h.head(QUEUE)).status).toBe(204)
    expect(await (await h.call('/sandbox/api/queues')).json()).toMatchObject([{ name: QUEUE, active: 0 }])
  })
})

describe('peek-lock (POST /{queue}/messages/head)', () => {
  it('answers BrokerProperties with the lock, and a Location to complete it by', async () => {
    const h = await start({ settings: { lockDurationMs: 30_000 } })
    await h.send(QUEUE, BODY)
    const res = await h.head(QUEUE)
    const props = brokerProperties(res)
    expect(props).toMatchObject({
      DeliveryCount: 1,
      SequenceNumber: 1,
      EnqueuedTimeUtc: 'Thu, 20 Aug 2026 10:00:00 GMT',
      LockedUntilUtc: 'Thu, 20 Aug 2026 10:00:30 GMT',
      State: 'Active',
    })
    expect(props.LockToken).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.headers.get('location')).toBe(`${h.url}/${QUEUE}/messages/1/${props.LockToken}`)
  })

  it('answers 204 at once on an empty queue, creating it', async () => {
    const h = await start()
    const res = await h.head('nextbestqueue910077473innsyn')
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    expect(await (await h.call('/sandbox/api/queues')).json()).toEqual([
      {
        name: 'nextbestqueue910077473innsyn',
        created: h.clock.now().getTime(),
        active: 0,
        locked: 0,
        deadLettered: 0,
      },
    ])
  })

  it('with ?timeout, hands over a message sent while it waits', async () => {
    const h = await start()
    const waiting = h.head(QUEUE, '?timeout=60')
    await h.send(QUEUE, 'late')
    const res = await waiting
    expect(res.status).toBe(201)
    expect(await res.text()).toBe('late')
  })

  it('with a long ?timeout on an empty queue, still answers 204 within its own short wait', async () => {
    const h = await start()
    // Azure would hold this call for 60 s; the test's 5 s limit fails if the stand-in does
    const res = await h.head(QUEUE, '?timeout=60')
    expect(res.status).toBe(204)
  })

  it('does not give a locked message to a second receiver', async () => {
    const h = await start()
    await h.send(QUEUE, 'one')
    expect((await h.head(QUEUE)).status).toBe(201)
    expect((await h.head(QUEUE)).status).toBe(204)
  })
})

describe('complete, unlock and renew (…/messages/{id}/{lockToken})', () => {
  it('deletes with 200 by SequenceNumber; the same call again is 404', async () => {
    const h = await start()
    await h.send(QUEUE, 'x')
    const path = lockPath(await h.head(QUEUE))
    expect((await h.call(path, { method: 'DELETE' })).status).toBe(200)
    const again = await h.call(path, { method: 'DELETE' })
    expect(again.status).toBe(404)
    expect(await again.text()).toMatch(/<Code>404<\/Code>/)
    expect((await h.head(QUEUE)).status).toBe(204)
  })

  it('deletes by MessageId, as the reference does', async () => {
    const h = await start()
    await h.send(QUEUE, 'x', { MessageId: 'abc-123' })
    const props = brokerProperties(await h.head(QUEUE))
    expect((await h.call(`/${QUEUE}/messages/abc-123/${props.LockToken}`, { method: 'DELETE' })).status).toBe(
      200,
    )
    expect(await (await h.call('/sandbox/api/queues')).json()).toMatchObject([{ active: 0, locked: 0 }])
  })

  it('answers 404 for a lock token or an id it does not hold', async () => {
    const h = await start()
    await h.send(QUEUE, 'x')
    const props = brokerProperties(await h.head(QUEUE))
    const token = String(props.LockToken)
    expect(
      (await h.call(`/${QUEUE}/messages/1/00000000-0000-4000-8000-000000000000`, { method: 'DELETE' }))
        .status,
    ).toBe(404)
    expect((await h.call(`/${QUEUE}/messages/2/${token}`, { method: 'DELETE' })).status).toBe(404)
    expect((await h.call(`/${QUEUE}/messages/1/${token}`, { method: 'PUT' })).status).toBe(200)
    expect((await h.call(`/${QUEUE}/messages/1/${token}`, { method: 'PUT' })).status).toBe(404)
    expect((await h.call(`/${QUEUE}/messages/1/${token}`, { method: 'POST' })).status).toBe(404)
  })

  it('unlock gives the message back at once, its next delivery counted as the second', async () => {
    const h = await start()
    await h.send(QUEUE, 'x')
    const first = await h.head(QUEUE)
    expect((await h.call(lockPath(first), { method: 'PUT' })).status).toBe(200)
    const second = await h.head(QUEUE)
    expect(brokerProperties(second)).toMatchObject({ DeliveryCount: 2, SequenceNumber: 1 })
    expect((await h.call(lockPath(first), { method: 'DELETE' })).status).toBe(404)
    expect((await h.call(lockPath(second), { method: 'DELETE' })).status).toBe(200)
  })

  it('renew extends the lock by the lock duration from now', async () => {
    const h = await start({ settings: { lockDurationMs: 60_000 } })
    await h.send(QUEUE, 'x')
    const path = lockPath(await h.head(QUEUE))
    h.clock.advance(50_000)
    expect((await h.call(path, { method: 'POST' })).status).toBe(200)
    h.clock.advance(50_000)
    // 100 s after the peek: without the renewal the lock would have gone at 60 s
    expect((await h.head(QUEUE)).status).toBe(204)
    expect((await h.call(path, { method: 'DELETE' })).status).toBe(200)
  })
})
