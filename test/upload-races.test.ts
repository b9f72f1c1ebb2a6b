// Issue 13 item 7: requests racing on one outgoing message, with DPO between two integration points.
// A send while a file still streams to the message waits for it (409) and the upload then completes; a
// delete cancels the upload; a delete that can no longer stop the send says so (409) and the message is
// delivered.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { RunningIntegrationPoint } from '../src/main.js'
import { readAsic } from '../src/packaging/asic.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { ORG_A, ORG_B, type Pair, startPair } from './support/pair.js'
import {
  BEING_SENT,
  BUSY,
  createAt,
  eventually,
  expect409,
  type Json,
  json,
  openUpload,
  putAt,
  uploadsOf,
} from './support/races.js'

warnIfPostgresSkipped()

async function statusesOf(ip: RunningIntegrationPoint, id: string): Promise<string[]> {
  return (await json(`${ip.url}/api/statuses/${id}?sort=id`)).body.content.map((s: Json) => s.status)
}

async function receivedFiles(b: RunningIntegrationPoint, id: string): Promise<string[]> {
  await eventually(async () => {
    const r = await json(`${b.url}/api/messages/in/peek`)
    return r.status === 200 ? r.body : undefined
  }, 'the message at B')
  const pop = await fetch(`${b.url}/api/messages/in/pop/${id}`)
  expect(pop.status).toBe(200)
  const dir = mkdtempSync(join(tmpdir(), 'races-'))
  try {
    writeFileSync(join(dir, 'asic.zip'), Buffer.from(await pop.arrayBuffer()))
    const limits = { maxEntries: 20, maxEntryBytes: 1e7, maxTotalBytes: 1e8, maxRatio: 1000, tempDir: dir }
    const asic = await readAsic(join(dir, 'asic.zip'), limits)
    return asic.files.map((f) => f.filename).filter((n) => n !== 'manifest.xml')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe.each(STORES)('requests racing on one outgoing message, DPO on %s', (kind) => {
  let world: Pair | undefined
  afterEach(async () => {
    await world?.stop()
    world = undefined
  })

  async function arkivmeldingAt(a: RunningIntegrationPoint): Promise<string> {
    const sbd = (await json(`${a.url}/api/prototype/arkivmelding?receiverIdentifier=${ORG_B}`)).body
    sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
    const id = await createAt(a.url, sbd)
    await putAt(a.url, id, 'arkivmelding.xml', arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Vedtak' }))
    return id
  }

  it('answers 409 to a send while a file streams, then the upload completes and all files go', async () => {
    world = await startPair(kind)
    const { a, b } = world
    const id = await arkivmeldingAt(a)
    const upload = openUpload(a.url, id, 'vedtak.pdf')
    upload.write('%PDF-1.4 the first half ')
    await eventually(async () => ((await uploadsOf(a.db)).length ? true : undefined), 'the upload to start')

    const path = `/api/messages/out/${id}`
    expect409(await json(`${a.url}${path}`, { method: 'POST' }), BUSY, path)

    const done = await upload.finish('and the second half')
    expect(done.status, done.body).toBe(200)
    expect(await uploadsOf(a.db)).toEqual([])
    await putAt(a.url, id, 'vedlegg.pdf', '%PDF-1.4 vedlegg')
    expect((await fetch(`${a.url}${path}`, { method: 'POST' })).status).toBe(200)
    expect((await receivedFiles(b, id)).sort()).toEqual(['arkivmelding.xml', 'vedlegg.pdf', 'vedtak.pdf'])
    expect(await statusesOf(a, id)).toContain('SENDT')
  })

  it('cancels an upload still streaming when the message is deleted: the upload ends with 404, nothing is left', async () => {
    world = await startPair(kind)
    const { a } = world
    const id = await arkivmeldingAt(a)
    const upload = openUpload(a.url, id, 'vedtak.pdf')
    upload.write('%PDF-1.4 the first half ')
    await eventually(async () => ((await uploadsOf(a.db)).length ? true : undefined), 'the upload to start')
    const path = `/api/messages/out/${id}`
    expect((await fetch(`${a.url}${path}`, { method: 'DELETE' })).status).toBe(200)

    const done = await upload.finish('and the second half')
    expect(done.status, done.body).toBe(404)
    expect(JSON.parse(done.body)).toMatchObject({
      status: 404,
      exception: 'no.difi.meldingsutveksling.exceptions.MessageNotFoundException',
      message: `Message with messageId = ${id} was not found`,
      path,
    })
    expect(await a.db.kysely.selectFrom('out_files').selectAll().execute()).toEqual([])
    expect(await uploadsOf(a.db)).toEqual([])
    expect((await fetch(`${a.url}${path}`, { method: 'POST' })).status).toBe(404)
  })

  it('answers a delete during its own running send truthfully: 409 and delivered, or 200 once already sent', async () => {
    world = await startPair(kind)
    const { a, b } = world
    const id = await arkivmeldingAt(a)
    const { randomBytes } = await import('node:crypto')
    const big = await fetch(`${a.url}/api/messages/out/${id}`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/pdf',
        'content-disposition': 'attachment; filename=vedtak.pdf',
      },
      body: new Uint8Array(randomBytes(8 * 1024 * 1024)),
    })
    expect(big.status).toBe(200)
    const path = `/api/messages/out/${id}`
    expect((await fetch(`${a.url}${path}`, { method: 'POST' })).status).toBe(200)
    // the worker has the job and has made its transfer: the message is on its way to the broker
    await eventually(
      async () =>
        (await a.db.kysely.selectFrom('handovers').selectAll().execute()).length ? true : undefined,
      'the send to start',
    )
    const del = await json(`${a.url}${path}`, { method: 'DELETE' })
    const statusesThen = await statusesOf(a, id)
    if (del.status === 200) expect(statusesThen).toContain('SENDT')
    else expect409(del, BEING_SENT, path)
    expect(await receivedFiles(b, id)).toContain('vedtak.pdf')
  })

  it('after a restart, an upload the dead process left blocks the message only where another instance may run', async () => {
    world = await startPair(kind)
    const id = await arkivmeldingAt(world.a)
    await putAt(world.a.url, id, 'vedtak.pdf', '%PDF-1.4 vedtak')
    const message = await world.a.db.kysely.selectFrom('out_messages').select('id').executeTakeFirstOrThrow()
    const now = Date.now()
    // an upload cut off by a crash: its lease has not run out yet
    await world.a.db.kysely
      .insertInto('out_uploads')
      .values({ message_fk: message.id, lease_until: now + 60_000, created_at: now })
      .execute()
    await world.restart(ORG_A)
    const send = await json(`${world.a.url}/api/messages/out/${id}`, { method: 'POST' })
    // SQLite: one process owns the store, so the lease is a dead one's; PostgreSQL: it waits for the lease
    expect(send.status, JSON.stringify(send.body)).toBe(kind === 'sqlite' ? 200 : 409)
  })

  it('refuses a delete while another instance runs the send, and the message is delivered', async () => {
    world = await startPair(kind)
    const { a, b } = world
    const id = await arkivmeldingAt(a)
    await putAt(a.url, id, 'vedtak.pdf', '%PDF-1.4 vedtak')
    // another instance on this database has claimed the send job and is running it
    const now = Date.now()
    await a.db.kysely
      .insertInto('jobs')
      .values({
        kind: 'send:DPO',
        payload: JSON.stringify({ messageId: id }),
        message_id: id,
        dedupe_key: `send:${id}`,
        run_at: now,
        attempts: 1,
        max_attempts: 1000,
        state: 'PENDING',
        locked_by: 'another-instance',
        locked_until: now + 60_000,
        created_at: now,
        updated_at: now,
      })
      .execute()
    const path = `/api/messages/out/${id}`
    expect((await fetch(`${a.url}${path}`, { method: 'POST' })).status).toBe(200)

    expect409(await json(`${a.url}${path}`, { method: 'DELETE' }), BEING_SENT, path)
    expect((await json(`${a.url}${path}`)).status).toBe(200)
    // that instance dies; its lease is released and this one delivers the message the delete left alone
    await a.db.kysely
      .updateTable('jobs')
      .set({ locked_by: null, locked_until: null })
      .where('dedupe_key', '=', `send:${id}`)
      .execute()
    expect(await receivedFiles(b, id)).toContain('vedtak.pdf')
    await eventually(async () => ((await statusesOf(a, id)).includes('SENDT') ? true : undefined), 'SENDT')
  })
})
