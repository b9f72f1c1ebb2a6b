import { X509Certificate } from 'node:crypto'
import { decodeJwt, decodeProtectedHeader, importX509, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../packaging/test-support.js'
import { ManualClock } from '../../util/time.js'
import {
  AUDIENCE,
  makeOrgs,
  type Org,
  RESOURCE,
  silentServer,
  startBroker,
  tokenSourceFor,
} from './test-support.js'
import { BrokerError, createDpoTokenSource } from './token.js'

let orgs: { a: Org; b: Org }
let keysDir: { cleanup(): void }
let standIn: Awaited<ReturnType<typeof startBroker>>
let clock: ManualClock

beforeAll(async () => {
  const temp = makeTempDir('dpo-token-keys-')
  keysDir = temp
  orgs = makeOrgs(temp.dir)
  // one clock for the stand-in and the token source, so a grant made "later" is still valid there
  clock = new ManualClock(new Date())
  standIn = await startBroker({ clock })
})

afterAll(async () => {
  await standIn?.close()
  keysDir?.cleanup()
})

/** A fetch that records every grant it carries to the exchange. */
function recordingFetch() {
  const grants: string[] = []
  const f: typeof fetch = (input, init) => {
    grants.push(String(new Headers(init?.headers).get('authorization')).replace(/^Bearer /, ''))
    return fetch(input, init)
  }
  return { fetch: f, grants }
}

describe('createDpoTokenSource', () => {
  it('signs a Maskinporten-style grant for the system user with the business key and certificate', async () => {
    const rec = recordingFetch()
    const tokens = tokenSourceFor(orgs.a, standIn.exchangeUrl, clock, { fetch: rec.fetch })
    await tokens.token('altinn:broker.write')
    expect(rec.grants).toHaveLength(1)
    const grant = rec.grants[0]!
    const header = decodeProtectedHeader(grant)
    expect(header.alg).toBe('RS256')
    expect(header.x5c).toEqual([new X509Certificate(orgs.a.identity.certPem).raw.toString('base64')])
    const key = await importX509(orgs.a.identity.certPem, 'RS256')
    const { payload } = await jwtVerify(grant, key, { currentDate: clock.now(), audience: AUDIENCE })
    expect(payload.iss).toBe('MOVE_IP_910075918')
    expect(payload.iat).toBe(Math.floor(clock.now().getTime() / 1000))
    expect(payload.exp).toBe(payload.iat! + 120)
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/)
    expect(payload.scope).toBe('altinn:broker.write')
    const id = { authority: 'iso6523-actorid-upis', ID: '0192:910075918' }
    expect(payload.consumer).toEqual(id)
    expect(payload.authorization_details).toEqual([
      {
        type: 'urn:altinn:systemuser',
        systemuser_org: id,
        externalRef: '910075918_integrasjonspunkt_systembruker_910075918',
      },
    ])
  })

  it('trades the grant at Maskinporten and exchanges the access token it gets, as the reference does', async () => {
    const calls: { url: string; method: string; body: string; auth: string | null }[] = []
    const f: typeof fetch = async (input, init) => {
      calls.push({
        url: String(input),
        method: init?.method ?? 'GET',
        body: String(init?.body ?? ''),
        auth: new Headers(init?.headers).get('authorization'),
      })
      return fetch(input, init)
    }
    const tokens = tokenSourceFor(orgs.b, standIn.exchangeUrl, clock, {
      fetch: f,
      maskinportenUrl: standIn.maskinportenUrl,
    })
    const altinn = await tokens.token('altinn:broker.read')
    expect(calls.map((c) => [c.method, c.url])).toEqual([
      ['POST', standIn.maskinportenUrl],
      ['GET', standIn.exchangeUrl],
    ])
    const form = new URLSearchParams(calls[0]!.body)
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer')
    const key = await importX509(orgs.b.identity.certPem, 'RS256')
    await jwtVerify(form.get('assertion')!, key, { currentDate: clock.now(), audience: AUDIENCE })
    // what goes to the exchange is Maskinporten's access token, not the grant
    const exchanged = calls[1]!.auth!.replace(/^Bearer /, '')
    expect(exchanged).not.toBe(form.get('assertion'))
    const claims = decodeJwt(exchanged)
    expect(claims.scope).toBe('altinn:broker.read')
    expect((claims.authorization_details as { systemuser_org: { ID: string } }[])[0]!.systemuser_org.ID).toBe(
      '0192:910077473',
    )
    // and the Altinn token it gave works at the broker
    const res = await fetch(`${standIn.apiUrl}/filetransfer?resourceId=${RESOURCE}`, {
      headers: { authorization: `Bearer ${altinn}` },
    })
    expect(res.status).toBe(200)
  })

  it('is refused by Maskinporten when the grant is not signed by the certificate it names', async () => {
    const forged: typeof fetch = async (input, init) => {
      if (String(input) === standIn.maskinportenUrl) {
        const form = new URLSearchParams(String(init?.body))
        const [h, p, sig] = form.get('assertion')!.split('.')
        const claims = JSON.parse(Buffer.from(p!, 'base64url').toString())
        claims.authorization_details[0].systemuser_org.ID = '0192:910094092'
        form.set('assertion', [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), sig].join('.'))
        return fetch(input, { ...init, body: form.toString() })
      }
      return fetch(input, init)
    }
    const tokens = tokenSourceFor(orgs.a, standIn.exchangeUrl, clock, {
      fetch: forged,
      maskinportenUrl: standIn.maskinportenUrl,
    })
    await expect(tokens.token('altinn:broker.write')).rejects.toMatchObject({
      status: 400,
      retryable: false,
      message: expect.stringContaining('invalid_grant'),
    })
  })

  it('exchanges once per scope, reuses the token until 5 minutes before its 30 expire, then exchanges again', async () => {
    const rec = recordingFetch()
    const tokens = tokenSourceFor(orgs.b, standIn.exchangeUrl, clock, { fetch: rec.fetch })
    const [w1, w2] = await Promise.all([
      tokens.token('altinn:broker.write'),
      tokens.token('altinn:broker.write'),
    ])
    expect(w1).toBe(w2)
    expect(rec.grants).toHaveLength(1)
    const r1 = await tokens.token('altinn:broker.read')
    expect(r1).not.toBe(w1)
    expect(rec.grants).toHaveLength(2)
    expect(await tokens.token('altinn:broker.write')).toBe(w1)

    clock.advance(25 * 60_000 - 1)
    expect(await tokens.token('altinn:broker.write')).toBe(w1)
    expect(await tokens.token('altinn:broker.read')).toBe(r1)
    expect(rec.grants).toHaveLength(2)

    clock.advance(1)
    const w3 = await tokens.token('altinn:broker.write')
    expect(w3).not.toBe(w1)
    expect(rec.grants).toHaveLength(3)
    expect(await tokens.token('altinn:broker.write')).toBe(w3)
    expect(rec.grants).toHaveLength(3)
  })

  it('turns a refused grant into a BrokerError that is not retryable, with the problem, and caches no failure', async () => {
    // a grant made an hour in the past has expired by the stand-in's clock
    const past = new ManualClock(new Date(clock.now().getTime() - 3_600_000))
    const rec = recordingFetch()
    const tokens = tokenSourceFor(orgs.a, standIn.exchangeUrl, past, { fetch: rec.fetch })
    const error = await tokens.token('altinn:broker.read').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BrokerError)
    expect(error).toMatchObject({ status: 401, retryable: false, problem: { status: 401 } })
    expect((error as BrokerError).problem?.detail).toMatch(/expired/)
    expect((error as BrokerError).message).toMatch(/expired/)
    past.set(clock.now())
    await expect(tokens.token('altinn:broker.read')).resolves.toMatch(/\S+/)
    expect(rec.grants).toHaveLength(2)
  })

  it('makes an injected 503 a retryable BrokerError', async () => {
    const faulty = await startBroker({ faults: { errorRate: 1 } })
    try {
      const tokens = tokenSourceFor(orgs.a, faulty.exchangeUrl, new ManualClock(new Date()))
      await expect(tokens.token('altinn:broker.write')).rejects.toMatchObject({
        name: 'BrokerError',
        status: 503,
        retryable: true,
        problem: { status: 503, detail: expect.stringMatching(/Injected fault/) },
      })
    } finally {
      await faulty.close()
    }
  })

  it('makes a refused connection and a silent server retryable BrokerErrors, in time', async () => {
    const silent = await silentServer()
    try {
      const tokens = tokenSourceFor(orgs.a, `${silent.url}/exchange`, clock, { timeoutMs: 200 })
      const started = Date.now()
      const error = await tokens.token('altinn:broker.write').catch((e: unknown) => e)
      expect(Date.now() - started).toBeLessThan(2_000)
      expect(error).toMatchObject({ name: 'BrokerError', retryable: true, status: undefined })
      expect((error as Error).message).toMatch(/timed out after 200 ms/)
    } finally {
      await silent.close()
    }
    const refused = tokenSourceFor(orgs.a, silent.url, clock, { timeoutMs: 1_000 })
    await expect(refused.token('altinn:broker.write')).rejects.toMatchObject({
      retryable: true,
      status: undefined,
    })
  })

  it('refuses an organisation number that is not nine digits, saying which setting to fix', () => {
    expect(() =>
      createDpoTokenSource({
        orgNumber: '12345',
        systemUserName: 'x',
        keyPem: orgs.a.identity.keyPem,
        certPem: orgs.a.identity.certPem,
        maskinportenAudience: AUDIENCE,
        exchangeUrl: standIn.exchangeUrl,
        maskinportenUrl: null,
        clock,
        timeoutMs: 1_000,
      }),
    ).toThrow(/difi\.move\.org\.number/)
  })
})
