import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import {
  DIGITAL_PERSON,
  type DpiWorld,
  PRINT_PERSON,
  RESERVED_PERSON,
  startDpiWorld,
} from './support/dpi-world.js'
import { eventually, json } from './support/poll.js'

warnIfPostgresSkipped()

type Json = Record<string, any>
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
const idOf = (sbd: Json): string =>
  sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier

const PDF = Buffer.from(`%PDF-1.4 vedtak ${'x'.repeat(50_000)}`)
const HTML = Buffer.from('<html><body>Informasjon</body></html>')

/** A letter from a prototype of `type` to `person`, one-step multipart with vedtak.pdf and info.html. */
async function sendLetter(
  w: DpiWorld,
  type: 'digital' | 'print',
  person: string,
  edit: (sbd: Json) => void = () => {},
  files: [string, Buffer, string][] = [
    ['vedtak.pdf', PDF, 'application/pdf'],
    ['info.html', HTML, 'text/html'],
  ],
): Promise<{ messageId: string; status: number; body: unknown }> {
  const proto = await json(`${w.ip.url}/api/prototype/${type}?receiverIdentifier=${person}`)
  expect(proto.status, JSON.stringify(proto.body)).toBe(200)
  const sbd = proto.body
  sbd[type] = { ...sbd[type], hoveddokument: 'vedtak.pdf' }
  if (type === 'digital')
    Object.assign(sbd.digital, { tittel: 'Vedtak om barnehageplass', sikkerhetsnivaa: 3 })
  edit(sbd)
  const messageId = idOf(sbd)
  const form = new FormData()
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  for (const [name, bytes, mime] of files)
    form.append(`Tittel ${name}`, new Blob([new Uint8Array(bytes)], { type: mime }), name)
  const res = await fetch(`${w.ip.url}/api/messages/out/multipart`, { method: 'POST', body: form })
  return { messageId, status: res.status, body: await res.json().catch(() => null) }
}

describe.each(STORES)('DPI through the access point stand-in (%s)', (kind) => {
  let w: DpiWorld | undefined
  afterEach(async () => {
    await w?.close()
    w = undefined
  })

  it('a digital letter reaches SENDT, MOTTATT, LEVERT, and LEST once opened in the mailbox', async () => {
    w = await startDpiWorld(kind)
    const sent = await sendLetter(w, 'digital', DIGITAL_PERSON, (sbd) => {
      sbd.digital.digitalPostInfo = { virkningsdato: '2026-12-01', aapningskvittering: true }
    })
    expect(sent.status, JSON.stringify(sent.body)).toBe(200)
    const got = await w.untilStatuses(sent.messageId, ['SENDT', 'MOTTATT', 'LEVERT'])
    expect(got.slice(0, 4)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    const letter = await w.messageOf(sent.messageId)
    expect(letter.type).toBe('digital')
    const docs = letter.documents as Json[]
    expect(docs.map((d) => d.href).sort()).toEqual(['info.html', 'vedtak.pdf'])
    const pdf = Buffer.from(await (await fetch(docs.find((d) => d.href === 'vedtak.pdf')!.url)).arrayBuffer())
    expect(sha(pdf)).toBe(sha(PDF))
    const mine = await w.messages(DIGITAL_PERSON)
    expect(mine.map((m) => m.messageId)).toContain(sent.messageId)
    const opened = await w.sandbox(`/messages/${sent.messageId}/open`)
    expect(opened.status, JSON.stringify(opened.body)).toBe(200)
    const all = await w.untilStatuses(sent.messageId, ['LEST'])
    expect(all).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'LEST'])
  })

  it('a print letter to a person without a mailbox reaches LEVERT through the printer', async () => {
    w = await startDpiWorld(kind)
    const sent = await sendLetter(w, 'print', PRINT_PERSON)
    expect(sent.status, JSON.stringify(sent.body)).toBe(200)
    const got = await w.untilStatuses(sent.messageId, ['LEVERT'])
    expect(got).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    const letter = await w.messageOf(sent.messageId)
    expect(letter.type).toBe('utskrift')
    expect((await w.messages(PRINT_PERSON)).map((m) => m.messageId)).toContain(sent.messageId)
    void RESERVED_PERSON
  })
})
