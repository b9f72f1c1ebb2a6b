import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import yauzl from 'yauzl'
import { ARKIVMELDING, MESSAGE_ID } from '../src/channels/dpf/test-support.js'
import { makeIdentity } from '../src/packaging/test-support.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { type DpfWorld, KOMMUNE, SENDER, startDpfWorld } from './support/dpf-world.js'
import { eventually, json } from './support/poll.js'

warnIfPostgresSkipped()

type Json = Record<string, any>
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

const idOf = (sbd: Json): string =>
  sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier

const PDF = Buffer.from(`%PDF-1.4 vedtak ${'x'.repeat(50_000)}`)
const DOCX = Buffer.from(`PK docx ${'y'.repeat(20_000)}`)

/** An arkivmelding to the municipality, one-step multipart: the fixture's vedtak.pdf and vedlegg.docx, and a file it does not name. */
async function sendArkivmelding(
  w: DpfWorld,
  edit: (sbd: Json) => void = () => {},
): Promise<{ messageId: string }> {
  const proto = await json(`${w.ip.url}/api/prototype/arkivmelding?receiverIdentifier=${KOMMUNE}`)
  expect(proto.status, JSON.stringify(proto.body)).toBe(200)
  const sbd = proto.body
  sbd.arkivmelding = { hoveddokument: 'vedtak.pdf', sikkerhetsnivaa: 3 }
  edit(sbd)
  const messageId = idOf(sbd)
  const form = new FormData()
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  const files: [string, Buffer | string, string][] = [
    ['arkivmelding.xml', ARKIVMELDING.replaceAll(MESSAGE_ID, messageId), 'application/xml'],
    ['vedlegg.docx', DOCX, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ['vedtak.pdf', PDF, 'application/pdf'],
    ['ikke-nevnt.txt', 'not named by the arkivmelding', 'text/plain'],
  ]
  for (const [name, bytes, type] of files) {
    const data = typeof bytes === 'string' ? bytes : new Uint8Array(bytes)
    form.append(`Tittel ${name}`, new Blob([data], { type }), name)
  }
  const res = await fetch(`${w.ip.url}/api/messages/out/multipart`, { method: 'POST', body: form })
  expect(res.status, await res.clone().text()).toBe(200)
  return { messageId }
}

const peekAll = async (w: DpfWorld): Promise<Json[]> => {
  const out: Json[] = []
  for (;;) {
    const r = await json(`${w.ip.url}/api/messages/in/peek`)
    if (r.status !== 200) return out
    out.push(r.body)
    expect((await fetch(`${w.ip.url}/api/messages/in/${idOf(r.body)}`, { method: 'DELETE' })).status).toBe(
      200,
    )
  }
}

/** the entries of a zip (the popped ASiC-E) by name */
async function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((ok, fail) =>
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (e, z) => (e ? fail(e) : ok(z!))),
  )
  const out = new Map<string, Buffer>()
  await new Promise<void>((ok, fail) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (e, s) => {
        if (e) return fail(e)
        const chunks: Buffer[] = []
        s!.on('data', (c: Buffer) => chunks.push(c))
        s!.on('end', () => {
          out.set(entry.fileName, Buffer.concat(chunks))
          zip.readEntry()
        })
      })
    })
    zip.on('end', ok)
    zip.on('error', fail)
    zip.readEntry()
  })
  return out
}

describe.each(STORES)('DPF through the SvarUt stand-in on %s', (kind) => {
  let w: DpfWorld | undefined
  afterEach(async () => {
    await w?.close()
    w = undefined
  })

  it("sends an arkivmelding as the reference's organisation forsendelse: SENDT and LEVERT, LEST once the municipality reads it", async () => {
    w = await startDpfWorld(kind)
    const { messageId } = await sendArkivmelding(w)
    const f = await w.forsendelseOf(messageId)
    // committed here only a moment after SvarUt answered
    await w.untilStatuses(messageId, ['LEVERT'])
    expect(await w.statuses(messageId)).toEqual(['OPPRETTET', 'SENDT', 'LEVERT'])
    // the id SvarUt gave is the one kept (the reference keeps its own, which SvarUt never issued)
    const conversation = (await json(`${w.ip.url}/api/conversations/messageId/${messageId}`)).body
    expect(conversation.externalSystemReference).toBe(f.id)
    expect(f).toMatchObject({ avsender: SENDER, mottaker: KOMMUNE, kontoId: expect.any(String) })
    expect(f.forsendelse).toMatchObject({
      tittel: 'Vedtak i sak 2026/12',
      eksternReferanse: messageId,
      mottaker: {
        navn: 'TEST - SANDKASSE KOMMUNE',
        digitalId: KOMMUNE,
        adresse: { adresselinje1: 'Rådhusplassen 1', postnummer: '0037', poststed: 'OSLO' },
      },
      svarSendesTil: {
        navn: 'Digdir',
        type: 'ORGANISASJON',
        digitalId: SENDER,
        adresse: { adresselinje1: 'Postboks 1382 Vika', postnummer: '0114', poststed: 'OSLO' },
      },
      kryptert: true,
      kunDigitalLevering: false,
      utskriftskonfigurasjon: { tosidig: true },
      sikkerhetsniva: 'BETYDELIG',
      metadataFraAvleverendeSystem: {
        saksaar: 2026,
        sakssekvensnummer: 12,
        journalaar: 2026,
        journalsekvensnummer: 345,
        journalpostnummer: 3,
        journalposttype: 'U',
        journalstatus: 'E',
        journaldato: '2026-08-20T00:00:00+02:00',
        dokumentetsDato: '2026-08-20T00:00:00+02:00',
        tittel: 'Vedtak i sak 2026/12',
        saksbehandler: 'Kari Nordmann',
      },
    })
    // the main document first, only those the arkivmelding names, decrypted by SvarUt byte for byte
    expect(f.dokumenter.map((d: Json) => [d.filnavn, d.mimeType, d.sha256])).toEqual([
      ['vedtak.pdf', 'application/pdf', sha(PDF)],
      ['vedlegg.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', sha(DOCX)],
    ])

    await w.read(f.id)
    expect(await w.untilStatuses(messageId, ['LEST'])).toEqual(['OPPRETTET', 'SENDT', 'LEVERT', 'LEST'])
    // as the reference: an OK arkivmelding_kvittering from the municipality for the fagsystem, once
    const receipts = await eventually(async () => {
      const got = await peekAll(w!)
      return got.length ? got : undefined
    }, 'the receipt')
    expect(
      receipts.map((r) => [
        r.standardBusinessDocumentHeader.sender[0].identifier.value,
        r.arkivmelding_kvittering,
      ]),
    ).toEqual([[`0192:${KOMMUNE}`, { receiptType: 'OK', relatedToMessageId: messageId, messages: [] }]])
    expect(await peekAll(w)).toEqual([])
    expect(await w.forsendelser()).toHaveLength(1)
  })

  it("a lost answer is not sent twice: the retry finds the forsendelse by eksternRef and keeps SvarUt's id", async () => {
    w = await startDpfWorld(kind)
    w.faultOn = (method, url) => method === 'POST' && url.includes('/forsendelser/organisasjon')
    w.fault = 'drop'
    const { messageId } = await sendArkivmelding(w)
    await w.untilStatuses(messageId, ['LEVERT'])
    const all = (await w.forsendelser()).filter((f) => f.eksternRef === messageId)
    expect(all).toHaveLength(1)
    const conversation = (await json(`${w.ip.url}/api/conversations/messageId/${messageId}`)).body
    expect(conversation.externalSystemReference).toBe(all[0]!.id)
  })

  it('a passing failure (503) is tried again; a refusal (400) is FEIL with what SvarUt said', async () => {
    w = await startDpfWorld(kind)
    w.faultOn = (method, url) => method === 'POST' && url.includes('/forsendelser/organisasjon')
    w.fault = 'error'
    const { messageId } = await sendArkivmelding(w)
    await new Promise((r) => setTimeout(r, 500))
    expect(await w.statuses(messageId)).toEqual(['OPPRETTET'])
    w.fault = 'none'
    await w.untilStatuses(messageId, ['LEVERT'])

    // a forsendelsestype SvarUt does not have: 400, never right however often it is sent. The create checks
    // the type against SvarUt's list too; with the list unavailable the message is taken unchecked
    w.faultOn = (method, url) => method === 'GET' && url.startsWith('/api/v2/forsendelsestyper')
    w.fault = 'error'
    const refused = await sendArkivmelding(w, (sbd) => {
      sbd.arkivmelding.dpf = { forsendelseType: 'Ukjent type' }
    })
    const got = await w.untilStatuses(refused.messageId, ['FEIL'])
    expect(got).toEqual(['OPPRETTET', 'FEIL'])
    const feil = (await json(`${w.ip.url}/api/statuses/${refused.messageId}?sort=id`)).body.content.at(-1)
    expect(feil.description).toMatch(/SvarUt .*400.*forsendelsestype/i)
    expect((await w.forsendelser()).filter((f) => f.eksternRef === refused.messageId)).toEqual([])
  })

  it('what SvarUt could not deliver is FEIL with its reason; print is ANNET and LEST still follows', async () => {
    w = await startDpfWorld(kind)
    const avvist = await sendArkivmelding(w)
    const printed = await sendArkivmelding(w)
    const [fa, fp] = [await w.forsendelseOf(avvist.messageId), await w.forsendelseOf(printed.messageId)]
    await w.untilStatuses(avvist.messageId, ['LEVERT'])
    await w.untilStatuses(printed.messageId, ['LEVERT'])
    await w.setStatus(fa.id, 'AVVIST', 'Mangler adresse')
    await w.setStatus(fp.id, 'SENDT_PRINT')
    expect(await w.untilStatuses(avvist.messageId, ['FEIL'])).toEqual([
      'OPPRETTET',
      'SENDT',
      'LEVERT',
      'FEIL',
    ])
    const feil = (await json(`${w.ip.url}/api/statuses/${avvist.messageId}?sort=id`)).body.content.at(-1)
    expect(feil.description).toContain('AVVIST')
    await w.untilStatuses(printed.messageId, ['ANNET'])
    await w.read(fp.id)
    expect(await w.untilStatuses(printed.messageId, ['LEST'])).toEqual([
      'OPPRETTET',
      'SENDT',
      'LEVERT',
      'ANNET',
      'LEST',
    ])
  })

  it("takes in a municipality's forsendelse from SvarInn: an arkivmelding with a generated arkivmelding.xml and the documents intact, acknowledged once committed", async () => {
    w = await startDpfWorld(kind)
    const pdf = Buffer.from(`%PDF-1.4 svar ${'s'.repeat(70_000)}`)
    const id = await w.answer({
      mottaker: SENDER,
      tittel: 'Svar på vedtak',
      files: { 'svar.pdf': pdf, 'kart.pdf': 'kart' },
    })
    const peeked = await eventually(async () => {
      const r = await json(`${w!.ip.url}/api/messages/in/peek?messageId=${id}`)
      return r.status === 200 ? r.body : undefined
    }, 'the forsendelse in the queue')
    const h = peeked.standardBusinessDocumentHeader
    expect(h.sender[0].identifier.value).toBe(`0192:${KOMMUNE}`)
    expect(h.receiver[0].identifier.value).toBe(`0192:${SENDER}`)
    expect(h.documentIdentification).toMatchObject({ type: 'arkivmelding', instanceIdentifier: id })
    const popped = await fetch(`${w.ip.url}/api/messages/in/pop/${id}`)
    expect(popped.status).toBe(200)
    const entries = await unzip(Buffer.from(await popped.arrayBuffer()))
    expect(sha(entries.get('svar.pdf')!)).toBe(sha(pdf))
    expect(entries.get('kart.pdf')!.toString()).toBe('kart')
    const xml = entries.get('arkivmelding.xml')!.toString('utf8')
    expect(xml).toContain('<offentligTittel>Svar på vedtak</offentligTittel>')
    expect(xml).toContain('<referanseDokumentfil>svar.pdf</referanseDokumentfil>')
    expect(xml).toContain('<referanseDokumentfil>kart.pdf</referanseDokumentfil>')
    // acknowledged: SvarUt says LEST to the municipality and SvarInn lists it no more
    await eventually(async () => {
      const f = (await w!.forsendelser(SENDER)).find((x) => x.id === id)
      return f?.status === 'LEST' ? f : undefined
    }, 'LEST at SvarUt')
    expect((await fetch(`${w.ip.url}/api/messages/in/${id}`, { method: 'DELETE' })).status).toBe(200)
    expect(await peekAll(w)).toEqual([])
  })

  it('an acknowledgement lost before a restart takes the forsendelse in once', async () => {
    w = await startDpfWorld(kind)
    // SvarUt fails the acknowledgement before acting on it: the integration point has committed, SvarUt not
    w.faultOn = (method, url) => method === 'POST' && url.includes('/kvitterMottak/')
    w.fault = 'error'
    const id = await w.answer({ mottaker: SENDER, tittel: 'Svar', files: { 'svar.pdf': 'svar' } })
    await eventually(async () => {
      const r = await fetch(`${w!.ip.url}/api/messages/in?messageId=${id}`)
      const body = (await r.json()) as Json
      return body.content?.length === 1 ? true : undefined
    }, 'the forsendelse in the queue')
    // committed, but SvarUt never heard the acknowledgement: still listed
    expect((await w.forsendelser(SENDER)).find((x) => x.id === id)?.status).toBe('KLAR_FOR_MOTTAK')
    await w.stopIp()
    w.fault = 'none'
    await w.startIp()
    w.ip.nudgeReceivers()
    await eventually(async () => {
      const f = (await w!.forsendelser(SENDER)).find((x) => x.id === id)
      return f?.status === 'LEST' ? f : undefined
    }, 'LEST at SvarUt')
    const list = (await json(`${w.ip.url}/api/messages/in?messageId=${id}`)).body
    expect(list.content).toHaveLength(1)
    expect((await peekAll(w)).map(idOf)).toEqual([id])
  })
})

describe('a SvarInn forsendelse that can never be taken in', () => {
  let w: DpfWorld | undefined
  let keys: string | undefined
  afterEach(async () => {
    await w?.close()
    w = undefined
    if (keys) rmSync(keys, { recursive: true, force: true })
  })

  it('is reported with mottakFeilet (permanent) and not fetched again', async () => {
    keys = mkdtempSync(join(tmpdir(), 'dpf-other-'))
    // SvarInn encrypts to a certificate that is not ours: it cannot be decrypted here, ever
    const other = makeIdentity(keys, 'other')
    w = await startDpfWorld('sqlite', { mottakerCertificatePem: other.certPem })
    const id = await w.answer({ mottaker: SENDER, tittel: 'Uleselig', files: { 'a.pdf': 'a' } })
    const f = await eventually(async () => {
      const x = (await w!.forsendelser(SENDER)).find((y) => y.id === id)
      return x?.status === 'VARSLET' ? x : undefined
    }, 'mottakFeilet at SvarUt')
    expect(JSON.stringify(f.hendelser)).toMatch(/Mottak feilet hos 910075918 \(permanent\)/)
    expect(await peekAll(w)).toEqual([])
    const downloads = f.downloads
    w.ip.nudgeReceivers()
    await new Promise((r) => setTimeout(r, 600))
    expect((await w.forsendelser(SENDER)).find((y) => y.id === id)?.downloads).toBe(downloads)
  })
})
