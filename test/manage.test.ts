import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../src/http/app.js'
import { enqueue } from '../src/jobs/outbox.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { jsonBody, OWN_ORG, startTestIp, type TestIp } from './support/ip.js'
import { ORG_B, sendArkivmelding, startBehindProxy, startWorld, type World } from './support/ops-world.js'
import { eventually } from './support/poll.js'
import { parsePrometheus, type Scrape } from './support/prometheus.js'
import { startSubscriber } from './support/subscriber.js'

warnIfPostgresSkipped()

type Json = Record<string, any>
const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version

async function get(url: string): Promise<{ status: number; body: Json; type: string | null }> {
  const res = await fetch(url)
  const text = await res.text()
  return {
    status: res.status,
    body: text ? JSON.parse(text) : undefined,
    type: res.headers.get('content-type'),
  }
}

async function scrape(base: string): Promise<Scrape> {
  const res = await fetch(`${base}/manage/prometheus`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parsePrometheus(await res.text())
}

describe.each(STORES)('/manage on %s', (kind) => {
  let ip: TestIp | undefined
  afterEach(async () => {
    await ip?.close()
    ip = undefined
  })

  it('answers health, info and metrics without credentials while the API asks for them', async () => {
    ip = await startTestIp(kind, {
      overrides: {
        'difi.security.enable': 'true',
        'difi.move.feature.enableDPO': 'false',
        'difi.move.feature.enableDPV': 'false',
        'difi.move.feature.enableDPF': 'false',
        'difi.move.feature.enableDPE': 'false',
        'difi.move.feature.enableDPI': 'false',
      },
    })
    expect((await fetch(`${ip.url}/api/conversations`)).status).toBe(401)
    // a path no route serves is behind the password too: no spelling of a path falls between the two
    expect((await fetch(`${ip.url}/no/such/${'x'.repeat(10)}`)).status).toBe(401)

    const health = await get(`${ip.url}/manage/health`)
    expect(health.status).toBe(200)
    expect(health.type).toBe('application/json')
    expect(health.body.status).toBe('UP')
    expect(Object.keys(health.body.components)).toEqual([
      'db',
      'diskSpace',
      'jobs',
      'livenessState',
      'readinessState',
      'serviceRegistry',
    ])
    expect(health.body.components.db).toEqual({
      status: 'UP',
      details: { database: kind === 'sqlite' ? 'SQLite' : 'PostgreSQL', validationQuery: 'select 1' },
    })
    const disk = health.body.components.diskSpace.details
    expect(disk).toMatchObject({ threshold: 10 * 1024 * 1024, path: ip.config.nextmove.filedir })
    expect(disk.free).toBeGreaterThan(0)
    expect(disk.total).toBeGreaterThanOrEqual(disk.free)
    expect(health.body.components.serviceRegistry).toMatchObject({
      status: 'UP',
      details: { url: ip.registry.jwkUrl, httpStatus: 200 },
    })
    for (const probe of ['liveness', 'readiness']) {
      const r = await get(`${ip.url}/manage/health/${probe}`)
      expect([r.status, r.body.status], probe).toEqual([200, 'UP'])
    }
    expect((await get(`${ip.url}/manage/health/db`)).body.status).toBe('UP')
    expect((await get(`${ip.url}/manage/health/nothing`)).status).toBe(404)

    const info = await get(`${ip.url}/manage/info`)
    expect(info.status).toBe(200)
    expect(info.body.build).toMatchObject({ name: 'integrasjonspunkt', version: VERSION })
    expect(info.body.app).toMatchObject({ organizationNumber: OWN_ORG })
    const before = info.body.uptime.seconds
    ip.clock.advance(90_000)
    expect((await get(`${ip.url}/manage/info`)).body.uptime.seconds).toBe(before + 90)

    const metrics = await scrape(ip.url)
    expect(metrics.value('eformidling_build_info', { version: VERSION })).toBe(1)
    expect(metrics.value('process_cpu_user_seconds_total')).toBeGreaterThan(0)
    expect(metrics.value('eformidling_database_up')).toBe(1)
    // the route's pattern, not the URL
    const refused = { method: 'GET', route: '/api/conversations', status: '401' }
    expect(metrics.value('eformidling_http_request_duration_seconds_count', refused)).toBe(1)
    expect(metrics.types.get('eformidling_http_request_duration_seconds')).toBe('histogram')
    const unmatched = { method: 'GET', route: 'UNMATCHED', status: '401' }
    expect(metrics.value('eformidling_http_request_duration_seconds_count', unmatched)).toBe(1)
  })

  it('answers the probes while draining: not ready, still alive; the API answers 503', async () => {
    ip = await startTestIp(kind, {
      overrides: {
        'difi.move.feature.enableDPO': 'false',
        'difi.move.feature.enableDPV': 'false',
        'difi.move.feature.enableDPF': 'false',
        'difi.move.feature.enableDPE': 'false',
        'difi.move.feature.enableDPI': 'false',
      },
    })
    const app = await buildApp(ip.deps)
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' })
      expect((await get(`${base}/manage/health/readiness`)).status).toBe(200)
      app.draining()
      const readiness = await get(`${base}/manage/health/readiness`)
      expect(readiness).toMatchObject({ status: 503, body: { status: 'DOWN' } })
      expect(readiness.body.components.readinessState).toEqual({
        status: 'DOWN',
        details: { state: 'draining' },
      })
      expect(readiness.body.components.db.status).toBe('UP')
      expect((await get(`${base}/manage/health/liveness`)).status).toBe(200)
      expect((await get(`${base}/manage/health`)).status).toBe(503)
      const api = await get(`${base}/api/conversations`)
      expect([api.status, api.body.message]).toEqual([503, 'The integration point is shutting down'])
    } finally {
      await app.close()
    }
  })

  it('says DOWN with 503 while a job waits too long for a worker, and counts the queue', async () => {
    ip = await startTestIp(kind, {
      overrides: {
        'difi.move.feature.enableDPO': 'false',
        'difi.move.feature.enableDPV': 'false',
        'difi.move.feature.enableDPF': 'false',
        'difi.move.feature.enableDPE': 'false',
        'difi.move.feature.enableDPI': 'false',
      },
    })
    const now = ip.clock.now().getTime()
    // no job runner here: a due job waits until the test removes it
    await enqueue(
      ip.db.kysely,
      { kind: 'send', payload: {}, messageId: 'm-1', runAt: now - 20 * 60_000 },
      now,
    )
    await enqueue(ip.db.kysely, { kind: 'send', payload: {}, messageId: 'm-2', runAt: now + 60_000 }, now)

    const health = await get(`${ip.url}/manage/health`)
    expect(health.status).toBe(503)
    expect(health.body.status).toBe('DOWN')
    expect(health.body.components.jobs).toEqual({
      status: 'DOWN',
      details: { waiting: 1, oldestWaitingSeconds: 1200, maxWaitSeconds: 900 },
    })
    // readiness does not hang on the queue: a load balancer keeps sending requests
    expect((await get(`${ip.url}/manage/health/readiness`)).status).toBe(200)
    const metrics = await scrape(ip.url)
    expect(metrics.value('eformidling_jobs_queued', { kind: 'send' })).toBe(2)
    expect(metrics.value('eformidling_jobs_due', { kind: 'send' })).toBe(1)
    expect(metrics.value('eformidling_jobs_oldest_due_age_seconds', { kind: 'send' })).toBe(1200)

    await ip.db.kysely.deleteFrom('jobs').execute()
    expect((await get(`${ip.url}/manage/health`)).status).toBe(200)
    const after = await scrape(ip.url)
    expect(after.value('eformidling_jobs_queued', { kind: 'send' })).toBe(0)
    expect(after.value('eformidling_jobs_oldest_due_age_seconds', { kind: 'send' })).toBe(0)
  })

  it('goes DOWN with 503 when the database goes away and UP when it is back', async () => {
    ip = await startTestIp(kind, {
      overrides: {
        'difi.move.feature.enableDPO': 'false',
        'difi.move.feature.enableDPV': 'false',
        'difi.move.feature.enableDPF': 'false',
        'difi.move.feature.enableDPE': 'false',
        'difi.move.feature.enableDPI': 'false',
      },
    })
    expect((await get(`${ip.url}/manage/health`)).status).toBe(200)

    await ip.db.close()
    const health = await get(`${ip.url}/manage/health`)
    expect(health.status).toBe(503)
    expect(health.body.status).toBe('DOWN')
    expect(health.body.components.db.status).toBe('DOWN')
    expect(health.body.components.db.details.error).toBeTruthy()
    expect(health.body.components.diskSpace.status).toBe('UP')
    const readiness = await get(`${ip.url}/manage/health/readiness`)
    expect([readiness.status, readiness.body.components.db.status]).toEqual([503, 'DOWN'])
    // the process itself is fine: restarting it would not bring the database back
    expect((await get(`${ip.url}/manage/health/liveness`)).status).toBe(200)
    const metrics = await scrape(ip.url)
    expect(metrics.value('eformidling_database_up')).toBe(0)
    expect(metrics.value('eformidling_jobs_queued', { kind: 'send' })).toBeUndefined()

    // the database is back: the app's Db now reaches a fresh connection to the same store
    const back = await ip.store.open()
    Object.assign(ip.db, { kysely: back.kysely, close: back.close })
    const again = await get(`${ip.url}/manage/health`)
    expect([again.status, again.body.status]).toEqual([200, 'UP'])
    expect((await scrape(ip.url)).value('eformidling_database_up')).toBe(1)
  })

  it.runIf(kind === 'postgres')(
    'follows PostgreSQL going away and coming back on the same address',
    async () => {
      const point = await startBehindProxy()
      try {
        const base = point.ip.url
        expect((await get(`${base}/manage/health`)).status).toBe(200)
        await point.proxy.stop()
        const down = await get(`${base}/manage/health`)
        expect([down.status, down.body.components.db.status]).toEqual([503, 'DOWN'])
        expect((await get(`${base}/manage/health/readiness`)).status).toBe(503)
        await point.proxy.start()
        const up = await get(`${base}/manage/health`)
        expect([up.status, up.body.status]).toEqual([200, 'UP'])
      } finally {
        await point.close()
      }
    },
  )
})

describe.each(STORES)('/manage of two integration points exchanging over DPO on %s', (kind) => {
  let world: World | undefined
  afterEach(async () => {
    await world?.stop()
    world = undefined
  })

  it('goes DOWN when the broker stops and UP when it is back on the same port', async () => {
    world = await startWorld(kind)
    const { a } = world
    const health = await get(`${a.url}/manage/health`)
    expect([health.status, health.body.status]).toEqual([200, 'UP'])
    expect(health.body.components.dpo).toMatchObject({ status: 'UP', details: { url: world.brokerApi } })

    await world.stopBroker()
    const down = await get(`${a.url}/manage/health`)
    expect([down.status, down.body.status]).toEqual([503, 'DOWN'])
    expect(down.body.components.dpo.status).toBe('DOWN')
    expect(down.body.components.dpo.details.error).toMatch(/ECONNREFUSED/)
    expect(down.body.components.db.status).toBe('UP')
    // not ready-relevant: the API still takes messages, they wait in the outbox
    expect((await get(`${a.url}/manage/health/readiness`)).status).toBe(200)

    await world.startBroker()
    const up = await get(`${a.url}/manage/health`)
    expect([up.status, up.body.status]).toEqual([200, 'UP'])
  })

  it('moves the business metrics with an exchange, in a scrape Prometheus can read', async () => {
    world = await startWorld(kind)
    const { a, b } = world
    const sub = await startSubscriber()
    world.onStop(() => sub.close())
    // the ping at creation gets through; the events then fail
    sub.answer = (r) => (r.path === '/broken' && r.json?.event !== 'ping' ? 500 : 200)
    for (const path of ['/ok', '/broken']) {
      const body = { name: path, pushEndpoint: `${sub.url}${path}`, resource: 'all', event: 'all' }
      expect((await fetch(`${b.url}/api/subscriptions`, jsonBody(body))).status).toBe(200)
    }
    const sendOk = { service: 'DPO', outcome: 'ok' }
    const [a0, b0] = [await scrape(a.url), await scrape(b.url)]
    expect(a0.value('eformidling_send_duration_seconds_count', sendOk)).toBeUndefined()
    expect(b0.value('eformidling_receive_duration_seconds_count', sendOk)).toBeUndefined()

    const messageId = await sendArkivmelding(a, ORG_B)
    // B has it waiting for its fagsystem (the receive is timed once the broker has the confirm)
    const b1 = await eventually(async () => {
      const m = await scrape(b.url)
      return m.value('eformidling_receive_duration_seconds_count', sendOk) === 1 ? m : undefined
    }, 'the message received at B')
    expect(b1.value('eformidling_incoming_messages', { service: 'DPO', state: 'waiting' })).toBe(1)
    expect(b1.value('eformidling_incoming_messages', { service: 'DPO', state: 'locked' })).toBe(0)
    const incoming = { service: 'DPO', direction: 'INCOMING' }
    expect(
      b1.value('eformidling_message_statuses_recent', { ...incoming, status: 'INNKOMMENDE_MOTTATT' }),
    ).toBe(1)

    // A sent it: the send job, its duration, the status and the request are counted
    const a1 = await eventually(async () => {
      const m = await scrape(a.url)
      // the job's end is recorded last, after the status
      return m.value('eformidling_job_runs_total', { kind: 'send:DPO', outcome: 'ok' }) === 1 ? m : undefined
    }, 'the send at A')
    expect(a1.value('eformidling_send_duration_seconds_count', sendOk)).toBe(1)
    expect(a1.value('eformidling_job_duration_seconds_count', { kind: 'send:DPO', outcome: 'ok' })).toBe(1)
    const outgoing = { service: 'DPO', direction: 'OUTGOING' }
    expect(a1.value('eformidling_message_statuses_recent', { ...outgoing, status: 'SENDT' })).toBe(1)
    const posted = { method: 'POST', route: '/api/messages/out/multipart', status: '200' }
    expect(a1.value('eformidling_http_request_duration_seconds_count', posted)).toBe(1)
    const lookups = ['hit', 'miss'].map((result) =>
      a1.value('eformidling_service_registry_cache_lookups_total', { result }),
    )
    expect((lookups[0] ?? 0) + (lookups[1] ?? 0)).toBeGreaterThan(0)

    // B's fagsystem locks it, then takes it away
    expect((await fetch(`${b.url}/api/messages/in/peek`)).status).toBe(200)
    const b2 = await scrape(b.url)
    expect(b2.value('eformidling_incoming_messages', { service: 'DPO', state: 'waiting' })).toBe(0)
    expect(b2.value('eformidling_incoming_messages', { service: 'DPO', state: 'locked' })).toBe(1)
    expect((await fetch(`${b.url}/api/messages/in/${messageId}`, { method: 'DELETE' })).status).toBe(200)
    const b3 = await scrape(b.url)
    expect(b3.value('eformidling_incoming_messages', { service: 'DPO', state: 'locked' })).toBe(0)

    // B's webhooks: one subscriber takes the events, the other fails them
    const b4 = await eventually(async () => {
      const m = await scrape(b.url)
      const ok = m.value('eformidling_webhook_deliveries_total') ?? 0
      const failed = m.value('eformidling_webhook_delivery_failures_total') ?? 0
      return ok > 0 && failed > 0 ? m : undefined
    }, 'webhook deliveries at B')
    expect(b4.value('eformidling_webhook_subscriptions_failing')).toBe(1)
    expect(b4.value('eformidling_webhook_deliveries_given_up_total')).toBe(0)
  })
})
