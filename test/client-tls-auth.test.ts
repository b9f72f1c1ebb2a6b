import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IntegrasjonspunktClient, NetworkError, UnauthorizedError } from '../packages/client/src/index.js'
import { loadConfig } from '../src/config/load.js'
import { type RunningIntegrationPoint, startIntegrationPoint } from '../src/main.js'
import { createTestStore, type TestStore } from './support/db.js'
import { type FakeRegistry, startFakeRegistry } from './support/fake-registry.js'

/** An integration point as the reference ships it: TLS and basic auth on. */
describe('the client library over TLS with basic auth', () => {
  let store: TestStore
  let registry: FakeRegistry
  let ip: RunningIntegrationPoint
  let ca: Buffer

  beforeAll(async () => {
    store = await createTestStore('sqlite')
    registry = await startFakeRegistry()
    registry.useAllFixtures()
    const [key, cert, p12] = ['tls.key', 'tls.crt', 'tls.p12'].map((f) => join(store.dir, f)) as [
      string,
      string,
      string,
    ]
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1'],
        ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      ],
      { stdio: 'ignore' },
    )
    execFileSync(
      'openssl',
      [
        ...['pkcs12', '-export', '-inkey', key, '-in', cert, '-out', p12],
        ...['-passout', 'pass:changeit', '-name', 'ip'],
      ],
      { stdio: 'ignore' },
    )
    ca = readFileSync(cert)
    const config = loadConfig({
      cwd: store.dir,
      env: {},
      overrides: {
        'difi.move.org.number': '910077473',
        'difi.move.serviceregistryEndpoint': registry.url,
        'difi.datasource.url': store.url,
        'difi.security.user.name': 'fagsystem',
        'difi.security.user.password': 'hemmelig',
        'difi.ssl.key-store': p12,
        'difi.ssl.key-store-password': 'changeit',
        'server.port': '0',
        'server.address': '127.0.0.1',
      },
    })
    ip = await startIntegrationPoint({ config, cwd: store.dir, logger: pino({ level: 'silent' }) })
  }, 60_000)

  afterAll(async () => {
    await ip?.stop()
    await registry?.close()
    await store?.cleanup()
  })

  const auth = { username: 'fagsystem', password: 'hemmelig' }

  it('trusts the CA it is given and sends the credentials', async () => {
    const client = new IntegrasjonspunktClient({ url: ip.url, tls: { ca }, ...auth })
    try {
      const caps = await client.capabilities('910075918')
      expect(caps.capabilities.length).toBeGreaterThan(0)
    } finally {
      await client.close()
    }
  })

  it('works with Node.js built-in fetch too', async () => {
    const client = new IntegrasjonspunktClient({ url: ip.url, tls: { ca }, fetch: globalThis.fetch, ...auth })
    try {
      expect((await client.statusList()).totalElements).toBe(0)
    } finally {
      await client.close()
    }
  })

  it('answers 401 as UnauthorizedError, and refuses an unknown certificate at once', async () => {
    const anonymous = new IntegrasjonspunktClient({ url: ip.url, tls: { ca } })
    const denied = await anonymous.statusList().catch((e) => e)
    expect(denied).toBeInstanceOf(UnauthorizedError)
    expect(denied.status).toBe(401)
    await anonymous.close()

    const untrusting = new IntegrasjonspunktClient({ url: ip.url, ...auth, retryDelayMs: 5_000 })
    const started = Date.now()
    const refused = await untrusting.statusList().catch((e) => e)
    expect(refused).toBeInstanceOf(NetworkError)
    expect(refused.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT')
    // a certificate problem is not transient: no retries, no back-off
    expect(Date.now() - started).toBeLessThan(4_000)
  })
})
