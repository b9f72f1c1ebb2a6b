import { X509Certificate } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { signJws } from '../../packaging/jws.js'
import type { DpiSettings } from './settings.js'
import {
  API,
  businessMessage,
  digestOf,
  type Harness,
  harness,
  ORG_A,
  ORG_B,
  orgKeys,
  PRINT_PROVIDER,
  poll,
  send,
  signedLetter,
  startRegistry,
  token,
} from './test-support.js'

let registry: Awaited<ReturnType<typeof startRegistry>>
beforeAll(async () => {
  registry = await startRegistry()
}, 60_000)
afterAll(() => registry?.close())

const open: Harness[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()))
})

// the chain behind the access point is held back: these tests are about what the access point accepts
async function start(settings: Partial<DpiSettings> = { handoverDelayMs: 3_600_000 }) {
  const h = await harness(registry, { settings })
  open.push(h)
  return h
}

async function problem(res: Response, status: number, kind: string) {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toBe('application/problem+json')
  const body = (await res.json()) as Record<string, unknown>
  expect(body).toMatchObject({ type: `urn:dpi-stand-in:problem:${kind}`, status })
  expect(typeof body.title).toBe('string')
  expect(typeof body.detail).toBe('string')
  expect(typeof body.instance).toBe('string')
  return body
}

describe('POST /messages/out refuses, in the order of the access point’s checks', () => {
  it('401 without a token, with one that is no JWT, or one that has expired', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    await problem(await send(h.url, { ...l, token: '' }), 401, 'unauthorized')
    await problem(await send(h.url, { ...l, token: 'not-a-jwt' }), 401, 'unauthorized')
    const expired = token(ORG_A, { exp: Math.floor(Date.now() / 1000) - 10 })
    const body = await problem(await send(h.url, { ...l, token: expired }), 401, 'unauthorized')
    expect(body.detail).toMatch(/expired/)
  })

  it('403 without the scope digitalpostinnbygger:send', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, {
      type: 'digital',
      token: token(ORG_A, { scope: 'altinn:broker.write' }),
    })
    const body = await problem(await send(h.url, l), 403, 'forbidden')
    expect(body.detail).toMatch(/digitalpostinnbygger:send/)
  })

  it('400 when the JWS was changed after signing, or is no JWS', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    const [head, , sig] = l.jws.split('.')
    const other = Buffer.from(JSON.stringify({ ...l.letter, extra: 1 })).toString('base64url')
    await problem(await send(h.url, { ...l, jws: `${head}.${other}.${sig}` }), 400, 'signature')
    await problem(await send(h.url, { ...l, jws: 'garbage' }), 400, 'signature')
  })

  it('400 when signed by a certificate that is not the sender’s business certificate in the registry', async () => {
    const h = await start()
    // a valid signature, but with 910077473's key while the token speaks for 910075918
    const l = await signedLetter(registry.dataDir, { type: 'digital', signer: ORG_B })
    const body = await problem(await send(h.url, l), 400, 'signature')
    expect(body.detail).toMatch(/910075918's business certificate/)
  })

  it('trusts the supplier’s certificate when the token names one', async () => {
    const h = await start()
    const t = token(ORG_A, { supplier: ORG_B })
    const l = await signedLetter(registry.dataDir, { type: 'digital', token: t, signer: ORG_B })
    expect((await send(h.url, l)).status).toBe(201)
    const own = await signedLetter(registry.dataDir, { type: 'digital', token: t })
    await problem(await send(h.url, own), 400, 'signature')
  })

  it('400 when the schema is broken, or the type is not digital or utskrift', async () => {
    const h = await start()
    const t = token()
    const pkg = Buffer.from('package')
    const letter = businessMessage({ type: 'digital', token: t, pkg }) as Record<string, any>
    delete letter.standardBusinessDocument.digital.ikkesensitivtittel
    const jws = await signJws(letter, orgKeys(registry.dataDir, ORG_A))
    const body = await problem(await send(h.url, { token: t, jws, pkg }), 400, 'schema')
    expect(body.detail).toMatch(/ikkesensitivtittel/)
    const receipt = businessMessage({ type: 'digital', token: t, pkg }) as Record<string, any>
    const sbd = receipt.standardBusinessDocument
    sbd.standardBusinessDocumentHeader.documentIdentification.type = 'leveringskvittering'
    sbd.leveringskvittering = {
      avsender: sbd.digital.avsender,
      mottaker: { virksomhetsidentifikator: sbd.digital.avsender.virksomhetsidentifikator },
      tidspunkt: '2026-08-20T10:15:30+02:00',
    }
    delete sbd.digital
    const jws2 = await signJws(receipt, orgKeys(registry.dataDir, ORG_A))
    await problem(await send(h.url, { token: t, jws: jws2, pkg }), 400, 'schema')
  })

  it('400 when the embedded maskinportentoken is not the bearer token', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    const body = await problem(await send(h.url, { ...l, token: token(ORG_A) + 'x' }), 400, 'token-mismatch')
    expect(body.detail).toMatch(/maskinportentoken/)
  })

  it('403 when the token’s consumer is not the avsender', async () => {
    const h = await start()
    // signed by B, whose token it is, but sent in A's name
    const t = token(ORG_B)
    const pkg = Buffer.from('package')
    const letter = businessMessage({ type: 'digital', token: t, pkg, org: ORG_A })
    const jws = await signJws(letter, orgKeys(registry.dataDir, ORG_B))
    const body = await problem(await send(h.url, { token: t, jws, pkg }), 403, 'forbidden')
    expect(body.detail).toMatch(/not the avsender/)
  })

  it('400 when the package’s SHA-256 is not the fingerprint', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'utskrift' })
    const body = await problem(
      await send(h.url, { ...l, pkg: Buffer.from('another package') }),
      400,
      'digest',
    )
    expect(body.detail).toContain(digestOf(Buffer.from('another package')))
  })

  it('413 for a package over maxPackageBytes, refused while it streams', async () => {
    const h = await start({ handoverDelayMs: 3_600_000, maxPackageBytes: 20_000 })
    const l = await signedLetter(registry.dataDir, { type: 'digital', pkg: Buffer.alloc(30_000, 1) })
    const body = await problem(await send(h.url, l), 413, 'too-large')
    expect(body.detail).toMatch(/dokumentpakke/)
  })

  it('400 unless the body is exactly the two parts', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    const jwsPart = { name: 'forretningsmelding', filename: 'sbd.jwt', type: 'application/jwt', body: l.jws }
    const pkgPart = { name: 'dokumentpakke', filename: 'asic.cms', type: 'application/cms', body: l.pkg }
    await problem(await send(h.url, { token: l.token, parts: [jwsPart] }), 400, 'multipart')
    await problem(
      await send(h.url, { token: l.token, parts: [jwsPart, pkgPart, { ...pkgPart, name: 'extra' }] }),
      400,
      'multipart',
    )
  })
})

describe('the registry out of reach', () => {
  it('503 problem+json: the caller tries again later', async () => {
    const h = await harness({ url: 'http://127.0.0.1:9', dataDir: registry.dataDir })
    open.push(h)
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    const body = await problem(await send(h.url, l), 503, 'registry-unavailable')
    expect(body.detail).toMatch(/Cannot reach the ServiceRegistry/)
  })
})

describe('accepting a letter', () => {
  it('201 and OPPRETTET; an identical resend is 201 again and stored once; another with that id is 409', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    const first = await send(h.url, l)
    expect(first.status).toBe(201)
    expect(await first.text()).toBe('')
    expect((await send(h.url, l)).status).toBe(201)
    const statuses = await fetch(`${h.url}${API}/messages/out/${l.id}/statuses`, {
      headers: { authorization: `Bearer ${l.token}` },
    })
    expect(statuses.status).toBe(200)
    const list = (await statuses.json()) as { status: string; timestamp: string }[]
    expect(list.map((s) => s.status)).toEqual(['OPPRETTET'])
    expect(Number.isNaN(Date.parse(list[0]!.timestamp))).toBe(false)
    const sandbox = (await (await fetch(`${h.url}/sandbox/api/messages`)).json()) as unknown[]
    expect(sandbox).toHaveLength(1)
    // same id, other package
    const again = await signedLetter(registry.dataDir, { type: 'digital', id: l.id, token: l.token })
    await problem(await send(h.url, again), 409, 'message-id-used')
  })

  it('answers at the root as under /api/v2/dpi', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'utskrift' })
    expect((await send(h.url, { ...l, prefix: '' })).status).toBe(201)
    const res = await fetch(`${h.url}/messages/out/${l.id}/statuses`, {
      headers: { authorization: `Bearer ${l.token}` },
    })
    expect(res.status).toBe(200)
  })

  it('statuses: 404 for an unknown id and for another organisation’s letter', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    expect((await send(h.url, l)).status).toBe(201)
    const get = (id: string, t: string) =>
      fetch(`${h.url}${API}/messages/out/${id}/statuses`, { headers: { authorization: `Bearer ${t}` } })
    await problem(await get('f3b5b8e6-0000-4000-8000-000000000000', l.token), 404, 'not-found')
    await problem(await get(l.id, token(ORG_B)), 404, 'not-found')
  })
})

describe('the receipt side with nothing to read', () => {
  it('204 with no receipts; read of an unknown id 404; a download 404', async () => {
    const h = await start()
    expect((await poll(h.url, token(), '?kanal=no_difi_move_integrasjonspunkt')).status).toBe(204)
    const auth = { authorization: `Bearer ${token()}` }
    await problem(
      await fetch(`${h.url}${API}/messages/in/2b0b3d2e-0000-4000-8000-000000000000/read`, {
        method: 'POST',
        headers: auth,
      }),
      404,
      'not-found',
    )
    await problem(await fetch(`${h.url}${API}/messages/in/anything`, { headers: auth }), 404, 'not-found')
    await problem(await fetch(`${h.url}${API}/messages/in?page_size=0`, { headers: auth }), 400, 'query')
    await problem(await fetch(`${h.url}${API}/messages/in`), 401, 'unauthorized')
  })
})

describe('KRR print certificate', () => {
  it('names the print provider and gives the certificate the registry publishes for it', async () => {
    const h = await start()
    const res = await fetch(`${h.url}/rest/v2/printSertifikat`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { postkasseleverandoerAdresse: string; x509Sertifikat: string }
    expect(body.postkasseleverandoerAdresse).toBe(PRINT_PROVIDER)
    const published = await (await fetch(`${registry.url}/virksert/${PRINT_PROVIDER}`)).text()
    expect(new X509Certificate(body.x509Sertifikat).raw.equals(new X509Certificate(published).raw)).toBe(true)
  })
})
