import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { NOT_FOUND_AFTER_409 } from '../src/channels/dpv/sender.js'
import {
  correspondenceClient,
  file,
  ipFields,
} from '../src/standins/altinn-broker/correspondence/test-support.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { DPV_ORG, DPV_PERSON, type DpvWorld, SENDER, startDpvWorld } from './support/dpv-world.js'
import { eventually, json } from './support/poll.js'

warnIfPostgresSkipped()

type Json = Record<string, any>
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
const TAUSHETSBELAGT = 'urn:no:difi:profile:arkivmelding:taushetsbelagt:ver1.0'

async function prototype(w: DpvWorld, type: string, to: string, process?: string): Promise<Json> {
  const q = process ? `&process=${encodeURIComponent(process)}` : ''
  const res = await json(`${w.ip.url}/api/prototype/${type}?receiverIdentifier=${to}${q}`)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}

const idOf = (sbd: Json): string =>
  sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier

/** a one-step multipart send; `files` are name → bytes, each with the title `Tittel <name>` */
async function send(w: DpvWorld, sbd: Json, files: Record<string, Buffer | string>): Promise<string> {
  const form = new FormData()
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  for (const [name, bytes] of Object.entries(files)) {
    const type = name.endsWith('.xml') ? 'application/xml' : 'application/pdf'
    const data = typeof bytes === 'string' ? bytes : new Uint8Array(bytes)
    form.append(`Tittel ${name}`, new Blob([data], { type }), name)
  }
  const res = await fetch(`${w.ip.url}/api/messages/out/multipart`, { method: 'POST', body: form })
  expect(res.status, await res.clone().text()).toBe(200)
  return idOf(sbd)
}

async function sendArkivmelding(
  w: DpvWorld,
  opts: { process?: string; extra?: Record<string, string> } = {},
) {
  const sbd = await prototype(w, 'arkivmelding', DPV_ORG, opts.process)
  sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
  const pdf = Buffer.from(`%PDF-1.4 vedtak ${'x'.repeat(40_000)}`)
  const xml = arkivmeldingXml({
    files: ['vedtak.pdf', ...Object.keys(opts.extra ?? {})],
    title: 'Vedtak offentlig',
  })
  // a file the arkivmelding does not name is not sent
  const messageId = await send(w, sbd, {
    'arkivmelding.xml': xml,
    'vedtak.pdf': pdf,
    'ekstra.pdf': 'ikke nevnt',
    ...opts.extra,
  })
  return { messageId, pdf }
}

const peekAll = async (w: DpvWorld): Promise<Json[]> => {
  const out: Json[] = []
  for (;;) {
    const r = await json(`${w.ip.url}/api/messages/in/peek`)
    if (r.status !== 200) return out
    out.push(r.body)
    const id = idOf(r.body)
    expect((await fetch(`${w.ip.url}/api/messages/in/${id}`, { method: 'DELETE' })).status).toBe(200)
  }
}

describe.each(STORES)('DPV through the Altinn stand-in on %s', (kind) => {
  let w: DpvWorld | undefined
  afterEach(async () => {
    await w?.close()
    w = undefined
  })

  it('delivers an arkivmelding as a correspondence: LEVERT with a receipt for the fagsystem, LEST once read', async () => {
    w = await startDpvWorld(kind)
    const { messageId, pdf } = await sendArkivmelding(w)
    const c = await w.correspondenceOf(messageId)
    expect(c.recipient).toMatch(new RegExp(DPV_ORG))
    expect(c.attachments.map((a: Json) => [a.fileName, a.displayName, a.sha256])).toEqual([
      ['vedtak.pdf', 'Tittel vedtak.pdf', sha(pdf)],
    ])
    expect(c.fields).toMatchObject({
      idempotentKey: messageId,
      'correspondence.sendersReference': messageId,
      'correspondence.resourceId': 'eformidling-dpv-administrasjon',
      'correspondence.sender': `0192:${SENDER}`,
      'correspondence.messageSender': 'TEST - SANDKASSE ETAT A',
      'correspondence.isConfidential': 'false',
      'correspondence.content.messageTitle': 'Vedtak offentlig',
      'correspondence.content.messageBody': 'Vedtak om tilskudd',
      'correspondence.notification.emailBody':
        '$correspondenceRecipientName$: Du har mottatt en melding fra TEST - SANDKASSE ETAT A.',
    })
    // the correspondence exists at Altinn a moment before the answer to its upload is committed here
    await w.untilStatuses(messageId, ['SENDT'])
    const conversation = (await json(`${w.ip.url}/api/conversations/messageId/${messageId}`)).body
    expect(conversation.externalSystemReference).toBe(c.correspondenceId)

    expect(await w.untilStatuses(messageId, ['LEVERT'])).toEqual(['OPPRETTET', 'SENDT', 'LEVERT'])
    // as the reference: an OK arkivmelding_kvittering from the recipient for the fagsystem, once
    const receipts = await eventually(async () => {
      const got = await peekAll(w!)
      return got.length ? got : undefined
    }, 'the synthesised receipt')
    expect(
      receipts.map((r) => [
        r.standardBusinessDocumentHeader.sender[0].identifier.value,
        r.arkivmelding_kvittering,
      ]),
    ).toEqual([[`0192:${DPV_ORG}`, { receiptType: 'OK', relatedToMessageId: messageId, messages: [] }]])
    // the receipt is no read: no LEST until the recipient reads it
    await new Promise((r) => setTimeout(r, 400))
    expect(await w.statuses(messageId)).toEqual(['OPPRETTET', 'SENDT', 'LEVERT'])
    expect(await peekAll(w)).toEqual([])

    await w.act(c.correspondenceId, 'read')
    expect(await w.untilStatuses(messageId, ['LEST'])).toEqual(['OPPRETTET', 'SENDT', 'LEVERT', 'LEST'])
    expect((await w.correspondences()).length).toBe(1)
  })
})

describe.each(STORES)('DPV business types and options on %s', (kind) => {
  let w: DpvWorld | undefined
  afterEach(async () => {
    await w?.close()
    w = undefined
  })

  it('sends a digital_dpv to a person with its own notification options and every file by dokumentnummer', async () => {
    w = await startDpvWorld(kind)
    const sbd = await prototype(w, 'digital_dpv', DPV_PERSON)
    sbd.digital_dpv = {
      tittel: 'Svar på søknad',
      sammendrag: 'Kort om svaret',
      innhold: 'Hele svaret',
      hoveddokument: 'svar.pdf',
      dpv: {
        varselType: 'VarselDPVUtenRevarsel',
        varselTransportType: 'Epost',
        varselTekst: 'Post fra $reporterName$',
        dagerTilSvarfrist: 3,
      },
    }
    const messageId = await send(w, sbd, { 'svar.pdf': 'svar', 'vedlegg.pdf': 'vedlegg' })
    const c = await w.correspondenceOf(messageId)
    expect(c.recipient).toMatch(new RegExp(DPV_PERSON))
    expect(c.attachments.map((a: Json) => a.fileName)).toEqual(['svar.pdf', 'vedlegg.pdf'])
    const f = c.fields
    expect(f).toMatchObject({
      'recipients[0]': `urn:altinn:person:identifier-no:${DPV_PERSON}`,
      'correspondence.content.messageTitle': 'Svar på søknad',
      'correspondence.content.messageSummary': 'Kort om svaret',
      'correspondence.content.messageBody': 'Hele svaret',
      // digital_dpv with the info process goes past a reservation, as the reference
      'correspondence.ignoreReservation': 'true',
      'correspondence.notification.notificationChannel': 'Email',
      'correspondence.notification.emailBody': 'Post fra TEST - SANDKASSE ETAT A',
      'correspondence.notification.sendReminder': 'false',
    })
    const days =
      (Date.parse(f['correspondence.dueDateTime']) - Date.parse(f['correspondence.requestedPublishTime'])) /
      86_400_000
    expect(days).toBe(3)
    expect(Object.keys(f).filter((k) => k.includes('.reminder'))).toEqual([])
    expect(await w.untilStatuses(messageId, ['LEVERT'])).toEqual(['OPPRETTET', 'SENDT', 'LEVERT'])
    // no arkivmelding, no receipt
    expect(await json(`${w.ip.url}/api/messages/in/peek`)).toMatchObject({ status: 204 })
  })

  it('sends a sensitive arkivmelding to the sensitive resource, confidential, with the sensitive text', async () => {
    w = await startDpvWorld(kind)
    const { messageId } = await sendArkivmelding(w, { process: TAUSHETSBELAGT })
    const c = await w.correspondenceOf(messageId)
    expect(c.fields).toMatchObject({
      'correspondence.resourceId': 'eformidling-dpv-taushetsbelagt',
      'correspondence.isConfidential': 'true',
    })
    expect(c.fields['correspondence.notification.smsBody']).toMatch(
      /^\$correspondenceRecipientName\$, har mottatt en taushetsbelagt melding fra TEST - SANDKASSE ETAT A\. /,
    )
    expect(await w.untilStatuses(messageId, ['LEVERT'])).toContain('LEVERT')
  })
})

describe.each(STORES)('DPV when things go wrong, on %s', (kind) => {
  let w: DpvWorld | undefined
  afterEach(async () => {
    await w?.close()
    w = undefined
  })

  const job = (messageId: string) =>
    w!.ip.db.kysely.selectFrom('jobs').selectAll().where('message_id', '=', messageId).executeTakeFirst()

  it('finds the correspondence again after an answer lost in transit (409), and makes no second one', async () => {
    w = await startDpvWorld(kind)
    w.fault = 'drop'
    const { messageId } = await sendArkivmelding(w)
    const c = await w.correspondenceOf(messageId)
    // the answer was lost: the integration point does not know it got there
    expect(await w.statuses(messageId)).toEqual(['OPPRETTET'])
    w.fault = 'none'
    expect(await w.untilStatuses(messageId, ['LEVERT'])).toEqual(['OPPRETTET', 'SENDT', 'LEVERT'])
    const conversation = (await json(`${w.ip.url}/api/conversations/messageId/${messageId}`)).body
    expect(conversation.externalSystemReference).toBe(c.correspondenceId)
    expect((await w.correspondences()).map((x) => x.sendersReference)).toEqual([messageId])
    await w.act(c.correspondenceId, 'read')
    expect(await w.untilStatuses(messageId, ['LEST'])).toContain('LEST')
  })

  it('says so in an ANNET status when Altinn has the key but the correspondence cannot be found', async () => {
    w = await startDpvWorld(kind)
    const sbd = await prototype(w, 'arkivmelding', DPV_ORG)
    const messageId = idOf(sbd)
    // another sender took this key first (Altinn's keys are global): our search as sender finds nothing
    const other = correspondenceClient(w.altinnUrl)
    const taken = await other.upload(
      await other.token('0192:910077473'),
      ipFields({ idempotentKey: messageId, 'correspondence.sendersReference': 'not ours' }),
      [file('test.txt', 'x')],
    )
    expect(taken.status, taken.text).toBe(200)
    sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
    await send(w, sbd, {
      'arkivmelding.xml': arkivmeldingXml({ files: ['vedtak.pdf'] }),
      'vedtak.pdf': 'pdf',
    })
    expect(await w.untilStatuses(messageId, ['ANNET'])).toEqual(['OPPRETTET', 'SENDT', 'ANNET'])
    const annet = (await json(`${w.ip.url}/api/statuses/${messageId}`)).body.content.find(
      (s: Json) => s.status === 'ANNET',
    )
    expect(annet.description).toBe(NOT_FOUND_AFTER_409)
    const row = await w.ip.db.kysely
      .selectFrom('conversations')
      .select(['pollable', 'external_system_reference'])
      .where('message_id', '=', messageId)
      .executeTakeFirstOrThrow()
    expect(row).toEqual({ pollable: 0, external_system_reference: null })
  })

  it("gives FEIL at once with Altinn's problem detail when Altinn refuses the message (4xx)", async () => {
    w = await startDpvWorld(kind)
    // Altinn takes only some file types; .odt is not one of them (400, errorCode 2013)
    const { messageId } = await sendArkivmelding(w, { extra: { 'notat.odt': 'odt' } })
    const statuses = await w.untilStatuses(messageId, ['FEIL'])
    expect(statuses).toEqual(['OPPRETTET', 'FEIL'])
    const feil = (await json(`${w.ip.url}/api/statuses/${messageId}`)).body.content.find(
      (s: Json) => s.status === 'FEIL',
    )
    expect(feil.description).toMatch(
      /Altinn Correspondence POST \/correspondence\/upload answered 400: .+\(errorCode 2013\)$/,
    )
    expect((await job(messageId))?.attempts ?? 1).toBe(1)
    expect(await w.correspondences()).toEqual([])
  })

  it('tries again while Altinn answers 5xx, and delivers once it is back', async () => {
    w = await startDpvWorld(kind)
    w.fault = 'error'
    const { messageId } = await sendArkivmelding(w)
    const failing = await eventually(async () => {
      const j = await job(messageId)
      return j && j.attempts >= 2 ? j : undefined
    }, 'a second attempt')
    expect(failing.last_error).toMatch(/answered 503/)
    expect(await w.statuses(messageId)).toEqual(['OPPRETTET'])
    // Altinn may have it (a 503 can come after the work): the fagsystem cannot delete it any more
    expect((await fetch(`${w.ip.url}/api/messages/out/${messageId}`, { method: 'DELETE' })).status).toBe(409)
    w.fault = 'none'
    expect(await w.untilStatuses(messageId, ['LEVERT'])).toEqual(['OPPRETTET', 'SENDT', 'LEVERT'])
    expect((await w.correspondences()).length).toBe(1)
  })

  it('gives FEIL with the reason when the correspondence fails at publication, ANNET when it is purged', async () => {
    w = await startDpvWorld(kind, { correspondence: { failingRecipients: [DPV_PERSON] } })
    const sbd = await prototype(w, 'digital_dpv', DPV_PERSON)
    sbd.digital_dpv = { tittel: 'T', sammendrag: 'S', innhold: 'I', hoveddokument: 'a.pdf' }
    const failed = await send(w, sbd, { 'a.pdf': 'a' })
    expect(await w.untilStatuses(failed, ['FEIL'])).toEqual(['OPPRETTET', 'SENDT', 'FEIL'])
    const feil = (await json(`${w.ip.url}/api/statuses/${failed}`)).body.content.find(
      (s: Json) => s.status === 'FEIL',
    )
    expect(feil.description).toMatch(/^Altinn: Failed: /)

    const { messageId } = await sendArkivmelding(w)
    const c = await w.correspondenceOf(messageId)
    await w.untilStatuses(messageId, ['LEVERT'])
    await w.act(c.correspondenceId, 'purge')
    expect(await w.untilStatuses(messageId, ['ANNET'])).toEqual(['OPPRETTET', 'SENDT', 'LEVERT', 'ANNET'])
    const rows = await w.ip.db.kysely
      .selectFrom('conversations')
      .select('pollable')
      .where('pollable', '=', 1)
      .execute()
    expect(rows).toEqual([])
  })

  it('picks up where it left off after a restart in the middle of polling, and queues the receipt once', async () => {
    w = await startDpvWorld(kind)
    const { messageId } = await sendArkivmelding(w)
    await w.untilStatuses(messageId, ['SENDT'])
    await w.stopIp()
    const c = await w.correspondenceOf(messageId)
    await w.act(c.correspondenceId, 'read')
    await w.startIp()
    expect(await w.untilStatuses(messageId, ['LEVERT', 'LEST'])).toEqual([
      'OPPRETTET',
      'SENDT',
      'LEVERT',
      'LEST',
    ])
    await w.restart()
    await new Promise((r) => setTimeout(r, 300))
    const receipts = await peekAll(w)
    expect(receipts.map((r) => r.arkivmelding_kvittering.relatedToMessageId)).toEqual([messageId])
    expect(await w.statuses(messageId)).toEqual(['OPPRETTET', 'SENDT', 'LEVERT', 'LEST'])
  })
})

describe.each(STORES)('a large DPV message on %s', (kind) => {
  let w: DpvWorld | undefined
  afterEach(async () => {
    await w?.close()
    w = undefined
  })

  it('streams a 100 MiB attachment from the payload store to Altinn in constant memory', {
    timeout: 120_000,
  }, async () => {
    w = await startDpvWorld(kind)
    const sbd = await prototype(w, 'digital_dpv', DPV_PERSON)
    sbd.digital_dpv = {
      tittel: 'Stor',
      sammendrag: 'Stor fil',
      innhold: 'Se vedlegg',
      hoveddokument: 'stor.pdf',
    }
    const created = await json(`${w.ip.url}/api/messages/out`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sbd),
    })
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    const messageId = idOf(sbd)
    const total = 100 * 1024 * 1024
    const hash = createHash('sha256')
    async function* bytes() {
      // a fresh buffer each time: the request may still hold the last one when the next is made
      for (let sent = 0; sent < total; sent += 256 * 1024) {
        const chunk = Buffer.alloc(256 * 1024, sent % 251)
        hash.update(chunk)
        yield chunk
      }
    }
    const put = await fetch(`${w.ip.url}/api/messages/out/${messageId}`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/pdf',
        'content-disposition': 'attachment; name="Stor fil"; filename=stor.pdf',
      },
      body: Readable.toWeb(Readable.from(bytes())) as ReadableStream,
      duplex: 'half',
    } as RequestInit)
    expect(put.status, await put.text()).toBe(200)
    const digest = hash.digest('hex')

    global.gc?.()
    const baseline = process.memoryUsage().rss
    let peak = baseline
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 20)
    try {
      expect((await fetch(`${w.ip.url}/api/messages/out/${messageId}`, { method: 'POST' })).status).toBe(200)
      await w.untilStatuses(messageId, ['SENDT'])
    } finally {
      clearInterval(sampler)
    }
    const c = await w.correspondenceOf(messageId)
    expect(c.attachments.map((a: Json) => [a.fileName, a.size, a.sha256])).toEqual([
      ['stor.pdf', total, digest],
    ])
    // the send reads and uploads 100 MiB; what it holds at once stays below that. On PostgreSQL pg hands
    // each 1 MiB chunk over as 2 MiB of hex text first, which V8 frees late (64.2 MiB once on Node.js 22):
    // holding the attachment would still add 100 MiB and more
    const bound = kind === 'postgres' ? 96 : 64
    expect(peak - baseline).toBeLessThan(bound * 1024 * 1024)
    expect(await w.untilStatuses(messageId, ['LEVERT'])).toEqual(['OPPRETTET', 'SENDT', 'LEVERT'])
  })
})
