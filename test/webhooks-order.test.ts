import { randomUUID } from 'node:crypto'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { insertConversation, registerStatus } from '../src/conversations/repository.js'
import { createJobRunner, type JobRunner } from '../src/jobs/runner.js'
import { systemClock } from '../src/util/time.js'
import { WEBHOOK_JOB } from '../src/webhooks/deliveries.js'
import { webhookJobHandler } from '../src/webhooks/handler.js'
import { STORES, type StoreKind, warnIfPostgresSkipped } from './support/db.js'
import { jsonBody, startTestIp, type TestIp } from './support/ip.js'
import { type Subscriber, startSubscriber } from './support/subscriber.js'

warnIfPostgresSkipped()

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
const LIFE = ['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'LEST']

/** A small deterministic random source, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe.each(STORES)('webhook order under concurrent workers on %s', (kind: StoreKind) => {
  let ip: TestIp | undefined
  let sub: Subscriber | undefined
  let runner: JobRunner | undefined
  afterEach(async () => {
    await runner?.stop()
    await ip?.close()
    await sub?.close()
    ip = sub = runner = undefined
  })

  it('delivers each message’s statuses in order, each once, while the receiver fails a third of the time', async () => {
    const random = prng(20260310)
    sub = await startSubscriber()
    ip = await startTestIp(kind)
    for (const path of ['/a', '/b']) {
      const body = { name: path, pushEndpoint: `${sub.url}${path}`, resource: 'all', event: 'all' }
      expect((await ip.json('/api/subscriptions', jsonBody(body))).status).toBe(200)
    }
    sub.answer = () => (random() < 0.33 ? 503 : 200)
    const db = ip.db
    runner = createJobRunner({
      db,
      clock: systemClock,
      logger,
      handlers: {
        [WEBHOOK_JOB]: webhookJobHandler({ db, clock: systemClock, logger, config: ip.config.webhooks }),
      },
      workerId: 'w',
      concurrency: 8,
      leaseMs: 60_000,
      retry: { baseMs: 5, maxMs: 40, maxAttempts: 1000 },
      intervalMs: 5,
    })
    runner.start()

    // 12 messages, their statuses registered interleaved while the workers deliver
    const messages = await Promise.all(Array.from({ length: 12 }, () => newConversation(ip!)))
    const next = new Map(messages.map((m) => [m.message_id, 0]))
    while (next.size > 0) {
      const ids = [...next.keys()]
      const messageId = ids[Math.floor(random() * ids.length)]!
      const i = next.get(messageId)!
      const conversation = messages.find((m) => m.message_id === messageId)!
      await db.kysely
        .transaction()
        .execute((trx) => registerStatus(trx, conversation, { status: LIFE[i]! }, Date.now()))
      if (i + 1 === LIFE.length) next.delete(messageId)
      else next.set(messageId, i + 1)
    }

    await until(async () => {
      const pending = await db.kysely
        .selectFrom('jobs')
        .select('id')
        .where('kind', '=', WEBHOOK_JOB)
        .where('state', '!=', 'DONE')
        .execute()
      return pending.length === 0
    })
    expect(sub.received.filter((r) => r.answered === 503).length).toBeGreaterThan(20)
    for (const path of ['/a', '/b']) {
      const delivered = sub.delivered(path)
      expect(delivered).toHaveLength(messages.length * LIFE.length)
      for (const m of messages) {
        const got = delivered.filter((r) => r.json.messageId === m.message_id).map((r) => r.json.status)
        expect(got, `${path} ${m.message_id}`).toEqual(LIFE)
      }
    }
  })
})

async function newConversation(ip: TestIp) {
  const now = Date.now()
  return insertConversation(ip.db.kysely, {
    ...{ conversation_id: randomUUID(), message_id: randomUUID(), service_identifier: 'DPO' },
    ...{
      sender: null,
      sender_identifier: null,
      receiver: '0192:910075918',
      receiver_identifier: '910075918',
    },
    ...{ process_identifier: null, document_identifier: null, message_reference: null, message_title: null },
    ...{ direction: 'OUTGOING', expiry: null, finished: 0, pollable: 0, external_system_reference: null },
    ...{ created_at: now, last_update: now },
  })
}

/** Polls until `done` holds, for at most 30 s (a deadline, not a timed assertion). */
async function until(done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('deliveries did not finish within 30 s')
    await new Promise((r) => setTimeout(r, 20))
  }
}
