// Issue 13 item 7: requests racing on one outgoing message, on one store and between two instances of
// it. A send waits for an upload on any instance (409) until its lease runs out; a delete cancels a send
// that has not started and refuses one that may have reached the broker; upload, send and delete arriving
// together leave every answer true; no answer carries a database's own text.

import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../src/http/app.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { arkivmeldingSbd, filesUnder, startTestIp, type TestIp } from './support/ip.js'
import {
  BEING_SENT,
  BUSY,
  createAt,
  eventually,
  expect409,
  json,
  openUpload,
  putAt,
  uploadsOf,
} from './support/races.js'

warnIfPostgresSkipped()

describe.each(STORES)('requests racing on one outgoing message, on %s', (kind) => {
  let ip: TestIp
  afterEach(async () => ip.close())

  async function sendable(): Promise<string> {
    const id = await createAt(ip.url, arkivmeldingSbd({ hoveddokument: 'vedtak.pdf' }))
    await putAt(ip.url, id, 'arkivmelding.xml', arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Vedtak' }))
    await putAt(ip.url, id, 'vedtak.pdf', '%PDF-1.4')
    return id
  }

  it('cancels a send that has not started: the job and the message are gone', async () => {
    ip = await startTestIp(kind)
    const id = await sendable()
    expect((await fetch(`${ip.url}/api/messages/out/${id}`, { method: 'POST' })).status).toBe(200)
    expect((await fetch(`${ip.url}/api/messages/out/${id}`, { method: 'DELETE' })).status).toBe(200)
    expect(await ip.db.kysely.selectFrom('jobs').selectAll().where('message_id', '=', id).execute()).toEqual(
      [],
    )
    expect(await ip.db.kysely.selectFrom('out_messages').selectAll().execute()).toEqual([])
  })

  it('refuses a delete once an attempt may have handed the message to the broker', async () => {
    ip = await startTestIp(kind)
    const id = await sendable()
    expect((await fetch(`${ip.url}/api/messages/out/${id}`, { method: 'POST' })).status).toBe(200)
    // an earlier attempt made its transfer, then failed; its retry waits
    const now = ip.clock.now().getTime()
    await ip.db.kysely
      .insertInto('handovers')
      .values({ purpose: `send:${id}`, ref: 'ft-1', created_at: now })
      .execute()
    const path = `/api/messages/out/${id}`
    expect409(await json(`${ip.url}${path}`, { method: 'DELETE' }), BEING_SENT, path)
    expect(
      (await ip.db.kysely.selectFrom('jobs').select('state').where('message_id', '=', id).execute()).map(
        (j) => j.state,
      ),
    ).toEqual(['PENDING'])
  })

  it('makes a send on a second instance of the same database wait for an upload streaming to the first', async () => {
    ip = await startTestIp(kind)
    const db2 = await ip.store.open()
    const second = await buildApp({ ...ip.deps, db: db2 })
    const url2 = await second.listen({ port: 0, host: '127.0.0.1' })
    try {
      const id = await createAt(ip.url, arkivmeldingSbd({ hoveddokument: 'vedtak.pdf' }))
      await putAt(ip.url, id, 'arkivmelding.xml', arkivmeldingXml({ files: ['vedtak.pdf'], title: 'V' }))
      const upload = openUpload(ip.url, id, 'vedtak.pdf')
      upload.write('%PDF-1.4 the first half ')
      await eventually(async () => ((await uploadsOf(db2)).length ? true : undefined), 'the upload to start')
      const path = `/api/messages/out/${id}`
      expect409(await json(`${url2}${path}`, { method: 'POST' }), BUSY, path)
      expect((await upload.finish('and the rest')).status).toBe(200)
      expect((await fetch(`${url2}${path}`, { method: 'POST' })).status).toBe(200)
      const files = await db2.kysely
        .selectFrom('out_files')
        .select('filename')
        .orderBy('dokumentnummer')
        .execute()
      expect(files.map((f) => f.filename)).toEqual(['arkivmelding.xml', 'vedtak.pdf'])
    } finally {
      await second.close()
      await db2.close()
    }
  })

  it('cancels an upload streaming to a message when it is deleted, without waiting for the body to end', async () => {
    ip = await startTestIp(kind, { overrides: { 'difi.move.nextmove.job-lease-ms': '3000' } })
    const id = await createAt(ip.url, arkivmeldingSbd())
    const upload = openUpload(ip.url, id, 'stor.pdf')
    upload.write('%PDF-1.4 the first part of a large file ')
    await eventually(async () => ((await uploadsOf(ip.db)).length ? true : undefined), 'the upload to start')
    expect((await fetch(`${ip.url}/api/messages/out/${id}`, { method: 'DELETE' })).status).toBe(200)
    // the next renewal of its lease (a third of 3 s) finds it gone and stops reading
    const answer = await upload.answer
    expect(answer.status, answer.body).toBe(404)
    expect(JSON.parse(answer.body).exception).toBe(
      'no.difi.meldingsutveksling.exceptions.MessageNotFoundException',
    )
    await eventually(
      async () => (filesUnder(ip, '').length === 0 ? true : undefined),
      'the temp file to go',
      5000,
    )
  })

  it('takes an upload on another instance into account until its lease runs out (that instance died)', async () => {
    ip = await startTestIp(kind)
    const id = await sendable()
    const message = await ip.db.kysely.selectFrom('out_messages').select('id').executeTakeFirstOrThrow()
    const now = ip.clock.now().getTime()
    await ip.db.kysely
      .insertInto('out_uploads')
      .values({ message_fk: message.id, lease_until: now + ip.config.jobs.leaseMs, created_at: now })
      .execute()
    const path = `/api/messages/out/${id}`
    expect409(await json(`${ip.url}${path}`, { method: 'POST' }), BUSY, path)
    ip.clock.advance(ip.config.jobs.leaseMs + 1)
    expect((await fetch(`${ip.url}${path}`, { method: 'POST' })).status).toBe(200)
  })

  it('keeps every answer true when upload, send and delete arrive together', async () => {
    ip = await startTestIp(kind)
    for (let round = 0; round < 8; round++) {
      const id = await sendable()
      const path = `${ip.url}/api/messages/out/${id}`
      const [put, send, del] = await Promise.all([
        fetch(path, {
          method: 'PUT',
          headers: {
            'content-type': 'application/pdf',
            'content-disposition': 'attachment; filename=vedlegg.pdf',
          },
          body: '%PDF-1.4 vedlegg',
        }),
        new Promise((r) => setTimeout(r, round)).then(() => fetch(path, { method: 'POST' })),
        new Promise((r) => setTimeout(r, 8 - round)).then(() => fetch(path, { method: 'DELETE' })),
      ])
      const answers = [put.status, send.status, del.status]
      expect(
        answers.filter((s) => s >= 500),
        answers.join(),
      ).toEqual([])
      // upload: stored, too late (already sent) or cancelled by the delete; send: queued, waited for
      // the upload, or the message was deleted; delete: no worker runs here, so it always succeeds
      expect([200, 400, 404], answers.join()).toContain(put.status)
      expect([200, 404, 409], answers.join()).toContain(send.status)
      expect(del.status, answers.join()).toBe(200)
      const row = await ip.db.kysely
        .selectFrom('out_messages')
        .selectAll()
        .where('message_id', '=', id)
        .executeTakeFirst()
      if (del.status === 200) expect(row, answers.join()).toBeUndefined()
      if (row) {
        const files = await ip.db.kysely
          .selectFrom('out_files')
          .select('filename')
          .where('message_fk', '=', row.id)
          .execute()
        // an upload answered 200 is in the message it was sent with
        expect(
          files.some((f) => f.filename === 'vedlegg.pdf'),
          answers.join(),
        ).toBe(put.status === 200)
        expect(row.state, answers.join()).toBe(send.status === 200 ? 'SENDING' : 'CREATED')
      }
      expect(await uploadsOf(ip.db)).toEqual([])
    }
  })

  it('answers an unexpected database failure with 500 and no text of the database', async () => {
    ip = await startTestIp(kind)
    const id = await createAt(ip.url, arkivmeldingSbd())
    await ip.db.kysely.schema.dropTable('out_files').execute()
    const res = await json(`${ip.url}/api/messages/out/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename=a.pdf' },
      body: '%PDF',
    })
    expect(res.status).toBe(500)
    expect(res.body.exception).toBe('java.lang.RuntimeException')
    expect(res.body.message).not.toMatch(/out_files|table|relation|SQLITE|exist/i)
  })
})
