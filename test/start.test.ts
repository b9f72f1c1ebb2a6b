import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { Agent, request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { enqueue } from '../src/jobs/outbox.js'
import { type RunningIntegrationPoint, StartupError, startIntegrationPoint } from '../src/main.js'
import { createTestStore, type TestStore } from './support/db.js'
import { type FakeRegistry, startFakeRegistry } from './support/fake-registry.js'
import { eventually } from './support/poll.js'

/** `startIntegrationPoint` as `integrasjonspunkt start` runs it: TLS from a PKCS#12 file, auth, stop. */
describe('starting an integration point', () => {
  let store: TestStore
  let registry: FakeRegistry
  let ip: RunningIntegrationPoint | undefined
  afterEach(async () => {
    await ip?.stop()
    await registry?.close()
    await store?.cleanup()
  })

  it('serves the API over TLS with the PKCS#12 key store, and stops in order', async () => {
    store = await createTestStore('sqlite')
    registry = await startFakeRegistry()
    registry.useAllFixtures()
    const key = join(store.dir, 'tls.key')
    const cert = join(store.dir, 'tls.crt')
    const p12 = join(store.dir, 'tls.p12')
    execFileSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ])
    execFileSync('openssl', [
      'pkcs12',
      '-export',
      '-inkey',
      key,
      '-in',
      cert,
      '-out',
      p12,
      '-passout',
      'pass:changeit',
      '-name',
      'ip',
    ])
    const config = loadConfig({
      cwd: store.dir,
      env: {},
      overrides: {
        'difi.move.org.number': '910077473',
        'difi.move.serviceregistryEndpoint': registry.url,
        'difi.datasource.url': store.url,
        'difi.security.user.password': 'hemmelig',
        'difi.ssl.key-store': p12,
        'difi.ssl.key-store-password': 'changeit',
        'server.port': '0',
        'server.address': '127.0.0.1',
      },
    })
    expect(config.ssl.enabled).toBe(true)
    ip = await startIntegrationPoint({ config, cwd: store.dir, logger: pino({ level: 'silent' }) })
    expect(ip.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } })
    const anonymous = await request(`${ip.url}/api/conversations`, { dispatcher })
    expect(anonymous.statusCode).toBe(401)
    await anonymous.body.dump()
    const authorised = await request(`${ip.url}/api/capabilities/910077473`, {
      dispatcher,
      headers: { authorization: `Basic ${Buffer.from('user:hemmelig').toString('base64')}` },
    })
    expect(authorised.statusCode).toBe(200)
    expect(
      ((await authorised.body.json()) as { capabilities: unknown[] }).capabilities.length,
    ).toBeGreaterThan(0)
    await ip.stop()
    await ip.stop()
    await expect(request(`${ip.url}/api/conversations`, { dispatcher })).rejects.toThrow()
    ip = undefined
    await dispatcher.close()
  })
})

describe('starting with DPO enabled', () => {
  let store: TestStore | undefined
  afterEach(async () => {
    await store?.cleanup()
  })

  const cases: [string, (dir: string) => Record<string, string>, RegExp][] = [
    [
      'no key store',
      () => ({}),
      /DPO is enabled but the business certificate cannot be used: difi\.move\.org\.keystore\.path is empty/,
    ],
    [
      'a wrong password',
      (dir) => {
        const p12 = join(dir, 'org.p12')
        execFileSync('openssl', [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          join(dir, 'k'),
          '-out',
          join(dir, 'c'),
          '-days',
          '1',
          '-subj',
          '/CN=org',
        ])
        execFileSync('openssl', [
          'pkcs12',
          '-export',
          '-inkey',
          join(dir, 'k'),
          '-in',
          join(dir, 'c'),
          '-out',
          p12,
          '-passout',
          'pass:right',
        ])
        return { 'difi.move.org.keystore.path': p12, 'difi.move.org.keystore.password': 'wrong' }
      },
      /wrong password \(difi\.move\.org\.keystore\.password\)/,
    ],
  ]

  it.each(cases)('refuses to start with %s, saying what to fix', async (_name, props, message) => {
    store = await createTestStore('sqlite')
    const config = loadConfig({
      cwd: store.dir,
      env: {},
      overrides: {
        'difi.move.org.number': '910077473',
        'difi.datasource.url': store.url,
        'difi.security.enable': 'false',
        'difi.ssl.enabled': 'false',
        'difi.move.feature.enableDPO': 'true',
        'server.port': '0',
        ...props(store.dir),
      },
    })
    const start = startIntegrationPoint({ config, cwd: store.dir, logger: pino({ level: 'silent' }) })
    await expect(start).rejects.toThrow(StartupError)
    await expect(start).rejects.toThrow(message)
  })
})

describe('starting with the services and peers it has', () => {
  let store: TestStore | undefined
  const running: RunningIntegrationPoint[] = []
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()))
    await store?.cleanup()
  })

  const configFor = (dir: string, url: string, props: Record<string, string>, env = {}) =>
    loadConfig({
      cwd: dir,
      env,
      overrides: {
        'difi.move.org.number': '910077473',
        'difi.datasource.url': url,
        'difi.security.enable': 'false',
        'difi.ssl.enabled': 'false',
        'server.port': '0',
        'server.address': '127.0.0.1',
        ...props,
      },
    })

  it("stops on an operator's enableX for a service without a channel, before opening anything", async () => {
    store = await createTestStore('sqlite')
    const config = configFor(store.dir, store.url, { 'difi.move.feature.enableDPH': 'true' })
    const start = startIntegrationPoint({ config, cwd: store.dir, logger: pino({ level: 'silent' }) })
    await expect(start).rejects.toThrow(StartupError)
    await expect(start).rejects.toThrow(
      /difi\.move\.feature\.enableDPH=true, but this integration point has no channel for DPH yet: set difi\.move\.feature\.enableDPH=false/,
    )
    expect(existsSync(join(store.dir, 'ip.sqlite'))).toBe(false)
  })

  it('refuses to start beside an instance that keeps payloads elsewhere on the same database', async () => {
    store = await createTestStore('sqlite')
    const logger = pino({ level: 'silent' })
    const inDb = configFor(store.dir, store.url, { 'difi.move.nextmove.use-db-persistence': 'true' })
    running.push(await startIntegrationPoint({ config: inDb, cwd: store.dir, logger }))
    const inFiles = configFor(store.dir, store.url, { 'difi.move.nextmove.use-db-persistence': 'false' })
    const start = startIntegrationPoint({ config: inFiles, cwd: store.dir, logger })
    await expect(start).rejects.toThrow(StartupError)
    await expect(start).rejects.toThrow(
      /keeps payloads in the database and this one in files: .*use-db-persistence alike on every instance/,
    )
    // one that agrees joins; the refused one left no trace among the instances
    running.push(await startIntegrationPoint({ config: inDb, cwd: store.dir, logger }))
    const rows = await running[0]!.db.kysely.selectFrom('instances').select('payload_store').execute()
    expect(rows.map((r) => r.payload_store)).toEqual(['database', 'database'])
  })

  it('warns, naming the setting, when it keeps payloads in files beside another instance', async () => {
    store = await createTestStore('sqlite')
    const files = configFor(store.dir, store.url, { 'difi.move.nextmove.use-db-persistence': 'false' })
    running.push(
      await startIntegrationPoint({ config: files, cwd: store.dir, logger: pino({ level: 'silent' }) }),
    )
    const lines: string[] = []
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) })
    running.push(await startIntegrationPoint({ config: files, cwd: store.dir, logger }))
    const warning = lines
      .map((l) => JSON.parse(l))
      .find((l) => l.setting === 'difi.move.nextmove.use-db-persistence')
    expect(warning?.msg).toMatch(/^2 integration points run on this database with payloads in files/)
    expect(warning?.instances).toBe(2)
  })

  it("leaves another service's send jobs to the instances that have it", async () => {
    store = await createTestStore('sqlite')
    const config = configFor(store.dir, store.url, { 'difi.move.nextmove.retry.initial-interval-ms': '100' })
    const ip = await startIntegrationPoint({ config, cwd: store.dir, logger: pino({ level: 'silent' }) })
    running.push(ip)
    const now = Date.now()
    // a DPO message's send job, made by an instance with DPO on this database
    await enqueue(
      ip.db.kysely,
      {
        kind: 'send:DPO',
        payload: { messageId: 'm-1' },
        messageId: 'm-1',
        dedupeKey: 'send:m-1',
        runAt: now,
      },
      now,
    )
    await enqueue(ip.db.kysely, { kind: 'webhook', payload: {}, messageId: null, runAt: now }, now)
    // this instance (DPO off) runs its own kinds but never claims the DPO job
    await eventually(async () => {
      const done = await ip.db.kysely
        .selectFrom('jobs')
        .select('id')
        .where('kind', '=', 'webhook')
        .where('attempts', '>', 0)
        .execute()
      return done.length > 0 ? true : undefined
    }, 'the webhook job claimed')
    const job = await ip.db.kysely
      .selectFrom('jobs')
      .selectAll()
      .where('kind', '=', 'send:DPO')
      .executeTakeFirstOrThrow()
    expect([job.state, job.attempts, job.locked_by]).toEqual(['PENDING', 0, null])
  })
})
