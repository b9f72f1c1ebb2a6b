import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { afterEach, describe, expect, it } from 'vitest'
import { decryptStream } from '../../packaging/cms.js'
import { ManualClock } from '../../util/time.js'
import {
  basic,
  fiksHeaders,
  forsendelse,
  harness,
  KOMMUNE,
  KONTO_A,
  KONTO_B,
  multipart,
  ORG_A,
  ORG_B,
  sha256,
  unzip,
} from './test-support.js'

const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()))
})

async function start(opts: Parameters<typeof harness>[0] = {}) {
  const h = await harness(opts)
  open.push(h)
  return h
}

const PDF = Buffer.from('%PDF-1.4 status')
const one = [{ name: 'vedtak.pdf', bytes: PDF }]

function statusSok(h: Awaited<ReturnType<typeof harness>>, ids: unknown, org = ORG_A, konto = KONTO_A) {
  return h.call(`/api/v3/kontoer/${konto}/forsendelser/status/sok`, {
    method: 'POST',
    headers: { ...fiksHeaders(org), 'content-type': 'application/json' },
    body: JSON.stringify({ id: ids }),
  })
}

describe('the status model', () => {
  it('VARSLET → LEST when the receiver reads it in the sandbox; status/sok answers it with its time', async () => {
    const clock = new ManualClock('2026-08-20T10:00:00Z')
    const h = await start({ clock })
    const { id } = await (await h.send(forsendelse(), one)).json()
    let res = await statusSok(h, [id, '11111111-1111-4111-8111-111111111111'])
    expect(res.status).toBe(200)
    // unknown ids are left out
    expect(await res.json()).toEqual({
      statuser: [{ id, status: 'VARSLET', sisteStatusEndring: '2026-08-20T12:00:00+02:00' }],
    })
    clock.advance(60_000)
    const read = await h.call(`/sandbox/api/forsendelser/${id}/read`, { method: 'POST' })
    expect((await read.json()).status).toBe('LEST')
    res = await statusSok(h, [id])
    expect((await res.json()).statuser).toEqual([
      { id, status: 'LEST', sisteStatusEndring: '2026-08-20T12:01:00+02:00' },
    ])
    // another konto does not see it
    expect((await (await statusSok(h, [id], ORG_B, KONTO_B)).json()).statuser).toEqual([])
  })

  it('the hooks move it as SvarUt’s processes would, with the reason in the hendelser', async () => {
    const h = await start()
    for (const status of ['AVVIST', 'IKKE_LEVERT', 'FEILET_UNDER_MOTTAK', 'SENDT_PRINT', 'PRINTET']) {
      const { id } = await (await h.send(forsendelse(), one)).json()
      const set = await h.call(`/sandbox/api/forsendelser/${id}/status`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status, hendelse: `grunn for ${status}` }),
      })
      expect(set.status).toBe(200)
      expect((await (await statusSok(h, [id])).json()).statuser[0].status).toBe(status)
      const hendelser = await h.call(`/api/v2/forsendelser/${id}/hendelser`, { headers: fiksHeaders(ORG_A) })
      const list = (await hendelser.json()).hendelser
      expect(list.map((x: { hendelse: string }) => x.hendelse)).toEqual([
        'Mottatt',
        'Akseptert',
        'Varslet mottaker (ingen SvarInn-mottakersystem)',
        `grunn for ${status}`,
      ])
    }
    const bad = await h.call(
      `/sandbox/api/forsendelser/${(await (await h.send(forsendelse(), one)).json()).id}/status`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'LEVERT' }),
      },
    )
    expect(bad.status).toBe(400)
  })

  it('a forsendelse that was refused cannot be read', async () => {
    const h = await start()
    const { id } = await (await h.send(forsendelse(), one)).json()
    await h.call(`/sandbox/api/forsendelser/${id}/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'AVVIST' }),
    })
    expect((await h.call(`/sandbox/api/forsendelser/${id}/read`, { method: 'POST' })).status).toBe(409)
  })

  it('status/sok refuses a body that is not {"id": [uuid]}', async () => {
    const h = await start()
    expect((await statusSok(h, 'x')).status).toBe(400)
    expect((await statusSok(h, ['not-a-uuid'])).status).toBe(400)
  })
})

describe('eksternRef lookup (v2) and forsendelsestyper', () => {
  it('finds every forsendelse of the konto with that eksternRef, newest first; none is []', async () => {
    const h = await start()
    const ref = 'msg-1'
    const first = (await (await h.send(forsendelse({ eksternReferanse: ref }), one)).json()).id
    const second = (await (await h.send(forsendelse({ eksternReferanse: ref }), one)).json()).id
    await h.send(forsendelse({ eksternReferanse: 'other' }), one)
    const lookup = (org: string, konto: string, q: string) =>
      h.call(`/api/v2/kontoer/${konto}/forsendelser?eksternRef=${encodeURIComponent(q)}`, {
        headers: fiksHeaders(org),
      })
    expect(await (await lookup(ORG_A, KONTO_A, ref)).json()).toEqual({ forsendelseIds: [second, first] })
    expect(await (await lookup(ORG_A, KONTO_A, 'none')).json()).toEqual({ forsendelseIds: [] })
    expect(await (await lookup(ORG_B, KONTO_B, ref)).json()).toEqual({ forsendelseIds: [] })
    expect(
      (await h.call(`/api/v2/kontoer/${KONTO_A}/forsendelser`, { headers: fiksHeaders(ORG_A) })).status,
    ).toBe(400)
    const typer = await h.call('/api/v2/forsendelsestyper', { headers: fiksHeaders(ORG_A) })
    expect((await typer.json()).forsendelsestyper).toContain('Arkivmelding')
  })
})

describe('the sandbox', () => {
  it('sends as a municipality to an organisation’s SvarInn, encrypted to its certificate', async () => {
    const arrived: string[] = []
    const h = await start({ onArrived: (f) => arrived.push(`${f.id} ${f.mottakersystem}`) })
    const doc = Buffer.from('svar fra kommunen')
    const { body, contentType } = multipart([
      {
        name: 'forsendelse',
        type: 'application/json',
        body: JSON.stringify({
          avsender: KOMMUNE,
          mottaker: ORG_A,
          tittel: 'Svar på søknad',
          avsenderNavn: 'Testkommune',
        }),
      },
      { name: 'dokument', filename: 'svar.pdf', type: 'application/pdf', body: doc },
    ])
    const res = await h.call('/sandbox/api/forsendelser', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: new Uint8Array(body),
    })
    expect(res.status).toBe(200)
    const item = await res.json()
    expect(item).toMatchObject({
      status: 'KLAR_FOR_MOTTAK',
      tittel: 'Svar på søknad',
      avsender: KOMMUNE,
      mottaker: ORG_A,
    })
    const list = await (
      await h.call('/tjenester/svarinn/mottaker/hentNyeForsendelser', {
        headers: { authorization: basic(ORG_A) },
      })
    ).json()
    expect(list[0]).toMatchObject({
      id: item.id,
      svarSendesTil: { orgnr: KOMMUNE, navn: 'Testkommune' },
      mottaker: { orgnr: ORG_A },
      filmetadata: [{ filnavn: 'svar.pdf', sha256hash: sha256(doc), size: doc.length }],
    })
    const dl = await h.call(`/tjenester/svarinn/forsendelse/${item.id}`, {
      headers: { authorization: basic(ORG_A) },
    })
    const zip = await buffer(
      Readable.from([Buffer.from(await dl.arrayBuffer())]).pipe(decryptStream(h.a.keyPem)),
    )
    expect((await unzip(zip)).get('svar.pdf')).toEqual(doc)
    // told, so the sandbox can nudge the receiving integration point's poller
    expect(arrived).toEqual([`${item.id} ${ORG_A}`])
  })

  it('refuses an answer to an organisation with no mottakersystem, and a bad avsender', async () => {
    const h = await start()
    const post = (f: unknown) => {
      const { body, contentType } = multipart([
        { name: 'forsendelse', body: JSON.stringify(f) },
        { name: 'd', filename: 'a.pdf', body: 'x' },
      ])
      return h.call('/sandbox/api/forsendelser', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: new Uint8Array(body),
      })
    }
    expect((await post({ avsender: KOMMUNE, mottaker: '910094092', tittel: 't' })).status).toBe(400)
    expect((await post({ avsender: 'kommune', mottaker: ORG_A, tittel: 't' })).status).toBe(400)
  })

  it('the page lists forsendelser per receiver with a Read button that reads', async () => {
    const h = await start()
    const { id } = await (await h.send(forsendelse({ tittel: 'Vedtak <b>1</b>' }), one)).json()
    const page = await (await h.call(`/sandbox?mottaker=${KOMMUNE}`)).text()
    expect(page).toContain('Vedtak &lt;b&gt;1&lt;/b&gt;')
    expect(page).toContain(`action="/sandbox/forsendelser/${id}/read?mottaker=${KOMMUNE}"`)
    const read = await h.call(`/sandbox/forsendelser/${id}/read?mottaker=${KOMMUNE}`, {
      method: 'POST',
      redirect: 'manual',
    })
    expect(read.status).toBe(303)
    expect((await (await h.call(`/sandbox/api/forsendelser/${id}`)).json()).status).toBe('LEST')
    expect(await (await h.call(`/sandbox?mottaker=${KOMMUNE}`)).text()).not.toContain('<button>Read</button>')
  })
})
