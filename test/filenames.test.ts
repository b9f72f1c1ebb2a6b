// Issue 13 item 6: a name the packaging cannot hold is refused when the file arrives (PUT and the
// one-step multipart send), with one rule for both; a message that cannot be packed anyway (stored by an
// older version) ends in FEIL at its first send attempt instead of being retried until it expires.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Db } from '../src/db/open.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { arkivmeldingSbd, filesUnder, jsonBody, startTestIp, type TestIp } from './support/ip.js'
import { ORG_B, type Pair, startPair } from './support/pair.js'

warnIfPostgresSkipped()

type Json = Record<string, any>
const EX = 'no.difi.meldingsutveksling.exceptions.'

/** Content-Disposition values naming files the packaging refuses, each as a client could send it. */
const REFUSED: [string, string][] = [
  ['a drive letter', 'attachment; filename=C:x.pdf'],
  ['a drive-relative path', 'attachment; filename="c:vedtak.pdf"'],
  ["the container's mimetype", 'attachment; filename=mimetype'],
  ["the container's manifest.xml, in other case", 'attachment; filename=MANIFEST.XML'],
  ['META-INF', 'attachment; filename=META-INF'],
  ['a backslash', "attachment; filename*=UTF-8''a%5Cb.pdf"],
  ['a leading space', 'attachment; filename=" vedtak.pdf"'],
  ['a character XML cannot carry', "attachment; filename*=UTF-8''x%EF%BF%BF.pdf"],
  ['a parent folder', 'attachment; filename=../x.pdf'],
]

describe.each(STORES)('file names the packaging refuses, on %s', (kind) => {
  let ip: TestIp
  beforeEach(async () => {
    ip = await startTestIp(kind)
  })
  afterEach(async () => ip.close())

  async function create(): Promise<string> {
    const res = await ip.json<Json>('/api/messages/out', jsonBody(arkivmeldingSbd()))
    expect(res.status).toBe(200)
    return res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
  }

  const put = (id: string, disposition: string) =>
    ip.json<Json>(`/api/messages/out/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/pdf', 'content-disposition': disposition },
      body: '%PDF-1.4',
    })

  it.each(REFUSED)('refuses at PUT a name with %s', async (_what, disposition) => {
    const id = await create()
    const res = await put(id, disposition)
    expect(res.status, JSON.stringify(res.body)).toBe(400)
    expect(res.body).toMatchObject({ status: 400, exception: 'java.lang.IllegalArgumentException' })
    expect(res.body.message).toMatch(/^Filename ".*" is not allowed: /)
    expect(await ip.db.kysely.selectFrom('out_files').selectAll().execute()).toEqual([])
    expect(filesUnder(ip, 'out')).toEqual([])
  })

  it('refuses at PUT a name that differs from an earlier one only in case or Unicode form', async () => {
    const id = await create()
    expect((await put(id, "attachment; filename*=UTF-8''%C3%A5.pdf")).status).toBe(200)
    for (const again of [
      "attachment; filename*=UTF-8''%C3%85.PDF",
      "attachment; filename*=UTF-8''a%CC%8A.pdf",
    ]) {
      const res = await put(id, again)
      expect(res.status).toBe(400)
      expect(res.body.exception).toBe(`${EX}DuplicateFilenameException`)
    }
    expect(filesUnder(ip, 'out')).toHaveLength(1)
  })

  it('refuses the same names in the one-step multipart send and keeps nothing', async () => {
    const sbd = arkivmeldingSbd({ hoveddokument: 'vedtak.pdf' })
    const send = (names: string[]) => {
      const form = new FormData()
      form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
      const xml = arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Vedtak' })
      form.append('Arkivmelding', new Blob([xml], { type: 'application/xml' }), 'arkivmelding.xml')
      for (const name of names) form.append('Vedlegg', new Blob(['%PDF'], { type: 'application/pdf' }), name)
      return ip.json<Json>('/api/messages/out/multipart', { method: 'POST', body: form })
    }
    for (const name of ['C:x.pdf', 'mimetype', 'manifest.xml', ' vedtak.pdf']) {
      const res = await send(['vedtak.pdf', name])
      expect(res.status, name).toBe(400)
      expect(res.body.exception).toBe('java.lang.IllegalArgumentException')
    }
    const twice = await send(['vedtak.pdf', 'Vedtak.PDF'])
    expect(twice.status).toBe(400)
    expect(twice.body).toMatchObject({
      exception: `${EX}DuplicateFilenameException`,
      message: 'Filename already exists in message: vedtak.pdf, Vedtak.PDF.',
    })
    expect(await ip.db.kysely.selectFrom('out_messages').selectAll().execute()).toEqual([])
    expect(filesUnder(ip, 'out')).toEqual([])
    // the names it takes are sent
    expect((await send(['vedtak.pdf', 'møte 12:30.pdf'])).status).toBe(200)
  })
})

describe.each(STORES)('a message that cannot be packed, on %s', (kind) => {
  let world: Pair | undefined
  afterEach(async () => {
    await world?.stop()
    world = undefined
  })

  /** A message at A with arkivmelding.xml, vedtak.pdf and vedlegg.pdf uploaded, not yet sent. */
  async function uploaded(): Promise<{ a: Pair['a']; id: string }> {
    world = await startPair(kind)
    const a = world.a
    const prototype = await fetch(`${a.url}/api/prototype/arkivmelding?receiverIdentifier=${ORG_B}`)
    const sbd = (await prototype.json()) as Json
    sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
    expect((await fetch(`${a.url}/api/messages/out`, jsonBody(sbd))).status).toBe(200)
    const id = sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier as string
    const put = async (name: string, body: string) => {
      const res = await fetch(`${a.url}/api/messages/out/${id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/pdf', 'content-disposition': `attachment; filename=${name}` },
        body,
      })
      expect(res.status).toBe(200)
    }
    await put('arkivmelding.xml', arkivmeldingXml({ files: ['vedtak.pdf'], title: 'V' }))
    await put('vedtak.pdf', '%PDF')
    await put('vedlegg.pdf', '%PDF')
    return { a, id }
  }

  /**
   * A message spoilt in the database as `spoil` says (as an older version stored it), then sent:
   * resolves with its FEIL.
   */
  async function sendSpoilt(spoil: (db: Db) => Promise<unknown>): Promise<{ id: string; feil: Json }> {
    const { a, id } = await uploaded()
    await spoil(a.db)
    expect((await fetch(`${a.url}/api/messages/out/${id}`, { method: 'POST' })).status).toBe(200)
    const feil = await eventually(async () => {
      const statuses = (await (await fetch(`${a.url}/api/statuses/${id}?sort=id`)).json()) as Json
      return statuses.content.find((s: Json) => s.status === 'FEIL')
    })
    // given up at its first attempt (the job's end is recorded just after the status)
    const job = await eventually(async () => {
      const row = await a.db.kysely
        .selectFrom('jobs')
        .selectAll()
        .where('message_id', '=', id)
        .executeTakeFirst()
      return row?.state === 'PENDING' ? undefined : row
    })
    expect([job.state, job.attempts]).toEqual(['FAILED', 1])
    return { id, feil }
  }

  it('ends in FEIL with the reason at the first attempt, not retried until it expires', async () => {
    const { feil } = await sendSpoilt((db) =>
      db.kysely
        .updateTable('out_files')
        .set({ filename: 'C:vedlegg.pdf' })
        .where('filename', '=', 'vedlegg.pdf')
        .execute(),
    )
    expect(feil.description).toContain('C:vedlegg.pdf')
    expect(feil.description).toContain('drive letter')
  })

  it('tries again while a stored file is missing: no FEIL, the job waits with the reason', async () => {
    const { a, id } = await uploaded()
    const row = await a.db.kysely
      .selectFrom('out_files')
      .select('storage_key')
      .where('filename', '=', 'vedtak.pdf')
      .executeTakeFirstOrThrow()
    await a.db.kysely
      .updateTable('out_files')
      .set({ storage_key: `${row.storage_key}.away` })
      .where('filename', '=', 'vedtak.pdf')
      .execute()
    expect((await fetch(`${a.url}/api/messages/out/${id}`, { method: 'POST' })).status).toBe(200)
    const failed = await eventually(async () => {
      const job = await a.db.kysely
        .selectFrom('jobs')
        .selectAll()
        .where('message_id', '=', id)
        .where('kind', '=', 'send:DPO')
        .executeTakeFirst()
      return job && job.attempts >= 1 && job.last_error ? job : undefined
    })
    expect(failed.state).toBe('PENDING')
    expect(failed.last_error).toContain('its stored file vedtak.pdf is missing')
    const statuses = (await (await fetch(`${a.url}/api/statuses/${id}?sort=id`)).json()) as Json
    expect(statuses.content.map((s: Json) => s.status)).toEqual(['OPPRETTET'])
  })
})

async function eventually<T>(probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 50))
  }
}
