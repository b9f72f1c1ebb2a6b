import { createServer } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type FakeRegistry, srError, startFakeRegistry } from '../../test/support/fake-registry.js'
import { ManualClock } from '../util/time.js'
import { createServiceRegistryClient, type ServiceRegistryClientOptions } from './client.js'
import {
  NotFoundInServiceRegistryError,
  ServiceRegistryLookupError,
  ServiceRegistryUnavailableError,
} from './errors.js'

const ADMIN = 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0'

let fake: FakeRegistry
let clock: ManualClock
const clients: { close(): Promise<void> }[] = []

beforeEach(async () => {
  fake = await startFakeRegistry()
  clock = new ManualClock()
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await fake.close()
})

function client(overrides: Partial<ServiceRegistryClientOptions> = {}) {
  const c = createServiceRegistryClient({
    endpoint: fake.url,
    signEnable: false,
    jwkUrl: fake.jwkUrl,
    timeoutMs: 2000,
    cacheTtlSeconds: 300,
    printLookup: true,
    betaFeatures: false,
    clock,
    ...overrides,
  })
  clients.push(c)
  return c
}

const lookups = () => fake.requests.filter((r) => r.url !== '/jwk')
const jwkFetches = () => fake.requests.filter((r) => r.url === '/jwk').length

describe('ServiceRegistry client: signed answers', () => {
  it('asks for application/jose and verifies the JWS against /jwk', async () => {
    fake.useAllFixtures()
    const sr = client({ signEnable: true })
    const resource = await sr.lookup({ identifier: '910076787' })
    expect(lookups()[0]!.headers.accept).toBe('application/jose, application/json')
    expect(resource.serviceRecords.map((r) => r.service.endpointUrl)).toEqual([
      'innsyn',
      'data',
      'meeting',
      'innsyn',
    ])
    expect(jwkFetches()).toBe(1)
  })

  it('rejects a tampered answer', async () => {
    fake.useAllFixtures()
    fake.tamper = true
    const failure = client({ signEnable: true }).lookup({ identifier: '910077473' })
    await expect(failure).rejects.toThrow(ServiceRegistryLookupError)
    await expect(failure).rejects.toThrow(/Bad signature in response from service registry .*does not verify/)
  })

  it('rejects an unsigned answer when signing is on', async () => {
    fake.useAllFixtures()
    fake.sign = false
    await expect(client({ signEnable: true }).lookup({ identifier: '910077473' })).rejects.toThrow(
      /not signed/,
    )
  })

  it('keeps the JWK set briefly, and fetches it again once when the key id is unknown (rotation)', async () => {
    fake.useAllFixtures()
    const sr = client({ signEnable: true, cacheTtlSeconds: 0 })
    await sr.lookup({ identifier: '910077473' })
    await sr.lookup({ identifier: '910075918' })
    expect(jwkFetches()).toBe(1)
    await fake.rotateKey()
    await sr.lookup({ identifier: '910076787' })
    expect(jwkFetches()).toBe(2)
    clock.advance(61_000)
    await sr.lookup({ identifier: '910076787' })
    expect(jwkFetches()).toBe(3)
  })

  it('fails when the key id is in no JWK set, after one refetch', async () => {
    fake.useAllFixtures()
    const sr = client({ signEnable: true })
    await sr.lookup({ identifier: '910077473' })
    fake.set('/jwk', 200, { keys: [] })
    await fake.rotateKey()
    await expect(sr.lookup({ identifier: '910075918' })).rejects.toThrow(/no key with kid/)
    expect(jwkFetches()).toBe(2)
  })

  it('reports an unreachable JWK set as unavailable', async () => {
    fake.useAllFixtures()
    fake.set('/jwk', 503, srError('down'))
    await expect(client({ signEnable: true }).lookup({ identifier: '910077473' })).rejects.toThrow(
      ServiceRegistryUnavailableError,
    )
  })
})

describe('ServiceRegistry client: errors', () => {
  it('404 → NotFoundInServiceRegistryError with the reference message and the URL kept', async () => {
    const err = await client()
      .lookup({ identifier: '910000009', process: ADMIN, securityLevel: 3 })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NotFoundInServiceRegistryError)
    expect(err).toBeInstanceOf(ServiceRegistryLookupError)
    const e = err as NotFoundInServiceRegistryError
    expect(e.message).toBe(
      `Service record not found for parameters: SRParameter(identifier=910000009, process=${ADMIN}, ` +
        'securityLevel=3, print=null, infoOnly=false, conversationId=null)',
    )
    expect(e.url).toBe(`${fake.url}/identifier/910000009/process/${ADMIN}?securityLevel=3`)
    expect(e.status).toBe(404)
  })

  it('400 with the SR error body → ServiceRegistryLookupError carrying the error_description', async () => {
    const description = "Organization '910075926' can not receive messages with security level '4'"
    fake.set('/identifier/910075926', 400, srError(description))
    const err = (await client()
      .lookup({ identifier: '910075926', securityLevel: 4 })
      .catch((e: unknown) => e)) as ServiceRegistryLookupError
    expect(err).toBeInstanceOf(ServiceRegistryLookupError)
    expect(err).not.toBeInstanceOf(NotFoundInServiceRegistryError)
    expect(err.message).toBe(
      'Caught exception when looking up service record with parameter SRParameter(identifier=910075926, ' +
        'process=null, securityLevel=4, print=null, infoOnly=false, conversationId=null), ' +
        `http status 400 BAD_REQUEST (Bad Request): ${description} (GET ${fake.url}/identifier/910075926?securityLevel=4)`,
    )
  })

  it('401 without a JSON body → ServiceRegistryLookupError with the status', async () => {
    fake.set('/identifier/910075926', 401, '<html>no</html>')
    await expect(client().lookup({ identifier: '910075926' })).rejects.toThrow(
      /http status: 401 UNAUTHORIZED \(Unauthorized\) \(GET http:\/\/127\.0\.0\.1:\d+\/identifier\/910075926\)$/,
    )
  })

  it('500 → ServiceRegistryUnavailableError', async () => {
    fake.set('/identifier/910075926', 500, srError('SvarUt is down'))
    const err = (await client()
      .lookup({ identifier: '910075926' })
      .catch((e: unknown) => e)) as ServiceRegistryUnavailableError
    expect(err).toBeInstanceOf(ServiceRegistryUnavailableError)
    expect(err.message).toBe(
      `ServiceRegistry is unavailable: GET ${fake.url}/identifier/910075926 answered 500 INTERNAL_SERVER_ERROR ` +
        '(Internal Server Error): SvarUt is down',
    )
  })

  it('garbage answers → ServiceRegistryLookupError, never a crash', async () => {
    const sr = client({ cacheTtlSeconds: 0 })
    const bodies: unknown[] = [
      '<html>oops</html>',
      '',
      'null',
      [],
      { serviceRecords: 'x' },
      { serviceRecords: [7] },
    ]
    for (const body of bodies) {
      fake.set('/identifier/910077473', 200, body)
      const err = await sr.lookup({ identifier: '910077473' }).catch((e: unknown) => e)
      expect(err, JSON.stringify(body)).toBeInstanceOf(ServiceRegistryLookupError)
      expect((err as Error).message).toMatch(
        /^Parsing response as a IdentifierResource JSON object failed \(GET /,
      )
    }
  })

  it('a closed connection → ServiceRegistryUnavailableError', async () => {
    fake.useAllFixtures()
    fake.failNext(1, 'close')
    await expect(client().lookup({ identifier: '910077473' })).rejects.toThrow(
      ServiceRegistryUnavailableError,
    )
  })

  it('connection refused → ServiceRegistryUnavailableError naming the URL', async () => {
    const port = await closedPort()
    const err = (await client({ endpoint: `http://127.0.0.1:${port}` })
      .lookup({ identifier: '910077473' })
      .catch((e: unknown) => e)) as ServiceRegistryUnavailableError
    expect(err).toBeInstanceOf(ServiceRegistryUnavailableError)
    expect(err.message).toContain(
      `GET http://127.0.0.1:${port}/identifier/910077473 failed: connection refused`,
    )
    expect(err.cause).toBeDefined()
  })

  it('a server that never answers → timeout well within the test timeout', async () => {
    fake.useAllFixtures()
    fake.failNext(1, 'hang')
    const started = Date.now()
    const err = (await client({ timeoutMs: 300 })
      .lookup({ identifier: '910077473' })
      .catch((e: unknown) => e)) as ServiceRegistryUnavailableError
    expect(err).toBeInstanceOf(ServiceRegistryUnavailableError)
    expect(err.message).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/identifier\/910077473 (timed out after 300 ms|failed: no answer)/,
    )
    expect(Date.now() - started).toBeLessThan(3000)
  })
})

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
