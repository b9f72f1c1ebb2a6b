import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../packaging/test-support.js'
import { ManualClock } from '../util/time.js'
import { createAltinnTokenSource } from './altinn-token.js'
import { AUDIENCE, makeOrgs, type Org, startBroker } from './dpo/test-support.js'

// Without an exchange (KS Fiks): the Maskinporten access token is the token, kept for its expires_in.

let orgs: { a: Org; b: Org }
let keysDir: { dir: string; cleanup(): void }
let standIn: Awaited<ReturnType<typeof startBroker>>
let clock: ManualClock

beforeAll(async () => {
  keysDir = makeTempDir('maskinporten-token-keys-')
  orgs = makeOrgs(keysDir.dir)
  clock = new ManualClock(new Date())
  standIn = await startBroker({ clock })
})

afterAll(async () => {
  await standIn?.close()
  keysDir?.cleanup()
})

function source(calls: string[]) {
  return createAltinnTokenSource<'ks:fiks'>({
    org: orgs.a.orgNumber,
    keyPem: orgs.a.identity.keyPem,
    certPem: orgs.a.identity.certPem,
    maskinportenAudience: AUDIENCE,
    exchangeUrl: null,
    maskinportenUrl: standIn.maskinportenUrl,
    clock,
    timeoutMs: 5_000,
    fetch: (input, init) => {
      calls.push(String(input))
      return fetch(input, init)
    },
  })
}

describe('a Maskinporten token without an exchange', () => {
  it('is the access token Maskinporten answers, for the scope and the organisation, with no exchange call', async () => {
    const calls: string[] = []
    const token = await source(calls).token('ks:fiks')
    expect(calls).toEqual([standIn.maskinportenUrl])
    const claims = decodeJwt(token)
    expect(claims.scope).toBe('ks:fiks')
    expect(claims.consumer).toEqual({ authority: 'iso6523-actorid-upis', ID: `0192:${orgs.a.orgNumber}` })
  })

  it('is kept while most of its 120 s is left and fetched anew after', async () => {
    const calls: string[] = []
    const tokens = source(calls)
    const first = await tokens.token('ks:fiks')
    clock.advance(80_000)
    expect(await tokens.token('ks:fiks')).toBe(first)
    expect(calls).toHaveLength(1)
    // 120 s less a quarter: from 90 s on a new one is fetched
    clock.advance(11_000)
    const second = await tokens.token('ks:fiks')
    expect(calls).toHaveLength(2)
    expect(second).not.toBe(first)
  })
})
