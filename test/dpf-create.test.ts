// DPF's create-time checks (#11 of the reference's, src/channels/dpf/create-checks.ts) through the API of an
// integration point whose DPF channel talks to the SvarUt stand-in, which lists Arkivmelding, Byggesak and
// Plansak.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARKIVMELDING, MESSAGE_ID } from '../src/channels/dpf/test-support.js'
import { type DpfWorld, KOMMUNE, SENDER, startDpfWorld } from './support/dpf-world.js'
import { json } from './support/poll.js'

type Json = Record<string, any>

const EX = 'no.difi.meldingsutveksling.exceptions.'
const idOf = (sbd: Json): string =>
  sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier

/** a fresh arkivmelding SBD to the municipality (reached by DPF only), edited by `dpf` and `sender` */
async function arkivmelding(
  w: DpfWorld,
  o: { forsendelseType?: string; sender?: string } = {},
): Promise<Json> {
  const proto = await json(`${w.ip.url}/api/prototype/arkivmelding?receiverIdentifier=${KOMMUNE}`)
  expect(proto.status, JSON.stringify(proto.body)).toBe(200)
  const sbd = proto.body
  sbd.arkivmelding = {
    hoveddokument: 'vedtak.pdf',
    sikkerhetsnivaa: 3,
    ...(o.forsendelseType === undefined ? {} : { dpf: { forsendelseType: o.forsendelseType } }),
  }
  if (o.sender) sbd.standardBusinessDocumentHeader.sender[0].identifier.value = o.sender
  return sbd
}

const create = (w: DpfWorld, sbd: Json) =>
  json(`${w.ip.url}/api/messages/out`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sbd),
  })

/** the one-step send with the arkivmelding.xml and the document it names */
async function multipart(w: DpfWorld, sbd: Json) {
  const form = new FormData()
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  const xml = ARKIVMELDING.replaceAll(MESSAGE_ID, idOf(sbd))
  form.append('Arkivmelding', new Blob([xml], { type: 'application/xml' }), 'arkivmelding.xml')
  form.append('Vedlegg', new Blob(['PK docx'], { type: 'application/octet-stream' }), 'vedlegg.docx')
  form.append('Vedtak', new Blob(['%PDF-1.4 vedtak'], { type: 'application/pdf' }), 'vedtak.pdf')
  return json(`${w.ip.url}/api/messages/out/multipart`, { method: 'POST', body: form })
}

/** nothing of the message is kept: no message, no conversation */
async function expectNothingStored(w: DpfWorld, messageId: string) {
  expect((await json(`${w.ip.url}/api/messages/out/${messageId}`)).status).toBe(404)
  expect((await json(`${w.ip.url}/api/conversations/messageId/${messageId}`)).status).toBe(404)
}

const unknownType = (path: string) => ({
  status: 400,
  error: 'Bad Request',
  exception: `${EX}ForsendelseTypeNotFoundException`,
  message: 'Found forsendelseType Oppmåling, but valid types are Arkivmelding,Byggesak,Plansak',
  path,
})

describe("DPF's SvarUt checks at create", () => {
  let w: DpfWorld
  beforeAll(async () => {
    w = await startDpfWorld('sqlite')
  })
  afterAll(async () => {
    await w?.close()
  })

  it('refuses a forsendelseType SvarUt does not list, by create and by multipart, and stores nothing', async () => {
    const sbd = await arkivmelding(w, { forsendelseType: 'Oppmåling' })
    const created = await create(w, sbd)
    expect(created.status, JSON.stringify(created.body)).toBe(400)
    expect(created.body).toMatchObject(unknownType('/api/messages/out'))
    await expectNothingStored(w, idOf(sbd))

    const sent = await multipart(w, sbd)
    expect(sent.status, JSON.stringify(sent.body)).toBe(400)
    expect(sent.body).toMatchObject(unknownType('/api/messages/out/multipart'))
    await expectNothingStored(w, idOf(sbd))
    expect((await w.forsendelser()).filter((f) => f.eksternRef === idOf(sbd))).toEqual([])
  })

  it('takes a type SvarUt lists, and sends it as the forsendelse type', async () => {
    const created = await create(w, await arkivmelding(w, { forsendelseType: 'Byggesak' }))
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    expect(created.body.arkivmelding.dpf).toEqual({ forsendelseType: 'Byggesak' })

    const sbd = await arkivmelding(w, { forsendelseType: 'Plansak' })
    const sent = await multipart(w, sbd)
    expect(sent.status, JSON.stringify(sent.body)).toBe(200)
    const forsendelse = await w.forsendelseOf(idOf(sbd))
    expect(JSON.stringify(forsendelse)).toContain('Plansak')
  })

  it('refuses an arkivmelding on behalf of another organisation: REST sends from our one konto', async () => {
    const sbd = await arkivmelding(w, { sender: `0192:${SENDER}:${KOMMUNE}` })
    const created = await create(w, sbd)
    expect(created.status, JSON.stringify(created.body)).toBe(400)
    expect(created.body).toMatchObject({
      status: 400,
      error: 'Bad Request',
      exception: `${EX}MissingSvarUtCredentialsException`,
      message: `SvarUt credentials not configured for orgnr ${KOMMUNE}`,
      path: '/api/messages/out',
    })
    await expectNothingStored(w, idOf(sbd))
  })
})

describe("DPF's SvarUt checks while SvarUt cannot list its types", () => {
  it('takes the message unchecked', async () => {
    const w = await startDpfWorld('sqlite')
    try {
      w.fault = 'error'
      w.faultOn = (method, url) => method === 'GET' && url.startsWith('/api/v2/forsendelsestyper')
      const sbd = await arkivmelding(w, { forsendelseType: 'Oppmåling' })
      const created = await create(w, sbd)
      expect(created.status, JSON.stringify(created.body)).toBe(200)
      expect((await json(`${w.ip.url}/api/messages/out/${idOf(sbd)}`)).status).toBe(200)
    } finally {
      await w.close()
    }
  })
})
