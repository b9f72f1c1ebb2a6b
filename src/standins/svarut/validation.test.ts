import { afterEach, describe, expect, it } from 'vitest'
import { sandboxIntegrasjonId } from './settings.js'
import {
  fiksToken,
  forsendelse,
  harness,
  KONTO_A,
  KONTO_B,
  maskinportenToken,
  multipart,
  ORG_A,
  ORG_B,
} from './test-support.js'

const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()))
})

async function start() {
  const h = await harness()
  open.push(h)
  return h
}

const PDF = Buffer.from('%PDF-1.4 x')
const one = [{ name: 'vedtak.pdf', bytes: PDF }]

/** SvarUt's ErrorMessage, as KS's client reads it */
async function expectError(res: Response, status: number, message: RegExp, errorCode?: string) {
  expect(res.status).toBe(status)
  const body = await res.json()
  expect(body).toMatchObject({ status, message: expect.stringMatching(message) })
  expect(typeof body.timestamp).toBe('number')
  expect(body.errorId).toMatch(/^[0-9a-f-]{36}$/)
  expect(body.path).toMatch(/^\/api\//)
  if (errorCode) expect(body.errorCode).toBe(errorCode)
  if ('errorJson' in body) expect(typeof body.errorJson).toBe('object')
  return body
}

describe('auth on the REST API', () => {
  it('401 without or with wrong IntegrasjonId/IntegrasjonPassord', async () => {
    const h = await start()
    await expectError(
      await h.send(forsendelse(), one, { headers: { integrasjonid: '' } }),
      401,
      /IntegrasjonId/,
    )
    await expectError(
      await h.send(forsendelse(), one, { headers: { integrasjonpassord: 'wrong' } }),
      401,
      /IntegrasjonPassord/,
    )
  })

  it('401 without a bearer JWT or with an expired one; 403 without scope ks:fiks or for another org', async () => {
    const h = await start()
    await expectError(await h.send(forsendelse(), one, { headers: { authorization: '' } }), 401, /Bearer/)
    await expectError(
      await h.send(forsendelse(), one, { headers: { authorization: 'Bearer abc' } }),
      401,
      /JWT/,
    )
    const expired = maskinportenToken({ consumer: { ID: `0192:${ORG_A}` }, scope: 'ks:fiks', exp: 1 })
    await expectError(
      await h.send(forsendelse(), one, { headers: { authorization: `Bearer ${expired}` } }),
      401,
      /expired/,
    )
    await expectError(
      await h.send(forsendelse(), one, {
        headers: { authorization: `Bearer ${fiksToken(ORG_A, 'altinn:broker.write')}` },
      }),
      403,
      /ks:fiks/,
    )
    // A's integration with a token for B
    await expectError(
      await h.send(forsendelse(), one, { headers: { authorization: `Bearer ${fiksToken(ORG_B)}` } }),
      403,
      /not authorised/,
    )
  })

  it('a delegated token names its organisation in consumer_org', async () => {
    const h = await start()
    const token = maskinportenToken({
      consumer: { ID: `0192:${ORG_B}` },
      consumer_org: ORG_A,
      scope: 'ks:fiks',
    })
    const res = await h.send(forsendelse(), one, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
  })

  it('403 for another integration’s konto, 404 for an unknown one', async () => {
    const h = await start()
    await expectError(await h.send(forsendelse(), one, { konto: KONTO_B }), 403, /tilgang/)
    await expectError(
      await h.send(forsendelse(), one, { konto: '11111111-1111-4111-8111-111111111111' }),
      404,
      /finnes ikke/,
    )
    // B's integration id with A's token
    await expectError(
      await h.send(forsendelse(), one, { headers: { integrasjonid: sandboxIntegrasjonId(ORG_B) } }),
      403,
      /not authorised/,
    )
  })
})

describe('SvarUt’s validation', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no tittel', { tittel: null }, /tittel: må være satt/],
    ['a tittel over 1000', { tittel: 'x'.repeat(1001) }, /tittel: lengden/],
    ['no mottaker', { mottaker: null }, /mottaker: må være satt/],
    ['a mottaker that is no orgnr', { mottaker: { navn: 'X', digitalId: '12345' } }, /mottaker.digitalId/],
    [
      'the reference’s swapped fallback address (no adresselinje1)',
      { mottaker: { navn: 'X', digitalId: ORG_B, adresse: { postnummer: 'Oslo', poststed: '0192' } } },
      /mottaker.adresse.adresselinje1: må være satt/,
    ],
    [
      'an empty adresselinje1 in svarSendesTil',
      {
        svarSendesTil: {
          navn: 'A',
          type: 'ORGANISASJON',
          digitalId: ORG_A,
          adresse: { adresselinje1: '', poststed: 'OSLO' },
        },
      },
      /svarSendesTil.adresse.adresselinje1: lengden/,
    ],
    [
      'svarSendesTil without type',
      { svarSendesTil: { navn: 'A', digitalId: ORG_A, adresse: { adresselinje1: 'a', poststed: 'b' } } },
      /svarSendesTil.type/,
    ],
    ['HOYESTE unencrypted', { sikkerhetsniva: 'HOYESTE', kryptert: false }, /HOYESTE/],
    ['an unknown sikkerhetsniva', { sikkerhetsniva: 'NIVA4' }, /sikkerhetsniva/],
    ['a bad konteringskode', { konteringskode: 'a b' }, /konteringskode/],
    ['an unknown forsendelsestype', { forsendelsestype: 'Ukjent' }, /forsendelsestype/],
    ['a svarPaForsendelseId that is no uuid', { svarPaForsendelseId: 'abc' }, /svarPaForsendelseId/],
    ['an eksternReferanse over 100', { eksternReferanse: 'x'.repeat(101) }, /eksternReferanse/],
    ['six lenker', { lenker: Array(6).fill({ url: 'https://x', tekst: 'x' }) }, /lenker/],
    [
      'kanSvareViaEdialog to a person',
      { kanSvareViaEdialog: true, svarSendesTil: null },
      /kanSvareViaEdialog/,
    ],
    ['no dokumenter', { dokumenter: [] }, /minst ett dokument/],
    [
      'a filnavn with a forbidden character',
      { dokumenter: [{ filnavn: 'a/b.pdf', mimeType: 'application/pdf' }] },
      /filnavn/,
    ],
    [
      'a non-PDF that may be printed',
      { dokumenter: [{ filnavn: 'vedtak.pdf', mimeType: 'text/plain', skalEkskluderesFraUtskrift: null }] },
      /Kun application\/pdf/,
    ],
    [
      'a metadata saksaar of two digits',
      { metadataFraAvleverendeSystem: { saksaar: 26 } },
      /metadataFraAvleverendeSystem.saksaar/,
    ],
  ]
  for (const [what, change, message] of cases) {
    it(`400 for ${what}`, async () => {
      const h = await start()
      const body = await expectError(await h.send(forsendelse(change), one), 400, message, 'VALIDERINGSFEIL')
      expect(Object.keys(body.errorJson).length).toBeGreaterThan(0)
      // nothing was kept
      expect(await (await h.call('/sandbox/api/forsendelser')).json()).toEqual([])
    })
  }

  it('a non-PDF passes when the forsendelse is digital only', async () => {
    const h = await start()
    const f = forsendelse({
      kunDigitalLevering: true,
      dokumenter: [{ filnavn: 'a.txt', mimeType: 'text/plain' }],
    })
    expect((await h.send(f, [{ name: 'a.txt', bytes: Buffer.from('hei'), type: 'text/plain' }])).status).toBe(
      200,
    )
  })

  it('400 when the parts do not match dokumenter[] in number, order or name', async () => {
    const h = await start()
    const two = forsendelse({
      dokumenter: [
        { filnavn: 'a.pdf', mimeType: 'application/pdf' },
        { filnavn: 'b.pdf', mimeType: 'application/pdf' },
      ],
    })
    await expectError(await h.send(two, [{ name: 'a.pdf', bytes: PDF }]), 400, /2 dokumenter, men 1/)
    await expectError(
      await h.send(two, [
        { name: 'b.pdf', bytes: PDF },
        { name: 'a.pdf', bytes: PDF },
      ]),
      400,
      /samme rekkefølge/,
    )
  })

  it('400 for an empty document, one that does not decrypt, no forsendelse part, bad JSON or no multipart', async () => {
    const h = await start()
    await expectError(
      await h.send(forsendelse({ kryptert: false }), [{ name: 'vedtak.pdf', bytes: Buffer.alloc(0) }], {
        plain: true,
      }),
      400,
      /tomt dokument/,
      'TOMT_DOKUMENT',
    )
    await expectError(
      await h.send(forsendelse(), [{ name: 'vedtak.pdf', bytes: PDF }], { plain: true }),
      400,
      /dekryptere/,
      'UGYLDIG_KRYPTERING',
    )
    const url = `/api/v3/kontoer/${KONTO_A}/forsendelser/organisasjon`
    const headers = {
      authorization: `Bearer ${fiksToken(ORG_A)}`,
      integrasjonid: sandboxIntegrasjonId(ORG_A),
      integrasjonpassord: 'sandbox',
    }
    const noPart = multipart([{ name: 'filer_0', filename: 'vedtak.pdf', body: PDF }])
    await expectError(
      await h.call(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': noPart.contentType },
        body: new Uint8Array(noPart.body),
      }),
      400,
      /forsendelse/,
    )
    const badJson = multipart([{ name: 'forsendelse', body: '{nope' }])
    await expectError(
      await h.call(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': badJson.contentType },
        body: new Uint8Array(badJson.body),
      }),
      400,
      /JSON/,
    )
    await expectError(
      await h.call(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{}',
      }),
      400,
      /multipart/,
    )
    expect(await (await h.call('/sandbox/api/forsendelser')).json()).toEqual([])
  })

  it('413 for documents over maxBytes, while streaming; nothing kept', async () => {
    const h = await harness({ settings: { maxBytes: 1000 } })
    open.push(h)
    const f = forsendelse({ kryptert: false })
    const res = await h.send(f, [{ name: 'vedtak.pdf', bytes: Buffer.alloc(5000, 1) }], { plain: true })
    await expectError(res, 413, /større enn 1000 bytes/, 'FOR_STOR')
    expect(await (await h.call('/sandbox/api/forsendelser')).json()).toEqual([])
  })
})
