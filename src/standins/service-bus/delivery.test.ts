import { afterEach, describe, expect, it } from 'vitest'
import { brokerProperties, type Harness, harness, lockPath, QUEUE } from './test-support.js'

/** Lock expiry, dead-lettering and a restart: what a receiver that fails or crashes meets. */
const open: Harness[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()))
})

async function start(opts: Parameters<typeof harness>[0] = {}) {
  const h = await harness(opts)
  open.push(h)
  return h
}

const DLQ = `${QUEUE}/$DeadLetterQueue`

describe('an expired lock', () => {
  it('makes the message available again with DeliveryCount 2, and the old lock can no longer complete it', async () => {
    const h = await start({ settings: { lockDurationMs: 60_000 } })
    await h.send(QUEUE, 'x', { MessageId: 'm1' })
    const first = await h.head(QUEUE)
    h.clock.advance(59_999)
    expect((await h.head(QUEUE)).status).toBe(204)
    h.clock.advance(1)
    const second = await h.head(QUEUE)
    expect(second.status).toBe(201)
    expect(brokerProperties(second)).toMatchObject({ MessageId: 'm1', DeliveryCount: 2, SequenceNumber: 1 })
    expect(brokerProperties(second).LockToken).not.toBe(brokerProperties(first).LockToken)
    expect((await h.call(lockPath(first), { method: 'DELETE' })).status).toBe(404)
    expect((await h.call(lockPath(second), { method: 'DELETE' })).status).toBe(200)
  })

  it('refuses a renewal after it expired', async () => {
    const h = await start({ settings: { lockDurationMs: 1_000 } })
    await h.send(QUEUE, 'x')
    const path = lockPath(await h.head(QUEUE))
    h.clock.advance(1_000)
    expect((await h.call(path, { method: 'POST' })).status).toBe(404)
  })
})

describe('MaxDeliveryCount', () => {
  it('moves a message delivered that many times to $DeadLetterQueue, readable and deletable there', async () => {
    const h = await start({ settings: { maxDeliveryCount: 3, lockDurationMs: 1_000 } })
    await h.send(QUEUE, 'poison', { MessageId: 'bad' })
    await h.send(QUEUE, 'fine')
    for (let delivery = 1; delivery <= 3; delivery++) {
      const res = await h.head(QUEUE)
      expect(brokerProperties(res)).toMatchObject({ MessageId: 'bad', DeliveryCount: delivery })
      expect((await h.call(lockPath(res), { method: 'PUT' })).status).toBe(200)
    }
    // the fourth delivery would exceed 3: the next message comes instead
    expect(await (await h.head(QUEUE)).text()).toBe('fine')
    expect(await (await h.call('/sandbox/api/queues')).json()).toMatchObject([
      { name: QUEUE, active: 0, locked: 1, deadLettered: 1 },
    ])
    const dead = await h.head(DLQ)
    expect(dead.status).toBe(201)
    expect(await dead.text()).toBe('poison')
    expect(dead.headers.get('deadletterreason')).toBe('"MaxDeliveryCountExceeded"')
    expect(brokerProperties(dead)).toMatchObject({ MessageId: 'bad', DeliveryCount: 4 })
    expect(dead.headers.get('location')).toBe(
      `${h.url}/${DLQ}/messages/1/${brokerProperties(dead).LockToken}`,
    )
    expect((await h.call(lockPath(dead), { method: 'DELETE' })).status).toBe(200)
    expect((await h.head(DLQ)).status).toBe(204)
  })

  it('answers on the dead-letter queue with the $ encoded or not, and 404 for another sub-queue', async () => {
    const h = await start({ settings: { maxDeliveryCount: 1, lockDurationMs: 1_000 } })
    await h.send(QUEUE, 'a')
    await h.send(QUEUE, 'b')
    for (const _ of [1, 2]) {
      await h.head(QUEUE)
      h.clock.advance(1_000)
    }
    expect((await h.head(QUEUE)).status).toBe(204)
    const encoded = await h.head(`${QUEUE}/%24DeadLetterQueue`)
    expect(await encoded.text()).toBe('a')
    const token = brokerProperties(encoded).LockToken
    expect(
      (await h.call(`/${QUEUE}/%24deadletterqueue/messages/1/${token}`, { method: 'DELETE' })).status,
    ).toBe(200)
    expect(await (await h.head(DLQ)).text()).toBe('b')
    expect((await h.head(`${QUEUE}/$Transfer`)).status).toBe(404)
  })

  it('never dead-letters from the dead-letter queue itself', async () => {
    const h = await start({ settings: { maxDeliveryCount: 1, lockDurationMs: 1_000 } })
    await h.send(QUEUE, 'a')
    await h.head(QUEUE)
    h.clock.advance(1_000)
    expect((await h.head(QUEUE)).status).toBe(204)
    for (let i = 0; i < 3; i++) {
      expect(await (await h.head(DLQ)).text()).toBe('a')
      h.clock.advance(1_000)
    }
  })
})

describe('a restart', () => {
  it('keeps messages, locks, dead letters and the sequence numbers', async () => {
    const h = await start({ settings: { maxDeliveryCount: 1, lockDurationMs: 10_000 } })
    await h.send(QUEUE, 'dead')
    await h.head(QUEUE)
    h.clock.advance(10_000)
    await h.send(QUEUE, 'kept', { MessageId: 'k' })
    const locked = await h.head(QUEUE)
    expect(await locked.text()).toBe('kept')
    await h.restart()
    expect((await h.head(QUEUE)).status).toBe(204)
    expect((await h.call(lockPath(locked), { method: 'DELETE' })).status).toBe(200)
    expect(await (await h.head(DLQ)).text()).toBe('dead')
    await h.send(QUEUE, 'after')
    expect(brokerProperties(await h.head(QUEUE))).toMatchObject({ SequenceNumber: 3 })
  })
})
