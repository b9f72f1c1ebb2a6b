import { X509Certificate } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { verifyJws } from '../../packaging/jws.js'
import { checkDpiDocument } from '../../sbd/dpi.js'
import { ManualClock } from '../../util/time.js'
import { openPackage } from './mailbox.js'
import {
  API,
  type Harness,
  harness,
  MAILBOX_PROVIDER,
  ORG_A,
  ORG_B,
  PRINT_PROVIDER,
  peek,
  poll,
  send,
  signedLetter,
  startRegistry,
  token,
} from './test-support.js'

// The mailbox's own checks are mailbox.ts's tests; here it opens every package, or refuses it.
vi.mock('./mailbox.js', () => ({ openPackage: vi.fn() }))
const opened = vi.mocked(openPackage)
const LETTER = Buffer.from('%PDF-1.4 vedtak\n%%EOF\n')

let registry: Awaited<ReturnType<typeof startRegistry>>
beforeAll(async () => {
  registry = await startRegistry()
}, 60_000)
afterAll(() => registry?.close())
beforeEach(() => {
  opened.mockReset()
  opened.mockImplementation(async (o) => {
    mkdirSync(o.workDir, { recursive: true })
    const path = join(o.workDir, 'vedtak.pdf')
    writeFileSync(path, LETTER)
    return {
      ok: true,
      manifest: {} as never,
      documents: [
        { href: 'vedtak.pdf', mime: 'application/pdf', title: 'Vedtak', path, size: LETTER.length },
      ],
    }
  })
})

const open: Harness[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()))
})

async function start(o: Parameters<typeof harness>[1] = {}) {
  const h = await harness(registry, o)
  open.push(h)
  return h
}

/** polls until `n` receipts wait (the chain runs on the stand-in's timers, its delays set to milliseconds) */
async function receipts(h: Harness, t: string, n: number, query = '') {
  return vi.waitFor(
    async () => {
      const { items } = await poll(h.url, t, query)
      if (items.length < n) throw new Error(`${items.length} of ${n} receipts`)
      return items
    },
    { timeout: 5_000, interval: 20 },
  )
}

const read = (h: Harness, t: string, id: string) =>
  fetch(`${h.url}${API}/messages/in/${id}/read`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t}` },
  })

const sandbox = async (h: Harness, path: string, body?: unknown) => {
  const res = await fetch(`${h.url}/sandbox/api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  })
  return {
    status: res.status,
    body: res.status === 204 ? undefined : ((await res.json()) as Record<string, any>),
  }
}

async function checkedReceipt(jws: string, provider: string) {
  const { payload, certificate } = await verifyJws(jws)
  const published = await (await fetch(`${registry.url}/virksert/${provider}`)).text()
  expect(certificate.raw.equals(new X509Certificate(published).raw)).toBe(true)
  const checked = checkDpiDocument(payload)
  expect(checked.ok).toBe(true)
  return peek(jws)
}

describe('digital post', () => {
  it('SENDT, then a leveringskvittering signed by the mailbox provider; read once, then gone', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'digital', aapningskvittering: true })
    expect((await send(h.url, l)).status).toBe(201)
    const [item] = await receipts(h, token(), 1, '?kanal=NO_DIFI_MOVE_INTEGRASJONSPUNKT')
    const receipt = await checkedReceipt(item!.forretningsmelding, MAILBOX_PROVIDER)
    expect(receipt.type).toBe('leveringskvittering')
    expect(item!.downloadurl).toBe(`${h.url}${API}/messages/in/${receipt.id}`)
    expect(h.published).toContainEqual([ORG_A])
    const statuses = await (
      await fetch(`${h.url}${API}/messages/out/${l.id}/statuses`, {
        headers: { authorization: `Bearer ${l.token}` },
      })
    ).json()
    expect(statuses.map((s: { status: string }) => s.status)).toEqual(['OPPRETTET', 'SENDT'])
    // another organisation, or another kanal, sees nothing
    expect((await poll(h.url, token(ORG_B))).status).toBe(204)
    expect((await poll(h.url, token(), '?kanal=other')).status).toBe(204)
    expect((await read(h, token(ORG_B), receipt.id)).status).toBe(404)
    expect((await read(h, token(), receipt.id)).status).toBe(200)
    expect((await read(h, token(), receipt.id)).status).toBe(404)
    expect((await poll(h.url, token())).status).toBe(204)

    // the citizen opens it: LEST and an aapningskvittering, once
    const first = await sandbox(h, `/messages/${l.id}/open`, {})
    expect(first.body).toMatchObject({ status: 'LEST', receiptMade: true })
    const second = await sandbox(h, `/messages/${l.id}/open`, {})
    expect(second.body).toMatchObject({ status: 'LEST', receiptMade: false })
    const [opening] = await receipts(h, token(), 1)
    expect((await checkedReceipt(opening!.forretningsmelding, MAILBOX_PROVIDER)).type).toBe(
      'aapningskvittering',
    )

    const doc = await fetch(first.body!.documents[0].url)
    expect(Buffer.from(await doc.arrayBuffer()).equals(LETTER)).toBe(true)
  })

  it('no aapningskvittering when the letter did not ask for one; a failed notice is a varslingfeiletkvittering', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    expect((await send(h.url, l)).status).toBe(201)
    await receipts(h, token(), 1)
    expect((await sandbox(h, `/messages/${l.id}/open`, {})).body).toMatchObject({ receiptMade: false })
    expect(
      (await sandbox(h, `/messages/${l.id}/notification-failed`, { varslingskanal: 'sms' })).status,
    ).toBe(200)
    const items = await receipts(h, token(), 2)
    const last = await checkedReceipt(items[1]!.forretningsmelding, MAILBOX_PROVIDER)
    expect(last).toMatchObject({ type: 'varslingfeiletkvittering', body: { varslingskanal: 'sms' } })
    expect(
      (await sandbox(h, `/messages/${l.id}/notification-failed`, { varslingskanal: 'brevdue' })).status,
    ).toBe(400)
  })

  it('a package the mailbox refuses is a feil (KLIENT) with the reason', async () => {
    opened.mockResolvedValue({ ok: false, reason: 'manifest.xml names the sender 0192:910077473.' })
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    expect((await send(h.url, l)).status).toBe(201)
    const [item] = await receipts(h, token(), 1)
    const receipt = await checkedReceipt(item!.forretningsmelding, MAILBOX_PROVIDER)
    expect(receipt).toMatchObject({
      type: 'feil',
      body: { feiltype: 'KLIENT', detaljer: 'manifest.xml names the sender 0192:910077473.' },
    })
    expect((await sandbox(h, `/messages/${l.id}`)).body).toMatchObject({ status: 'FEIL' })
    expect((await sandbox(h, `/messages/${l.id}/open`, {})).status).toBe(409)
  })

  it('filters by avsenderidentifikator, pages 0-based', async () => {
    const h = await start()
    for (const avsenderidentifikator of ['nav', 'nav', 'skatt']) {
      const l = await signedLetter(registry.dataDir, { type: 'digital', avsenderidentifikator })
      expect((await send(h.url, l)).status).toBe(201)
    }
    await receipts(h, token(), 3)
    expect((await poll(h.url, token(), '?avsenderidentifikator=nav')).items).toHaveLength(2)
    expect((await poll(h.url, token(), '?avsenderidentifikator=skatt')).items).toHaveLength(1)
    const page0 = (await poll(h.url, token(), '?page_size=2&page=0')).items
    const page1 = (await poll(h.url, token(), '?page_size=2&page=1')).items
    expect(page0).toHaveLength(2)
    expect(page1).toHaveLength(1)
    expect(page0.map((i) => i.forretningsmelding)).not.toContain(page1[0]!.forretningsmelding)
  })
})

describe('print', () => {
  it('mottakskvittering, leveringskvittering, then a returpostkvittering after printReturnAfterMs', async () => {
    const h = await start({ settings: { printReturnAfterMs: 10 } })
    const l = await signedLetter(registry.dataDir, { type: 'utskrift' })
    expect((await send(h.url, l)).status).toBe(201)
    const items = await receipts(h, token(), 3)
    const types = []
    for (const i of items) types.push((await checkedReceipt(i.forretningsmelding, PRINT_PROVIDER)).type)
    expect(types).toEqual(['mottakskvittering', 'leveringskvittering', 'returpostkvittering'])
    expect((await sandbox(h, `/messages/${l.id}`)).body).toMatchObject({
      status: 'RETURPOST',
      type: 'utskrift',
    })
    expect((await sandbox(h, `/messages/${l.id}/open`, {})).status).toBe(409)
  })

  it('without printReturnAfterMs no letter comes back unless the sandbox returns it', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'utskrift' })
    expect((await send(h.url, l)).status).toBe(201)
    await receipts(h, token(), 2)
    expect((await sandbox(h, `/messages/${l.id}`)).body).toMatchObject({ status: 'LEVERT' })
    expect((await sandbox(h, `/messages/${l.id}/return`, {})).body).toMatchObject({ status: 'RETURPOST' })
    const items = await receipts(h, token(), 3)
    expect(peek(items[2]!.forretningsmelding).type).toBe('returpostkvittering')
  })
})

describe('the sandbox', () => {
  it('finds a person’s letters through the registry: the mailbox address, the print address', async () => {
    const h = await start()
    const digital = await signedLetter(registry.dataDir, { type: 'digital' })
    const print = await signedLetter(registry.dataDir, { type: 'utskrift' })
    const stranger = await signedLetter(registry.dataDir, {
      type: 'digital',
      postkasseadresse: 'someone#9Z9Z',
    })
    for (const l of [digital, print, stranger]) expect((await send(h.url, l)).status).toBe(201)
    await receipts(h, token(), 4)
    const ids = async (fnr: string) =>
      (await sandbox(h, `/messages?recipient=${fnr}`)).body!.map((m: { messageId: string }) => m.messageId)
    expect(await ids('01819040180')).toEqual([digital.id])
    expect(await ids('15857540015')).toEqual([print.id])
    expect(await sandbox(h, '/messages').then((r) => r.body!.length)).toBe(3)
    const item = (await sandbox(h, `/messages/${digital.id}`)).body!
    expect(item).toMatchObject({
      messageId: digital.id,
      type: 'digital',
      status: 'LEVERT',
      sender: ORG_A,
      receipts: ['leveringskvittering'],
    })
    expect(item.documents).toEqual([
      expect.objectContaining({
        href: 'vedtak.pdf',
        title: 'Vedtak',
        mime: 'application/pdf',
        size: LETTER.length,
      }),
    ])
    const page = await fetch(`${h.url}/sandbox`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('ola.digital#1A2B')
  })

  it('queues a receipt signed by a key nobody publishes, and one that is no JWS', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    expect((await send(h.url, l)).status).toBe(201)
    await receipts(h, token(), 1)
    expect((await sandbox(h, '/receipts/invalid', { messageId: l.id })).status).toBe(201)
    expect(
      (await sandbox(h, '/receipts/invalid', { kanal: 'no_difi_move_integrasjonspunkt', garbage: true }))
        .status,
    ).toBe(201)
    const items = await receipts(h, token(), 3)
    const { certificate } = await verifyJws(items[1]!.forretningsmelding)
    const published = await (await fetch(`${registry.url}/virksert/${MAILBOX_PROVIDER}`)).text()
    expect(certificate.raw.equals(new X509Certificate(published).raw)).toBe(false)
    expect(items[2]!.forretningsmelding).toBe('this is not a JWS')
  })

  it('an error from the printer is a feil with the given feiltype', async () => {
    const h = await start({ settings: { printDelayMs: 3_600_000 } })
    const l = await signedLetter(registry.dataDir, { type: 'utskrift' })
    expect((await send(h.url, l)).status).toBe(201)
    await receipts(h, token(), 1)
    const res = await sandbox(h, `/messages/${l.id}/error`, {
      feiltype: 'SERVER',
      detaljer: 'Printer on fire',
    })
    expect(res.body).toMatchObject({ status: 'FEIL', detail: 'Printer on fire' })
    const items = await receipts(h, token(), 2)
    expect(peek(items[1]!.forretningsmelding)).toMatchObject({
      type: 'feil',
      body: { feiltype: 'SERVER', detaljer: 'Printer on fire' },
    })
  })

  it('reset forgets every letter', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    expect((await send(h.url, l)).status).toBe(201)
    await receipts(h, token(), 1)
    expect((await fetch(`${h.url}/sandbox/api/reset`, { method: 'POST' })).status).toBe(204)
    expect((await sandbox(h, '/messages')).body).toEqual([])
    expect((await poll(h.url, token())).status).toBe(204)
  })
})

describe('faults', () => {
  it('FEILET with the beskrivelse while feilet is set', async () => {
    const h = await start()
    const put = await fetch(`${h.url}/sandbox/api/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ feilet: 'Mottakers aksesspunkt svarer ikke' }),
    })
    expect(put.status).toBe(200)
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    expect((await send(h.url, l)).status).toBe(201)
    const statuses = await vi.waitFor(
      async () => {
        const list = await (
          await fetch(`${h.url}${API}/messages/out/${l.id}/statuses`, {
            headers: { authorization: `Bearer ${l.token}` },
          })
        ).json()
        if (list.length < 2) throw new Error('not yet')
        return list
      },
      { timeout: 5_000, interval: 20 },
    )
    expect(statuses[1]).toMatchObject({ status: 'FEILET', beskrivelse: 'Mottakers aksesspunkt svarer ikke' })
    expect(opened).not.toHaveBeenCalled()
  })

  it('FEILET when no access point serves the receiver (the registry made no key for it)', async () => {
    const h = await start()
    const l = await signedLetter(registry.dataDir, { type: 'digital', provider: '910229028' })
    expect((await send(h.url, l)).status).toBe(201)
    await vi.waitFor(
      async () => {
        const item = (await sandbox(h, `/messages/${l.id}`)).body!
        expect(item).toMatchObject({ status: 'FEILET', detail: expect.stringContaining('0192:910229028') })
      },
      { timeout: 5_000, interval: 20 },
    )
    expect(opened).not.toHaveBeenCalled()
    expect((await poll(h.url, token())).status).toBe(204)
  })

  it('an answer dropped after the letter was stored: the identical resend is 201 and it is delivered once', async () => {
    const h = await start({
      faults: { dropResponseRate: 1, applies: (m, url) => m === 'POST' && url.includes('/messages/out') },
    })
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    await expect(send(h.url, l)).rejects.toThrow()
    await fetch(`${h.url}/sandbox/api/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dropResponseRate: 0 }),
    })
    expect((await send(h.url, l)).status).toBe(201)
    await receipts(h, token(), 1)
    expect((await poll(h.url, token())).items).toHaveLength(1)
    expect(opened).toHaveBeenCalledTimes(1)
  })

  it('503 problem+json while errorRate is 1; the sandbox is spared', async () => {
    const h = await start({ faults: { errorRate: 1 } })
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    const res = await send(h.url, l)
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ status: 503, type: 'urn:dpi-stand-in:problem:unavailable' })
    expect((await sandbox(h, '/messages')).status).toBe(200)
  })
})

describe('a restart', () => {
  it('keeps the letters and receipts, and resumes a step that was pending', async () => {
    const clock = new ManualClock(new Date())
    let mailboxDown = true
    const normal = opened.getMockImplementation()!
    opened.mockImplementation(async (o) => {
      if (mailboxDown) throw new Error('the mailbox is down')
      return normal(o)
    })
    const h = await start({ clock, settings: { handoverDelayMs: 0 } })
    const l = await signedLetter(registry.dataDir, { type: 'digital' })
    expect((await send(h.url, l)).status).toBe(201)
    await vi.waitFor(async () => {
      expect((await sandbox(h, `/messages/${l.id}`)).body).toMatchObject({ status: 'SENDT' })
      expect(opened).toHaveBeenCalled()
    })
    mailboxDown = false
    clock.advance(10_000)
    await h.restart()
    const [item] = await receipts(h, token(), 1)
    expect(peek(item!.forretningsmelding).type).toBe('leveringskvittering')
    expect((await sandbox(h, `/messages/${l.id}`)).body).toMatchObject({ status: 'LEVERT' })
    // the answered receipt stays read over a restart too
    expect((await read(h, token(), peek(item!.forretningsmelding).id)).status).toBe(200)
    await h.restart()
    expect((await poll(h.url, token())).status).toBe(204)
    expect((await sandbox(h, '/messages')).body).toHaveLength(1)
  })
})
