// DPI's statuses, receipts and reliability end to end (issue 19: statuses and receipts, never twice, a
// reserved person), through the access point stand-in on both stores. Each test asserts the exact status
// list the integration point registers, and what the stand-in says: its letters, the receipts it queued and
// whether each was acknowledged (`POST /messages/in/{id}/read`).

import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import {
  DIGITAL_PERSON,
  type DpiWorld,
  PRINT_PERSON,
  RESERVED_PERSON,
  sendLetter,
  standInReceipts,
  startDpiWorld,
  statusItems,
  takenReceipts,
} from './support/dpi-world.js'
import { eventually, json } from './support/poll.js'

warnIfPostgresSkipped()

type Json = Record<string, any>

const VEDTAK = 'urn:no:difi:profile:digitalpost:vedtak:ver1.0'

/** the reference's descriptions (its MessageStatusMapper and DpiStatusStrategy) */
const TEXT = {
  levert: 'Kvittering på at digital post er tilgjengeliggjort eller at fysisk post er klargjort for utskrift',
  lest: 'Kvittering fra Innbygger for at digital post er åpnet',
  mottak: 'Kvittering fra utskrift og forsendelsestjenesten om at melding er mottatt og lagt til print',
  varsling: 'Kvittering for at en spesifisert varsling ikke har blitt sendt',
  retur: 'Kvittering fra utskrift og forsendelsestjenesten om at posten ikke har blitt levert til Mottaker.',
  feil: 'Generell melding om at det har skjedd en feil',
}

const withOpeningReceipt = (sbd: Json) => {
  sbd.digital.digitalPostInfo = { virkningsdato: '2026-12-01', aapningskvittering: true }
}

async function sent(
  w: DpiWorld,
  type: 'digital' | 'print',
  person: string,
  edit?: (sbd: Json) => void,
): Promise<string> {
  const res = await sendLetter(w, type, person, edit)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.messageId
}

/** the stand-in's `PUT /sandbox/api/faults`; `only` narrows its HTTP faults to the send or to `read` */
async function faults(
  w: DpiWorld,
  f: {
    errorRate?: number
    dropResponseRate?: number
    feilet?: string | null
    only?: 'send' | 'read' | null
  },
): Promise<void> {
  const res = await w.sandbox('/faults', f, 'PUT')
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  expect(res.body).toMatchObject(f)
}

/**
 * A plain HTTP proxy in front of the access point that counts the uploads (`POST /messages/out`) reaching
 * it: the stand-in answers an identical or a refused resend without a trace, so only this sees one.
 */
async function uploadCounter() {
  let target = ''
  const uploads: string[] = []
  const server = createServer((req, res) => {
    if (req.method === 'POST' && /\/messages\/out(\?|$)/.test(req.url ?? '')) uploads.push(req.url ?? '')
    const up = request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    })
    // the stand-in's dropped answer: drop ours too
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    uploads,
    forwardTo(url: string) {
      target = url
    },
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** waits until the stand-in has queued `types` for the letter and every one of them was acknowledged */
function untilAllRead(w: DpiWorld, messageId: string, types: string[]) {
  return eventually(
    async () => {
      const rs = standInReceipts(w, messageId)
      return rs.length === types.length && rs.every((r) => r.read) ? rs : undefined
    },
    `${types.join(', ')} of ${messageId} read at the access point`,
  )
}

const descriptionOf = async (w: DpiWorld, messageId: string, status: string) =>
  (await statusItems(w, messageId)).find((s) => s.status === status)?.description

/** the integration point's record of the letter's conversation */
async function conversation(w: DpiWorld, messageId: string) {
  return w.ip.db.kysely
    .selectFrom('conversations')
    .select(['pollable', 'finished', 'latest_status'])
    .where('message_id', '=', messageId)
    .where('direction', '=', 'OUTGOING')
    .executeTakeFirstOrThrow()
}

async function sendJobs(w: DpiWorld, messageId: string) {
  return w.ip.db.kysely
    .selectFrom('jobs')
    .select(['kind', 'attempts', 'state', 'last_error'])
    .where('message_id', '=', messageId)
    .where('kind', '=', 'send:DPI')
    .execute()
}

/** waits until the letter's send job has ended (a receipt may be registered before it has) */
const untilSendEnded = (w: DpiWorld, messageId: string) =>
  eventually(async () => {
    const jobs = await sendJobs(w, messageId)
    return jobs.length > 0 && jobs.every((j) => j.state !== 'PENDING') ? jobs : undefined
  }, `the send job of ${messageId} ended`)

describe.each(STORES)('DPI receipts and statuses through the access point stand-in (%s)', (kind) => {
  let w: DpiWorld | undefined
  let proxy: Awaited<ReturnType<typeof uploadCounter>> | undefined
  afterEach(async () => {
    await w?.close()
    await proxy?.close()
    w = undefined
    proxy = undefined
  })

  it('a leveringskvittering gives MOTTATT and LEVERT, an aapningskvittering LEST; each stored, then read', async () => {
    w = await startDpiWorld(kind)
    const id = await sent(w, 'digital', DIGITAL_PERSON, withOpeningReceipt)
    await w.untilStatuses(id, ['LEVERT'])
    const [levering] = await untilAllRead(w, id, ['leveringskvittering'])
    expect(levering!.type).toBe('leveringskvittering')
    expect(await w.statuses(id)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    expect(await descriptionOf(w, id, 'LEVERT')).toBe(TEXT.levert)

    const opened = await w.sandbox(`/messages/${id}/open`)
    expect(opened.status, JSON.stringify(opened.body)).toBe(200)
    expect(opened.body.receiptMade).toBe(true)
    await w.untilStatuses(id, ['LEST'])
    const receipts = await untilAllRead(w, id, ['leveringskvittering', 'aapningskvittering'])
    expect(receipts.map((r) => r.type)).toEqual(['leveringskvittering', 'aapningskvittering'])
    expect(await w.statuses(id)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'LEST'])
    expect(await descriptionOf(w, id, 'LEST')).toBe(TEXT.lest)
    const taken = await takenReceipts(w)
    expect(taken.map((t) => [t.receiptId, t.outcome, t.messageId])).toEqual(
      receipts.map((r) => [r.id, 'registered', id]),
    )
    expect((await w.messageOf(id)).status).toBe('LEST')
  })

  it("print: the printer's mottakskvittering gives LEVERT; its leveringskvittering after it adds nothing", async () => {
    w = await startDpiWorld(kind)
    const id = await sent(w, 'print', PRINT_PERSON)
    const receipts = await untilAllRead(w, id, ['mottakskvittering', 'leveringskvittering'])
    expect(receipts.map((r) => r.type)).toEqual(['mottakskvittering', 'leveringskvittering'])
    expect(await w.statuses(id)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    // the first receipt decides LEVERT's description (the reference maps both to LEVERT)
    expect(await descriptionOf(w, id, 'LEVERT')).toBe(TEXT.mottak)
    expect((await takenReceipts(w)).map((t) => [t.receiptId, t.outcome])).toEqual(
      receipts.map((r) => [r.id, 'registered']),
    )
    expect((await w.messageOf(id)).status).toBe('LEVERT')
  })

  it('a varslingfeiletkvittering (e-mail, SMS) gives FEIL with the channel and the text', async () => {
    w = await startDpiWorld(kind)
    const byMail = await sent(w, 'digital', DIGITAL_PERSON)
    const bySms = await sent(w, 'digital', DIGITAL_PERSON)
    for (const id of [byMail, bySms]) await w.messageOf(id, (m) => m.status === 'LEVERT')
    const mail = await w.sandbox(`/messages/${byMail}/notification-failed`, {
      varslingskanal: 'epost',
      beskrivelse: 'Postkassen er full',
    })
    expect(mail.status, JSON.stringify(mail.body)).toBe(200)
    const sms = await w.sandbox(`/messages/${bySms}/notification-failed`, { varslingskanal: 'sms' })
    expect(sms.status, JSON.stringify(sms.body)).toBe(200)
    for (const id of [byMail, bySms]) {
      await untilAllRead(w, id, ['leveringskvittering', 'varslingfeiletkvittering'])
      expect(await w.statuses(id)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'FEIL'])
    }
    expect(await descriptionOf(w, byMail, 'FEIL')).toBe(`${TEXT.varsling} (epost: Postkassen er full)`)
    expect(await descriptionOf(w, bySms, 'FEIL')).toBe(`${TEXT.varsling} (sms)`)
  })

  it('a returpostkvittering from the sandbox gives FEIL, and nothing more is printed', async () => {
    w = await startDpiWorld(kind)
    const id = await sent(w, 'print', PRINT_PERSON)
    await untilAllRead(w, id, ['mottakskvittering', 'leveringskvittering'])
    const back = await w.sandbox(`/messages/${id}/return`)
    expect(back.status, JSON.stringify(back.body)).toBe(200)
    const receipts = await untilAllRead(w, id, [
      'mottakskvittering',
      'leveringskvittering',
      'returpostkvittering',
    ])
    expect(receipts.map((r) => r.type)).toEqual([
      'mottakskvittering',
      'leveringskvittering',
      'returpostkvittering',
    ])
    expect(await w.statuses(id)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'FEIL'])
    expect(await descriptionOf(w, id, 'FEIL')).toBe(TEXT.retur)
    expect((await w.messageOf(id)).status).toBe('RETURPOST')
  })

  it('a letter the printer returns by itself (printReturnAfterMs) gives FEIL', async () => {
    w = await startDpiWorld(kind, { settings: { printReturnAfterMs: 100 } })
    const id = await sent(w, 'print', PRINT_PERSON)
    const all = ['mottakskvittering', 'leveringskvittering', 'returpostkvittering']
    expect((await untilAllRead(w, id, all)).map((r) => r.type)).toEqual(all)
    expect(await w.statuses(id)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'FEIL'])
    expect(await descriptionOf(w, id, 'FEIL')).toBe(TEXT.retur)
  })

  it('a feil receipt (KLIENT, SERVER) gives FEIL with its feiltype and detaljer', async () => {
    w = await startDpiWorld(kind)
    const klient = await sent(w, 'digital', DIGITAL_PERSON)
    const server = await sent(w, 'print', PRINT_PERSON)
    await w.messageOf(klient, (m) => m.status === 'LEVERT')
    await w.messageOf(server, (m) => m.status === 'LEVERT')
    const k = await w.sandbox(`/messages/${klient}/error`, {
      feiltype: 'KLIENT',
      detaljer: 'Dokumentet kan ikke vises',
    })
    expect(k.status, JSON.stringify(k.body)).toBe(200)
    const s = await w.sandbox(`/messages/${server}/error`, {
      feiltype: 'SERVER',
      detaljer: 'Printeren er nede',
    })
    expect(s.status, JSON.stringify(s.body)).toBe(200)
    await untilAllRead(w, klient, ['leveringskvittering', 'feil'])
    await untilAllRead(w, server, ['mottakskvittering', 'leveringskvittering', 'feil'])
    expect(await w.statuses(klient)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'FEIL'])
    expect(await w.statuses(server)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'FEIL'])
    expect(await descriptionOf(w, klient, 'FEIL')).toBe(`${TEXT.feil} (KLIENT: Dokumentet kan ikke vises)`)
    expect(await descriptionOf(w, server, 'FEIL')).toBe(`${TEXT.feil} (SERVER: Printeren er nede)`)
    // the API's own JSON carries it too
    const api = await json(`${w.ip.url}/api/statuses/${server}`)
    expect(api.body.content.find((x: Json) => x.status === 'FEIL').description).toContain('Printeren er nede')
  })

  it('a receipt signed by an unknown key, and one that is no JWS, are set aside, read, and block nothing', async () => {
    w = await startDpiWorld(kind)
    // a letter that never reaches a mailbox: a leveringskvittering believed would show as MOTTATT and LEVERT
    await faults(w, { feilet: 'Mottakers aksesspunkt er stengt' })
    const failed = await sent(w, 'digital', DIGITAL_PERSON)
    await w.untilStatuses(failed, ['FEIL'])
    await faults(w, { feilet: null })
    const forged = await w.sandbox('/receipts/invalid', { messageId: failed })
    expect(forged.status, JSON.stringify(forged.body)).toBe(201)
    const garbage = await w.sandbox('/receipts/invalid', { messageId: failed, garbage: true })
    expect(garbage.status, JSON.stringify(garbage.body)).toBe(201)
    // queued after the two bad ones, in the same channel
    const good = await sent(w, 'digital', DIGITAL_PERSON)
    await w.untilStatuses(good, ['LEVERT'])
    await untilAllRead(w, good, ['leveringskvittering'])
    expect(await w.statuses(good)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])

    const bad = await untilAllRead(w, failed, ['leveringskvittering', 'garbage'])
    expect(bad.map((r) => r.id)).toEqual([forged.body.id, garbage.body.id])
    expect(await w.statuses(failed)).toEqual(['OPPRETTET', 'SENDT', 'FEIL'])
    const taken = await takenReceipts(w)
    const forgedRow = taken.find((t) => t.receiptId === forged.body.id)
    expect(forgedRow).toMatchObject({ outcome: 'set-aside', messageId: failed })
    expect(forgedRow!.reason).toMatch(/not with the certificate of the provider the letter went to/)
    const garbageRow = taken.find((t) => t.receiptId === garbage.body.id)
    expect(garbageRow).toMatchObject({ outcome: 'set-aside', messageId: null })
    expect(garbageRow!.reason).toMatch(/^DPI receipt refused: /)
    const goodId = standInReceipts(w, good)[0]!.id
    expect(taken.find((t) => t.receiptId === goodId)).toMatchObject({
      outcome: 'registered',
      messageId: good,
    })
  })

  it('a restart between storing a receipt and acknowledging it: acknowledged after the start, registered once', async () => {
    w = await startDpiWorld(kind)
    await faults(w, { errorRate: 1, only: 'read' })
    const id = await sent(w, 'digital', DIGITAL_PERSON)
    await w.untilStatuses(id, ['LEVERT'])
    const [receipt] = standInReceipts(w, id)
    expect(receipt).toMatchObject({ type: 'leveringskvittering', read: false })
    await eventually(async () =>
      (await takenReceipts(w!)).some((t) => t.receiptId === receipt!.id) ? true : undefined,
    )
    expect(standInReceipts(w, id)[0]!.read).toBe(false)
    await w.stopIp()
    await faults(w, { errorRate: 0, only: null })
    await w.startIp()
    await untilAllRead(w, id, ['leveringskvittering'])
    expect(await w.statuses(id)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    const taken = (await takenReceipts(w)).filter((t) => t.receiptId === receipt!.id)
    expect(taken.map((t) => [t.outcome, t.messageId])).toEqual([['registered', id]])
  })

  it('never twice: after a lost answer the access point is asked, and the letter is not uploaded again', async () => {
    proxy = await uploadCounter()
    w = await startDpiWorld(kind, { props: { 'difi.move.dpi.uri': `${proxy.url}/api/v2/dpi` } })
    proxy.forwardTo(w.dpiUrl)
    await faults(w, { dropResponseRate: 1, only: 'send' })
    const id = await sent(w, 'digital', DIGITAL_PERSON)
    await w.messageOf(id)
    // the first attempt's answer was lost: the send was tried again
    await eventually(async () => ((await sendJobs(w!, id)).some((j) => j.attempts >= 2) ? true : undefined))
    await faults(w, { dropResponseRate: 0, only: null })
    await w.untilStatuses(id, ['LEVERT'])
    expect((await untilSendEnded(w, id)).map((j) => j.state)).toEqual(['DONE'])
    expect(proxy.uploads).toHaveLength(1)
    expect(await w.statuses(id)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    // the receipt may be taken before the retry learns that the letter arrived: SENDT never comes last
    expect(await conversation(w, id)).toMatchObject({ latest_status: 'LEVERT', finished: 1 })
    expect((await w.messages()).filter((m) => m.messageId === id)).toHaveLength(1)
    expect((await w.messageOf(id)).receipts).toEqual(['leveringskvittering'])
  })

  it("the access point's FEILET gives FEIL with its text, and the letter is no longer polled", async () => {
    w = await startDpiWorld(kind)
    await faults(w, { feilet: 'Mottakers aksesspunkt svarer ikke' })
    const id = await sent(w, 'digital', DIGITAL_PERSON)
    await w.untilStatuses(id, ['FEIL'])
    expect(await w.statuses(id)).toEqual(['OPPRETTET', 'SENDT', 'FEIL'])
    expect(await descriptionOf(w, id, 'FEIL')).toBe(`${TEXT.feil}: Mottakers aksesspunkt svarer ikke`)
    expect(await conversation(w, id)).toMatchObject({ pollable: 0, latest_status: 'FEIL' })
    const letter = await w.messageOf(id)
    expect(letter).toMatchObject({
      status: 'FEILET',
      detail: 'Mottakers aksesspunkt svarer ikke',
      receipts: [],
    })
  })

  it('a 503 from the access point on the upload is retried, and the letter delivered once', async () => {
    w = await startDpiWorld(kind)
    await faults(w, { errorRate: 1, only: 'send' })
    const id = await sent(w, 'digital', DIGITAL_PERSON)
    const jobs = await eventually(async () => {
      const js = await sendJobs(w!, id)
      return js.some((j) => j.attempts >= 2) ? js : undefined
    }, 'two attempts')
    expect(jobs.map((j) => j.last_error).join()).toMatch(/503/)
    expect(await w.statuses(id)).toEqual(['OPPRETTET'])
    expect((await w.messages()).filter((m) => m.messageId === id)).toEqual([])
    await faults(w, { errorRate: 0, only: null })
    await w.untilStatuses(id, ['LEVERT'])
    expect((await untilSendEnded(w, id)).map((j) => j.state)).toEqual(['DONE'])
    expect(await w.statuses(id)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    expect((await w.messages()).filter((m) => m.messageId === id)).toHaveLength(1)
  })

  it('a person reserved against digital post gets vedtak on paper, and a digital vedtak is refused at create', async () => {
    w = await startDpiWorld(kind)
    const caps = await json(`${w.ip.url}/api/capabilities/${RESERVED_PERSON}`)
    expect(caps.status).toBe(200)
    const vedtak = (caps.body.capabilities as Json[]).filter((c) => c.process === VEDTAK)
    // as the reference's DpiMessageRouter: vedtak respects the reservation (information letters do not)
    expect(vedtak).toHaveLength(1)
    expect(vedtak[0]).toMatchObject({
      serviceIdentifier: 'DPI',
      documentTypes: [{ type: 'print', standard: 'urn:no:difi:digitalpost:xsd:fysisk::print' }],
      postAddress: { name: 'Per Reservert', street: 'Kongens gate 1', postalCode: '7011' },
    })

    const letter = await sendLetter(w, 'print', RESERVED_PERSON, () => {}, undefined, `&process=${VEDTAK}`)
    expect(letter.status, JSON.stringify(letter.body)).toBe(200)
    await w.untilStatuses(letter.messageId, ['LEVERT'])
    expect(await w.statuses(letter.messageId)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    const printed = (await w.messages(RESERVED_PERSON)).filter((m) => m.messageId === letter.messageId)
    expect(printed).toMatchObject([{ type: 'utskrift', recipient: 'Per Reservert' }])

    const proto = await json(
      `${w.ip.url}/api/prototype/digital?receiverIdentifier=${RESERVED_PERSON}&process=${VEDTAK}`,
    )
    expect(proto.status).toBe(400)
    expect(proto.body.exception).toBe(
      'no.difi.meldingsutveksling.exceptions.ReceiverDoesNotAcceptDocumentType',
    )
    // a digital vedtak made for someone else and addressed to them
    const other = await json(
      `${w.ip.url}/api/prototype/digital?receiverIdentifier=${DIGITAL_PERSON}&process=${VEDTAK}`,
    )
    expect(other.status).toBe(200)
    const sbd = other.body
    sbd.standardBusinessDocumentHeader.receiver[0].identifier.value = RESERVED_PERSON
    const messageId = sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
    const created = await json(`${w.ip.url}/api/messages/out`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sbd),
    })
    expect(created.status).toBe(400)
    expect(created.body).toMatchObject({
      status: 400,
      error: 'Bad Request',
      exception: 'no.difi.meldingsutveksling.exceptions.ReceiverDoesNotAcceptProcessException',
      message: `Receiver do not accept the document process ${VEDTAK}`,
      path: '/api/messages/out',
    })
    expect(created.body.description).toContain(RESERVED_PERSON)
    expect(await w.statuses(messageId)).toEqual([])
    expect((await json(`${w.ip.url}/api/messages/out/${messageId}`)).status).toBe(404)
  })
})
