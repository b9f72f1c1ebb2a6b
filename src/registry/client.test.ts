import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type FakeRegistry,
  fixtures,
  forProcess,
  startFakeRegistry,
} from '../../test/support/fake-registry.js'
import { ManualClock } from '../util/time.js'
import { createServiceRegistryClient, type ServiceRegistryClientOptions } from './client.js'
import {
  NotFoundInServiceRegistryError,
  ServiceRegistryLookupError,
  ServiceRegistryUnavailableError,
} from './errors.js'

const ADMIN = 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0'
const ARKIVMELDING = 'urn:no:difi:arkivmelding:xsd::arkivmelding'

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

describe('ServiceRegistry client: plain JSON', () => {
  it('calls the reference URL form and returns the parsed records', async () => {
    fake.set(`/identifier/910075918/process/${ADMIN}`, 200, forProcess(fixtures.dpoOrg(), ADMIN))
    const sr = client()
    const resource = await sr.lookup({
      identifier: '910075918',
      process: ADMIN,
      securityLevel: 3,
      conversationId: 'c-1',
    })
    expect(lookups().map((r) => r.url)).toEqual([
      `/identifier/910075918/process/${ADMIN}?securityLevel=3&conversationId=c-1`,
    ])
    expect(lookups()[0]!.headers.accept).toBe('application/json')
    expect(lookups()[0]!.headers['x-enable-beta-features']).toBeUndefined()
    expect(resource.infoRecord?.organizationName).toBe('TEST - ORGANISASJON 910075918')
    expect(resource.serviceRecords.map((r) => [r.process, r.service.identifier])).toEqual([[ADMIN, 'DPO']])
  })

  it('sends print=false when the print lookup is off, and the beta header when beta features are on', async () => {
    fake.set('/identifier/09118532322', 200, fixtures.dpiPerson())
    await client({ printLookup: false, betaFeatures: true }).lookup({
      identifier: '09118532322',
      securityLevel: 3,
    })
    expect(lookups()[0]!.url).toBe('/identifier/09118532322?securityLevel=3&print=false')
    expect(lookups()[0]!.headers['x-enable-beta-features']).toBe('true')
  })

  it('reads an unknown service identifier as UNKNOWN', async () => {
    const answer = fixtures.capabilitiesOrg()
    answer.serviceRecords[0]!.service = { identifier: 'STRANGE', endpointUrl: 'x' }
    fake.set('/identifier/910077473', 200, answer)
    const resource = await client().lookup({ identifier: '910077473' })
    expect(resource.serviceRecords.map((r) => r.service.identifier)).toEqual(['UNKNOWN', 'DPO', 'DPE'])
  })

  it('serviceRecord() picks the first record with the document type, else says which type was missing', async () => {
    fake.set(`/identifier/910075918/process/${ADMIN}`, 200, forProcess(fixtures.dpoOrg(), ADMIN))
    const sr = client()
    const record = await sr.serviceRecord({ identifier: '910075918', process: ADMIN }, ARKIVMELDING)
    expect(record.service.identifier).toBe('DPO')
    const miss = sr.serviceRecord(
      { identifier: '910075918', process: ADMIN },
      'urn:no:difi:avtalt:xsd::avtalt',
    )
    await expect(miss).rejects.toThrow(ServiceRegistryLookupError)
    await expect(miss).rejects.toThrow(
      `Error looking up service record with document type 'urn:no:difi:avtalt:xsd::avtalt' and parameters: ` +
        `SRParameter(identifier=910075918, process=${ADMIN}, securityLevel=null, print=null, infoOnly=false, conversationId=null)`,
    )
    await expect(sr.serviceRecord({ identifier: '910075918', process: '' }, ARKIVMELDING)).rejects.toThrow(
      'missing process',
    )
  })

  it('info() calls /info/{id} and returns the info record', async () => {
    fake.useAllFixtures()
    const info = await client().info('910075926')
    expect(lookups()[0]!.url).toBe('/info/910075926')
    expect(info).toMatchObject({ organizationName: 'TEST - KOMMUNE 910075926', entityType: { name: 'KOMM' } })
    expect(info.postadresse?.poststed).toBe('OSLO')
  })

  it('refuses a lookup without an identifier before calling', async () => {
    await expect(client().lookup({ identifier: ' ' })).rejects.toThrow(ServiceRegistryLookupError)
    await expect(client().lookup({ identifier: '1', securityLevel: 3.5 })).rejects.toThrow('securityLevel')
    expect(fake.requests).toEqual([])
  })
})

describe('ServiceRegistry client: cache', () => {
  it('answers from the cache until the time to live has passed, ignoring the conversation id', async () => {
    fake.useAllFixtures()
    const sr = client({ cacheTtlSeconds: 300 })
    await sr.lookup({ identifier: '910077473', conversationId: 'a' })
    await sr.lookup({ identifier: '910077473', conversationId: 'b' })
    await sr.lookup({ identifier: '910077473' })
    expect(lookups()).toHaveLength(1)
    await sr.lookup({ identifier: '910077473', securityLevel: 4 })
    expect(lookups()).toHaveLength(2)
    clock.advance(299_999)
    await sr.lookup({ identifier: '910077473' })
    expect(lookups()).toHaveLength(2)
    clock.advance(1)
    await sr.lookup({ identifier: '910077473' })
    expect(lookups()).toHaveLength(3)
    sr.clearCache()
    await sr.lookup({ identifier: '910077473' })
    expect(lookups()).toHaveLength(4)
  })

  it('makes one call for concurrent identical lookups, and does not cache failures', async () => {
    fake.useAllFixtures()
    const sr = client()
    await Promise.all([1, 2, 3].map(() => sr.lookup({ identifier: '910075942' })))
    expect(lookups()).toHaveLength(1)
    fake.failNext(1, 500)
    await expect(sr.lookup({ identifier: '910075926' })).rejects.toThrow(ServiceRegistryUnavailableError)
    await expect(sr.lookup({ identifier: '910075926' })).resolves.toBeTruthy()
    expect(lookups()).toHaveLength(3)
  })
})

describe('the fake registry (test double) itself', () => {
  it('serves its key at /jwk with the RFC 7638 thumbprint as kid, and the SR error body for unknown paths', async () => {
    const { calculateJwkThumbprint } = await import('jose')
    const jwks = (await (await fetch(fake.jwkUrl)).json()) as { keys: Record<string, string>[] }
    expect(jwks.keys).toHaveLength(1)
    expect(jwks.keys[0]!.kid).toBe(fake.kid)
    expect(
      await calculateJwkThumbprint({ kty: 'RSA', n: jwks.keys[0]!.n, e: jwks.keys[0]!.e }, 'sha256'),
    ).toBe(fake.kid)
    const missing = await fetch(`${fake.url}/identifier/910000009`, {
      headers: { accept: 'application/jose' },
    })
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ error_code: '', error_description: 'Entity not found.' })
  })

  it('routes every fixture by identifier, process and info, health identifiers included', async () => {
    fake.useAllFixtures()
    const sr = client()
    const dph = await sr.serviceRecord(
      { identifier: 'her-id:8143548', process: 'urn:no:difi:profile:helse:helse:ver1.0' },
      'urn:no:difi:helse:xsd:schema::dialogmelding',
    )
    expect(dph).toMatchObject({
      herId: '8143548',
      organisationNumber: '310673145',
      service: { identifier: 'DPH' },
    })
    expect((await sr.info('her-id:8143548')).herId).toBe(8143548)
    const einnsyn = await sr.lookup({
      identifier: '910076787',
      process: 'urn:no:difi:profile:einnsyn:journalpost:ver1.0',
    })
    expect(einnsyn.serviceRecords.map((r) => r.service.endpointUrl)).toEqual(['data'])
    expect(lookups().map((r) => r.url)).toEqual([
      '/identifier/her-id:8143548/process/urn:no:difi:profile:helse:helse:ver1.0',
      '/info/her-id:8143548',
      '/identifier/910076787/process/urn:no:difi:profile:einnsyn:journalpost:ver1.0',
    ])
  })
})

describe('ServiceRegistry client: an organisation’s certificate (virksert)', () => {
  const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'

  it('reads GET virksert/{orgnr}, signed when difi.move.sign.enable is on, and caches it', async () => {
    fake.set('/virksert/910075918', 200, `${PEM}\n`)
    const sr = client({ signEnable: true })
    expect(await sr.certificate('910075918')).toBe(PEM)
    expect(await sr.certificate('910075918')).toBe(PEM)
    expect(lookups().map((r) => [r.url, r.headers.accept])).toEqual([
      ['/virksert/910075918', 'application/jose, text/plain'],
    ])
  })

  it('refuses a tampered signed answer, says not found for 404 and unavailable for 500', async () => {
    fake.set('/virksert/910075918', 200, PEM)
    fake.tamper = true
    await expect(client({ signEnable: true }).certificate('910075918')).rejects.toBeInstanceOf(
      ServiceRegistryLookupError,
    )
    fake.tamper = false
    const sr = client()
    await expect(sr.certificate('910077473')).rejects.toBeInstanceOf(NotFoundInServiceRegistryError)
    fake.failNext(1, 500)
    await expect(sr.certificate('910075918')).rejects.toBeInstanceOf(ServiceRegistryUnavailableError)
    // a failure is not cached: the next call asks again
    expect(await sr.certificate('910075918')).toBe(PEM)
    await expect(sr.certificate('../jwk')).rejects.toThrow(/needs an organisation number/)
  })
})
