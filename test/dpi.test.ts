import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import {
  DIGITAL_PERSON,
  type DpiWorld,
  LETTER_PDF as PDF,
  PRINT_PERSON,
  RESERVED_PERSON,
  sendLetter,
  startDpiWorld,
} from './support/dpi-world.js'

warnIfPostgresSkipped()

type Json = Record<string, any>
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

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
