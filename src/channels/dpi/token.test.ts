import { decodeJwt, decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../packaging/test-support.js'
import { ManualClock } from '../../util/time.js'
import { AUDIENCE, makeOrgs, type Org, startBroker } from '../dpo/test-support.js'
import { createDpiTokenSource } from './token.js'

// Through the Maskinporten stand-in: what DPI's grants ask for is what its access tokens say.

const ISO6523 = 'iso6523-actorid-upis'
const SCOPE = 'digitalpostinnbygger:send'
let orgs: { a: Org; b: Org }
let keysDir: { dir: string; cleanup(): void }
let standIn: Awaited<ReturnType<typeof startBroker>>
let clock: ManualClock

beforeAll(async () => {
  keysDir = makeTempDir('dpi-token-keys-')
  orgs = makeOrgs(keysDir.dir)
  clock = new ManualClock(new Date())
  standIn = await startBroker({ clock })
})

afterAll(async () => {
  await standIn?.close()
  keysDir?.cleanup()
})

/** a token source for organisation a, recording the grants it sends */
function source(grants: Record<string, unknown>[]) {
  return createDpiTokenSource({
    org: orgs.a.orgNumber,
    keyPem: orgs.a.identity.keyPem,
    certPem: orgs.a.identity.certPem,
    maskinportenAudience: AUDIENCE,
    maskinportenUrl: standIn.maskinportenUrl,
    scopes: SCOPE,
    clock,
    timeoutMs: 5_000,
    fetch: (input, init) => {
      const assertion = new URLSearchParams(String(init?.body)).get('assertion')!
      grants.push({ ...decodeJwt(assertion), header: decodeProtectedHeader(assertion) })
      return fetch(input, init)
    },
  })
}

describe('a DPI token', () => {
  it('on behalf of another organisation carries consumer_org: that organisation is the consumer, we the supplier', async () => {
    const grants: Record<string, unknown>[] = []
    const token = await source(grants).token(orgs.b.orgNumber)
    expect(grants).toHaveLength(1)
    expect(grants[0]).toMatchObject({
      scope: SCOPE,
      consumer_org: orgs.b.orgNumber,
      iss: `MOVE_IP_${orgs.a.orgNumber}`,
      aud: AUDIENCE,
      header: { alg: 'RS256', x5c: [expect.any(String)] },
    })
    const claims = decodeJwt(token)
    expect(claims.scope).toBe(SCOPE)
    expect(claims.consumer).toEqual({ authority: ISO6523, ID: `0192:${orgs.b.orgNumber}` })
    expect(claims.supplier).toEqual({ authority: ISO6523, ID: `0192:${orgs.a.orgNumber}` })
  })

  it('for ourselves (null, our number, or it with 0192:) has no consumer_org and is one cached token', async () => {
    const grants: Record<string, unknown>[] = []
    const tokens = source(grants)
    const own = await tokens.token(null)
    expect(await tokens.token(orgs.a.orgNumber)).toBe(own)
    expect(await tokens.token(`0192:${orgs.a.orgNumber}`)).toBe(own)
    expect(grants).toHaveLength(1)
    expect(grants[0]).not.toHaveProperty('consumer_org')
    const claims = decodeJwt(own)
    expect(claims.consumer).toEqual({ authority: ISO6523, ID: `0192:${orgs.a.orgNumber}` })
    expect(claims).not.toHaveProperty('supplier')
  })

  it('is cached per organisation for about 90 s of its 120', async () => {
    const grants: Record<string, unknown>[] = []
    const tokens = source(grants)
    const forB = await tokens.token(orgs.b.orgNumber)
    const own = await tokens.token(null)
    expect(forB).not.toBe(own)
    clock.advance(80_000)
    expect(await tokens.token(orgs.b.orgNumber)).toBe(forB)
    expect(await tokens.token(null)).toBe(own)
    expect(grants).toHaveLength(2)
    clock.advance(11_000)
    expect(await tokens.token(orgs.b.orgNumber)).not.toBe(forB)
    expect(grants).toHaveLength(3)
  })

  it('is refused for something that is not an organisation number, without asking Maskinporten', async () => {
    const grants: Record<string, unknown>[] = []
    await expect(source(grants).token('ola.nordmann')).rejects.toThrow(/not an organisation number/)
    expect(grants).toEqual([])
  })
})
