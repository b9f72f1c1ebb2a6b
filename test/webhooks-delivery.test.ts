import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { Config } from '../src/config/types.js'
import {
  conversationsByMessageId,
  insertConversation,
  registerStatus,
} from '../src/conversations/repository.js'
import { createJobRunner, type JobRunner } from '../src/jobs/runner.js'
import { WEBHOOK_JOB } from '../src/webhooks/deliveries.js'
import { webhookJobHandler } from '../src/webhooks/handler.js'
import { verifySignature } from '../src/webhooks/signing.js'
import { STORES, type StoreKind, warnIfPostgresSkipped } from './support/db.js'
import { arkivmeldingSbd, jsonBody, startTestIp, type TestIp } from './support/ip.js'
import { capturingLogger } from './support/logging.js'
import { type Subscriber, startSubscriber } from './support/subscriber.js'

warnIfPostgresSkipped()

type Json = any
const quiet = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
const HOUR = 3_600_000

/** A test integration point, a subscriber and the webhook worker, on the test's clock. */
interface World {
  ip: TestIp
  sub: Subscriber
  runner: JobRunner
  subscribe(path: string, over?: Record<string, unknown>): Promise<number>
  outgoing(receiver?: string): Promise<string>
  incoming(): Promise<string>
  register(messageId: string, ...statuses: string[]): Promise<void>
  /** runs every due delivery, then moves the clock on, `rounds` times */
  rounds(n: number, stepMs: number): Promise<void>
  webhookJobs(): Promise<{ state: string }[]>
}

async function startWorld(
  kind: StoreKind,
  webhooks: Partial<Config['webhooks']> = {},
  logger = quiet,
): Promise<World> {
  const sub = await startSubscriber()
  const ip = await startTestIp(kind)
  const runner = createJobRunner({
    db: ip.db,
    clock: ip.clock,
    logger,
    handlers: {
      [WEBHOOK_JOB]: webhookJobHandler({
        db: ip.db,
        clock: ip.clock,
        logger,
        config: { ...ip.config.webhooks, ...webhooks },
      }),
    },
    workerId: 'test-worker',
    concurrency: 4,
    leaseMs: 60_000,
    retry: { baseMs: 1000, maxMs: 8000, maxAttempts: 1000 },
    intervalMs: 10,
  })
  const world: World = {
    ip,
    sub,
    runner,
    async subscribe(path, over = {}) {
      const body = { name: path, pushEndpoint: `${sub.url}${path}`, resource: 'all', event: 'all', ...over }
      const res = await ip.json<Json>('/api/subscriptions', jsonBody(body))
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      return res.body.id
    },
    async outgoing(receiver = '910075918') {
      const res = await ip.json<Json>('/api/messages/out', jsonBody(arkivmeldingSbd({ receiver })))
      expect(res.status).toBe(200)
      ip.clock.advance(1000)
      return res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
    },
    async incoming() {
      const messageId = crypto.randomUUID()
      const now = ip.clock.now().getTime()
      await insertConversation(ip.db.kysely, {
        ...{ conversation_id: crypto.randomUUID(), message_id: messageId, service_identifier: 'DPO' },
        ...{
          sender: '0192:910075918',
          sender_identifier: '910075918',
          receiver: null,
          receiver_identifier: null,
        },
        ...{
          process_identifier: null,
          document_identifier: null,
          message_reference: null,
          message_title: null,
        },
        ...{ direction: 'INCOMING', expiry: null, finished: 0, pollable: 0, external_system_reference: null },
        ...{ created_at: now, last_update: now },
      })
      await world.register(messageId, 'OPPRETTET')
      return messageId
    },
    async register(messageId, ...statuses) {
      for (const status of statuses) {
        const [c] = await conversationsByMessageId(ip.db.kysely, messageId)
        const now = ip.clock.now().getTime()
        const description = status === 'LEVERT' ? 'Levert' : null
        await ip.db.kysely
          .transaction()
          .execute((trx) => registerStatus(trx, c!, { status, description }, now))
        ip.clock.advance(1000)
      }
    },
    async rounds(n, stepMs) {
      for (let i = 0; i < n; i++) {
        await runner.drain()
        ip.clock.advance(stepMs)
      }
      await runner.drain()
    },
    webhookJobs: () =>
      ip.db.kysely.selectFrom('jobs').select('state').where('kind', '=', WEBHOOK_JOB).orderBy('id').execute(),
  }
  return world
}

const statusesOf = (received: { json: Json }[], messageId?: string) =>
  received.filter((r) => !messageId || r.json.messageId === messageId).map((r) => r.json.status)

describe.each(STORES)('webhook deliveries on %s', (kind: StoreKind) => {
  let w: World | undefined
  afterEach(async () => {
    await w?.ip.close()
    await w?.sub.close()
    w = undefined
  })

  it('pushes every status of outgoing and incoming messages to the subscriptions that take it', async () => {
    w = await startWorld(kind)
    await w.subscribe('/all')
    await w.subscribe('/in', { resource: 'messages', event: 'status', filter: 'direction=INCOMING' })
    await w.subscribe('/done', { filter: 'status=levert,INNKOMMENDE_LEVERT&serviceIdentifier=DPO' })
    const out = await w.outgoing()
    await w.register(out, 'SENDT', 'LEVERT')
    const dpv = await w.outgoing('910075942')
    await w.register(dpv, 'LEVERT')
    const inc = await w.incoming()
    await w.register(inc, 'INNKOMMENDE_MOTTATT', 'INNKOMMENDE_LEVERT')
    await w.runner.drain()

    const all = w.sub.delivered('/all')
    expect(statusesOf(all, out)).toEqual(['OPPRETTET', 'SENDT', 'LEVERT'])
    expect(statusesOf(all, dpv)).toEqual(['OPPRETTET', 'LEVERT'])
    expect(statusesOf(all, inc)).toEqual(['OPPRETTET', 'INNKOMMENDE_MOTTATT', 'INNKOMMENDE_LEVERT'])
    expect(statusesOf(w.sub.delivered('/in'))).toEqual([
      'OPPRETTET',
      'INNKOMMENDE_MOTTATT',
      'INNKOMMENDE_LEVERT',
    ])
    expect(w.sub.delivered('/done').map((r) => [r.json.messageId, r.json.status])).toEqual([
      [out, 'LEVERT'],
      [inc, 'INNKOMMENDE_LEVERT'],
    ])

    // the reference's members, in its order, then our id
    const levert = all.find((r) => r.json.messageId === out && r.json.status === 'LEVERT')!
    const conversation = (await w.ip.json<Json>(`/api/conversations/messageId/${out}`)).body
    expect(Object.keys(levert.json)).toEqual([
      ...['createdTs', 'resource', 'event', 'messageId', 'conversationId', 'direction'],
      ...['serviceIdentifier', 'status', 'description', 'id'],
    ])
    expect(levert.json).toEqual({
      createdTs: conversation.messageStatuses[2].lastUpdate,
      resource: 'messages',
      event: 'status',
      messageId: out,
      conversationId: conversation.conversationId,
      direction: 'OUTGOING',
      serviceIdentifier: 'DPO',
      status: 'LEVERT',
      description: 'Levert',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    })
    expect(levert.headers['content-type']).toBe('application/json')
    expect(all.find((r) => r.json.status === 'SENDT')!.json.description).toBeUndefined()
    // one id per event: the same in every subscription's copy, different between events
    const ids = all.map((r) => r.json.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(w.sub.delivered('/done')[0]!.json.id).toBe(levert.json.id)
    expect(new Set((await w.webhookJobs()).map((j) => j.state))).toEqual(new Set(['DONE']))
  })

  it('retries while the receiver is down or answers an error, keeps the order, and says so on the subscription', async () => {
    w = await startWorld(kind)
    const id = await w.subscribe('/hooks')
    await w.sub.down()
    const m = await w.outgoing()
    await w.register(m, 'SENDT', 'MOTTATT')
    await w.rounds(3, 10_000)
    expect(w.sub.received.filter((r) => r.json.event !== 'ping')).toEqual([])

    const failing = (await w.ip.json<Json>(`/api/subscriptions/${id}`)).body.delivery
    expect(failing).toMatchObject({
      failingSince: expect.any(String),
      lastErrorAt: expect.any(String),
      givenUp: 0,
    })
    expect(failing.lastError).toBe(`${w.sub.url}/hooks: connection refused (ECONNREFUSED)`)

    await w.sub.up()
    let errors = 3
    w.sub.answer = () => (errors-- > 0 ? 503 : 200)
    await w.rounds(6, 10_000)
    expect(statusesOf(w.sub.delivered('/hooks'))).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT'])
    expect(w.sub.received.filter((r) => r.answered === 503)).toHaveLength(3)
    const healthy = (await w.ip.json<Json>(`/api/subscriptions/${id}`)).body.delivery
    expect(healthy.failingSince).toBeUndefined()
    expect(healthy.lastDeliveredAt).toEqual(expect.any(String))

    // a status that comes later goes straight out
    await w.register(m, 'LEVERT')
    await w.runner.drain()
    expect(statusesOf(w.sub.delivered('/hooks'))).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
  })

  it('logs a failing subscription once per interval with a count, not a warning per attempt', async () => {
    const { logger, lines } = capturingLogger()
    w = await startWorld(kind, {}, logger)
    await w.subscribe('/hooks')
    await w.sub.down()
    const m = await w.outgoing()
    await w.register(m, 'SENDT', 'MOTTATT')
    // 40 rounds 10 s apart: each due delivery is tried many times over 400 s
    await w.rounds(40, 10_000)
    const warnings = lines().filter((l) => Number(l.level) >= 40)
    const attempts = (
      await w.ip.db.kysely.selectFrom('jobs').select('attempts').where('kind', '=', WEBHOOK_JOB).execute()
    )
      .map((j) => j.attempts)
      .reduce((a, b) => a + b, 0)
    expect(attempts).toBeGreaterThan(10)
    // the first failure, then one line with the count after the 5-minute interval
    expect(warnings.map((l) => l.msg)).toEqual([
      expect.stringMatching(
        /^webhook subscription \d+ "\/hooks" is failing; trying again: connection refused/,
      ),
      expect.stringMatching(
        /^webhook subscription \d+ "\/hooks" is failing \(\d+ failed attempts in the last 5 min\)/,
      ),
    ])
    expect(warnings[1]!.failedAttempts).toBeGreaterThan(1)
    // and the operator's overview shows it
    const page = await (await w.ip.fetch('/')).text()
    const section = page.slice(page.indexOf('id="webhooks"'))
    expect(section).toContain('Webhook subscriptions failing')
    expect(section).toContain(`${w.sub.url}/hooks`)
    expect(section).toContain('connection refused')
  })

  it('gives an event up after difi.move.webhooks.maximum-retry-hours and lets the next one go', async () => {
    w = await startWorld(kind)
    const id = await w.subscribe('/hooks')
    w.sub.answer = (r) => (r.json?.status === 'SENDT' ? 500 : 200)
    const m = await w.outgoing()
    await w.register(m, 'SENDT', 'LEVERT')
    await w.rounds(23, HOUR)
    expect(statusesOf(w.sub.delivered('/hooks'))).toEqual(['OPPRETTET'])
    expect((await w.ip.json<Json>(`/api/subscriptions/${id}`)).body.delivery.givenUp).toBe(0)
    await w.rounds(2, HOUR)
    expect(statusesOf(w.sub.delivered('/hooks'))).toEqual(['OPPRETTET', 'LEVERT'])
    const delivery = (await w.ip.json<Json>(`/api/subscriptions/${id}`)).body.delivery
    expect(delivery).toMatchObject({ givenUp: 1, lastError: `${w.sub.url}/hooks: HTTP 500` })
    expect((await w.webhookJobs()).map((j) => j.state)).toEqual(['DONE', 'FAILED', 'DONE'])
  })

  it('signs every delivery with the subscription secret', async () => {
    w = await startWorld(kind)
    await w.subscribe('/signed', { secret: 'fagsystemets-hemmelighet' })
    await w.subscribe('/plain')
    const m = await w.outgoing()
    await w.register(m, 'SENDT')
    await w.runner.drain()
    const signed = w.sub.delivered('/signed')
    expect(signed).toHaveLength(2)
    for (const r of signed) {
      const header = r.headers['x-integrasjonspunkt-signature'] as string
      expect(verifySignature(r.body, 'fagsystemets-hemmelighet', header)).toBe(true)
      expect(verifySignature(r.body, 'en-annen-hemmelighet', header)).toBe(false)
    }
    expect(w.sub.delivered('/plain').map((r) => r.headers['x-integrasjonspunkt-signature'])).toEqual([
      undefined,
      undefined,
    ])
  })

  it('drops the pending deliveries of a deleted subscription', async () => {
    w = await startWorld(kind)
    const id = await w.subscribe('/hooks')
    await w.sub.down()
    const m = await w.outgoing()
    await w.register(m, 'SENDT')
    await w.runner.drain()
    expect((await w.webhookJobs()).length).toBe(2)
    expect((await w.ip.fetch(`/api/subscriptions/${id}`, { method: 'DELETE' })).status).toBe(200)
    expect(await w.webhookJobs()).toEqual([])
    await w.sub.up()
    await w.rounds(2, 10_000)
    expect(w.sub.delivered('/hooks')).toEqual([])
  })

  it('gives up at once a push endpoint outside difi.move.webhooks.allowed-hosts', async () => {
    w = await startWorld(kind, { allowedHosts: ['fagsystem.example.no'] })
    const id = await w.subscribe('/hooks')
    await w.outgoing()
    await w.runner.drain()
    expect(w.sub.delivered('/hooks')).toEqual([])
    const delivery = (await w.ip.json<Json>(`/api/subscriptions/${id}`)).body.delivery
    expect(delivery.givenUp).toBe(1)
    expect(delivery.lastError).toMatch(/not in difi\.move\.webhooks\.allowed-hosts/)
  })
})
