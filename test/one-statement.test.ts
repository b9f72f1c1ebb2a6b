// On PostgreSQL, a one-step send's rows (with payloads in the database) and the end of a send job go in one
// statement each (src/messages/out/one-statement.ts); elsewhere statement by statement. These prove the two
// write the same rows, and that the statements are as atomic as the transactions they replace.
import { sql } from 'kysely'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { SendOutcome } from '../src/channels/ports.js'
import type { Db } from '../src/db/open.js'
import { sendJobHandler } from '../src/messages/out/dispatch.js'
import { finishInOneStatement, type SendEnd } from '../src/messages/out/one-statement.js'
import { filesOf, outMessageByMessageId } from '../src/messages/out/repository.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { outMessageRow, POSTGRES_URL, warnIfPostgresSkipped } from './support/db.js'
import { arkivmeldingSbd, jsonBody, startTestIp, type TestIp } from './support/ip.js'
import { eventually } from './support/poll.js'
import { type Subscriber, startSubscriber } from './support/subscriber.js'

warnIfPostgresSkipped()

type Json = Record<string, any>
const MESSAGE_ID = '5b0c3f0e-8d7a-4b55-9a43-2f6c1d0e9b11'
const CONVERSATION_ID = 'a6f1d2c4-3e5b-4f7a-8c9d-0e1f2a3b4c5d'
const DB_PAYLOADS = { 'difi.move.nextmove.use-db-persistence': 'true' }

function sendForm(messageId = MESSAGE_ID, pdfBytes = 1024 * 1024 + 3): FormData {
  const form = new FormData()
  const base = arkivmeldingSbd({ messageId, hoveddokument: 'vedtak.pdf' })
  const header = base.standardBusinessDocumentHeader
  // the same conversationId in every store, where the default is a new UUID
  const scope = [{ ...header.businessScope.scope[0]!, instanceIdentifier: CONVERSATION_ID }]
  const sbd = { ...base, standardBusinessDocumentHeader: { ...header, businessScope: { scope } } }
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  const xml = arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Vedtak i én setning' })
  form.append('Arkivmelding', new Blob([xml], { type: 'application/xml' }), 'arkivmelding.xml')
  // two chunks of the store's 1 MiB, so the chunks' order and payload are checked too
  const pdf = Buffer.alloc(pdfBytes, 'p')
  form.append('Vedtak', new Blob([new Uint8Array(pdf)], { type: 'application/pdf' }), 'vedtak.pdf')
  return form
}

/**
 * Every row a send writes, with ids replaced by their rank in the table, references by the referenced
 * row's rank, and storage keys (new UUIDs) by the file they belong to: what must match between stores.
 */
async function rowsOf(db: Db) {
  const k = db.kysely
  const rank = <T extends { id: number }>(rows: T[]) => new Map(rows.map((r, i) => [Number(r.id), i]))
  const messages = await k.selectFrom('out_messages').selectAll().orderBy('id').execute()
  const files = await k.selectFrom('out_files').selectAll().orderBy('id').execute()
  const conversations = await k.selectFrom('conversations').selectAll().orderBy('id').execute()
  const statuses = await k.selectFrom('message_statuses').selectAll().orderBy('id').execute()
  const queue = await k.selectFrom('status_queue').selectAll().orderBy('id').execute()
  const jobs = await k.selectFrom('jobs').selectAll().orderBy('id').execute()
  const payloads = await k.selectFrom('payloads').selectAll().orderBy('id').execute()
  const chunks = await k
    .selectFrom('payload_chunks')
    .selectAll()
    .orderBy('payload_fk')
    .orderBy('seq')
    .execute()
  const [m, c, s, p] = [rank(messages), rank(conversations), rank(statuses), rank(payloads)]
  const fileOfKey = new Map(files.map((f) => [f.storage_key, f.filename]))
  return {
    messages: messages.map(({ id, ...r }) => r),
    files: files.map(({ id, message_fk, storage_key, ...r }) => ({
      ...r,
      message: m.get(Number(message_fk)),
      underMessage: storage_key.startsWith(`out/${MESSAGE_ID}/`),
    })),
    conversations: conversations.map(({ id, ...r }) => r),
    statuses: statuses.map(({ id, conversation_fk, ...r }) => ({
      ...r,
      conversation: c.get(conversation_fk),
    })),
    queue: queue.map(({ id, status_fk, ...r }) => ({ ...r, status: s.get(Number(status_fk)) })),
    jobs: jobs.map(({ id, ...r }) => r),
    payloads: payloads.map(({ id, key, ...r }) => ({ ...r, file: fileOfKey.get(key ?? '') })),
    chunks: chunks.map(({ payload_fk, data, ...r }) => ({
      ...r,
      payload: p.get(Number(payload_fk)),
      bytes: Buffer.from(data).length,
      first: Buffer.from(data)[0],
    })),
  }
}

describe.skipIf(!POSTGRES_URL)('a one-step send in one statement on PostgreSQL', () => {
  const started: TestIp[] = []
  let subscriber: Subscriber | undefined
  const start = async (kind: 'sqlite' | 'postgres') => {
    const ip = await startTestIp(kind, { overrides: DB_PAYLOADS })
    started.push(ip)
    return ip
  }
  afterEach(async () => {
    for (const ip of started.splice(0)) await ip.close()
    await subscriber?.close()
    subscriber = undefined
  })

  it('stores the rows SQLite stores statement by statement', async () => {
    const [lite, pg] = [await start('sqlite'), await start('postgres')]
    // the path is chosen by the store: on PostgreSQL the database store can add its inserts to a statement
    expect([pg.db.caps.name, typeof pg.payloads.withInserted]).toEqual(['postgres', 'function'])
    for (const ip of [lite, pg]) {
      const res = await ip.json<Json>('/api/messages/out/multipart', { method: 'POST', body: sendForm() })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
    }
    const [expected, actual] = [await rowsOf(lite.db), await rowsOf(pg.db)]
    expect(actual).toEqual(expected)
    // and what the rows are, so that two stores agreeing on something wrong would fail too
    expect(actual.messages).toMatchObject([
      { message_id: MESSAGE_ID, state: 'SENDING', service_identifier: 'DPO' },
    ])
    expect(actual.files.map((f) => [f.filename, f.dokumentnummer, f.primary_document, f.message])).toEqual([
      ['arkivmelding.xml', 1, 0, 0],
      ['vedtak.pdf', 2, 1, 0],
    ])
    expect(actual.files.every((f) => f.underMessage)).toBe(true)
    expect(actual.conversations).toMatchObject([
      {
        message_id: MESSAGE_ID,
        latest_status: 'OPPRETTET',
        message_title: 'Vedtak i én setning',
        finished: 0,
      },
    ])
    expect(actual.statuses).toMatchObject([{ status: 'OPPRETTET', conversation: 0 }])
    expect(actual.queue).toMatchObject([{ status: 0, service_identifier: 'DPO' }])
    expect(actual.jobs).toMatchObject([{ kind: 'send:DPO', message_id: MESSAGE_ID, state: 'PENDING' }])
    expect(actual.payloads.map((p) => [p.file, p.size])).toEqual([
      ['arkivmelding.xml', expect.any(Number)],
      ['vedtak.pdf', 1024 * 1024 + 3],
    ])
    expect(actual.chunks.map((c) => [c.payload, c.seq, c.bytes])).toEqual([
      [0, 0, expect.any(Number)],
      [1, 0, 1024 * 1024],
      [1, 1, 3],
    ])
    // the API reads it back as any other message
    const conv = await pg.json<Json>(`/api/conversations/messageId/${MESSAGE_ID}`)
    expect(conv.body.messageStatuses.map((s: Json) => s.status)).toEqual(['OPPRETTET'])
  })

  it('stores an empty file as SQLite does: a payload without chunks', async () => {
    const [lite, pg] = [await start('sqlite'), await start('postgres')]
    for (const ip of [lite, pg]) {
      const res = await ip.json<Json>('/api/messages/out/multipart', {
        method: 'POST',
        body: sendForm(MESSAGE_ID, 0),
      })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
    }
    const [expected, actual] = [await rowsOf(lite.db), await rowsOf(pg.db)]
    expect(actual).toEqual(expected)
    expect(actual.payloads.map((p) => [p.file, p.size])).toEqual([
      ['arkivmelding.xml', expect.any(Number)],
      ['vedtak.pdf', 0],
    ])
    expect(actual.chunks.map((c) => c.payload)).toEqual([0])
  })

  it('loses a race for the messageId with a 400 and nothing of it stored', async () => {
    const ip = await start('postgres')
    const k = ip.db.kysely
    // another request's message with the same id, inserted but not committed: the send's check does not
    // see it, its statement then waits on the unique index and fails when the other commits
    let answer: Promise<{ status: number; body: Json }> | undefined
    await k.transaction().execute(async (trx) => {
      await trx
        .insertInto('out_messages')
        .values(outMessageRow(MESSAGE_ID, 1, { conversation_id: 'the-other' }))
        .execute()
      answer = ip.json<Json>('/api/messages/out/multipart', { method: 'POST', body: sendForm() })
      await eventually(async () => {
        const waiting = await sql<{ n: number }>`
          select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and query like 'with "inserted_payloads"%'`.execute(k)
        return waiting.rows[0]!.n === 1 ? true : undefined
      }, 'the send waiting on the unique index')
    })
    const res = await answer!
    expect(res.status).toBe(400)
    expect(res.body.exception).toBe('no.difi.meldingsutveksling.exceptions.MessageAlreadyExistsException')
    // only the other's row: no conversation, status, file, job or payload of the refused send
    expect(await k.selectFrom('out_messages').select('conversation_id').execute()).toEqual([
      { conversation_id: 'the-other' },
    ])
    for (const table of ['conversations', 'message_statuses', 'status_queue', 'out_files', 'jobs'] as const)
      expect(await k.selectFrom(table).selectAll().execute(), table).toEqual([])
    expect(await k.selectFrom('payloads').selectAll().execute()).toEqual([])
    expect(await k.selectFrom('payload_chunks').selectAll().execute()).toEqual([])
  })

  it('enqueues the webhook delivery of OPPRETTET with the message', async () => {
    const ip = await start('postgres')
    subscriber = await startSubscriber()
    const sub = { name: 'alle', pushEndpoint: `${subscriber.url}/hook`, resource: 'all', event: 'all' }
    expect((await ip.fetch('/api/subscriptions', jsonBody(sub))).status).toBe(200)
    const res = await ip.json<Json>('/api/messages/out/multipart', { method: 'POST', body: sendForm() })
    expect(res.status).toBe(200)
    const deliveries = await ip.db.kysely
      .selectFrom('jobs')
      .select(['kind', 'message_id', 'payload'])
      .where('kind', '=', 'webhook')
      .execute()
    expect(deliveries).toHaveLength(1)
    expect(deliveries[0]!.message_id).toBe(MESSAGE_ID)
    expect(JSON.parse(deliveries[0]!.payload).event).toMatchObject({
      messageId: MESSAGE_ID,
      status: 'OPPRETTET',
    })
  })
})

describe.skipIf(!POSTGRES_URL)("a send job's end in one statement on PostgreSQL", () => {
  const started: TestIp[] = []
  let subscriber: Subscriber | undefined
  afterEach(async () => {
    for (const ip of started.splice(0)) await ip.close()
    await subscriber?.close()
    subscriber = undefined
  })

  /** A one-step send, then its send job run with a channel that answers `outcome` (after `during`). */
  async function sendAndEnd(
    kind: 'sqlite' | 'postgres',
    outcome: SendOutcome,
    opts: { during?: (ip: TestIp) => Promise<void>; before?: (ip: TestIp) => Promise<void> } = {},
  ): Promise<TestIp> {
    const ip = await startTestIp(kind, { overrides: DB_PAYLOADS })
    started.push(ip)
    await opts.before?.(ip)
    const res = await ip.json<Json>('/api/messages/out/multipart', { method: 'POST', body: sendForm() })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const handler = sendJobHandler({
      db: ip.db,
      clock: ip.clock,
      logger: pino({ level: 'silent' }),
      payloads: ip.payloads,
      channels: {
        DPO: {
          send: async () => {
            await opts.during?.(ip)
            return outcome
          },
        },
      },
    })
    const job = await ip.db.kysely
      .selectFrom('jobs')
      .selectAll()
      .where('kind', '=', 'send:DPO')
      .executeTakeFirstOrThrow()
    await handler(job)
    return ip
  }

  const ends: [string, SendOutcome, string][] = [
    ['delivered', { outcome: 'delivered' }, 'SENDT'],
    ['refused', { outcome: 'failed', reason: 'the broker said no' }, 'FEIL'],
    ['expired', { outcome: 'expired', reason: 'too late' }, 'LEVETID_UTLOPT'],
  ]
  it.each(ends)('ends a send %s as SQLite ends it statement by statement', async (_, outcome, status) => {
    const [lite, pg] = [await sendAndEnd('sqlite', outcome), await sendAndEnd('postgres', outcome)]
    const [expected, actual] = [await rowsOf(lite.db), await rowsOf(pg.db)]
    expect(actual).toEqual(expected)
    // the message and its payloads are gone, the conversation keeps its status and the list of its files
    expect([actual.messages, actual.files, actual.payloads, actual.chunks]).toEqual([[], [], [], []])
    expect(actual.statuses.map((s) => [s.status, s.conversation])).toEqual([
      ['OPPRETTET', 0],
      [status, 0],
    ])
    expect(actual.queue.map((q) => q.status)).toEqual([0, 1])
    expect(actual.conversations).toMatchObject([
      { latest_status: status, finished: status === 'SENDT' ? 0 : 1 },
    ])
    const kept = JSON.parse(actual.conversations[0]!.files!)
    expect(kept.map((f: Json) => [f.filename, f.primary])).toEqual([
      ['arkivmelding.xml', false],
      ['vedtak.pdf', true],
    ])
  })

  it('registers the status but keeps no file list when the fagsystem deleted the message during the send', async () => {
    const during = async (ip: TestIp) => {
      expect((await ip.fetch(`/api/messages/out/${MESSAGE_ID}`, { method: 'DELETE' })).status).toBe(200)
    }
    const outcome: SendOutcome = { outcome: 'delivered' }
    const [lite, pg] = [
      await sendAndEnd('sqlite', outcome, { during }),
      await sendAndEnd('postgres', outcome, { during }),
    ]
    const [expected, actual] = [await rowsOf(lite.db), await rowsOf(pg.db)]
    expect(actual).toEqual(expected)
    expect(actual.statuses.map((s) => s.status)).toEqual(['OPPRETTET', 'SENDT'])
    expect(actual.conversations).toMatchObject([{ latest_status: 'SENDT', files: null }])
  })

  it('leaves the conversation as it was when it had the status already, and still removes the message', async () => {
    // FEIL registered by someone else first: the second FEIL is no status of its own
    const during = async (ip: TestIp) => {
      const c = await ip.db.kysely.selectFrom('conversations').select('id').executeTakeFirstOrThrow()
      await ip.db.kysely
        .insertInto('message_statuses')
        .values({
          conversation_fk: c.id,
          status: 'FEIL',
          description: 'first',
          raw_receipt: null,
          last_update: 5,
        })
        .execute()
    }
    const outcome: SendOutcome = { outcome: 'failed', reason: 'second' }
    const [lite, pg] = [
      await sendAndEnd('sqlite', outcome, { during }),
      await sendAndEnd('postgres', outcome, { during }),
    ]
    const [expected, actual] = [await rowsOf(lite.db), await rowsOf(pg.db)]
    expect(actual).toEqual(expected)
    expect(actual.statuses.map((s) => [s.status, s.description])).toEqual([
      ['OPPRETTET', null],
      ['FEIL', 'first'],
    ])
    expect(actual.conversations).toMatchObject([{ latest_status: 'OPPRETTET', finished: 0 }])
    expect(actual.messages).toEqual([])
    expect(JSON.parse(actual.conversations[0]!.files!)).toHaveLength(2)
  })

  it('enqueues the webhook delivery of the final status with it', async () => {
    subscriber = await startSubscriber()
    const sub = { name: 'alle', pushEndpoint: `${subscriber.url}/hook`, resource: 'all', event: 'all' }
    const before = async (ip: TestIp) => {
      expect((await ip.fetch('/api/subscriptions', jsonBody(sub))).status).toBe(200)
    }
    const ip = await sendAndEnd('postgres', { outcome: 'failed', reason: 'no' }, { before })
    const deliveries = await ip.db.kysely
      .selectFrom('jobs')
      .select('payload')
      .where('kind', '=', 'webhook')
      .orderBy('id')
      .execute()
    expect(deliveries.map((d) => JSON.parse(d.payload).event.status)).toEqual(['OPPRETTET', 'FEIL'])
  })

  it('commits alone only while no webhook subscription exists: with one, it changes nothing and says so', async () => {
    subscriber = await startSubscriber()
    const sub = { name: 'alle', pushEndpoint: `${subscriber.url}/hook`, resource: 'all', event: 'all' }
    const ip = await startTestIp('postgres', { overrides: DB_PAYLOADS })
    started.push(ip)
    const res = await ip.json<Json>('/api/messages/out/multipart', { method: 'POST', body: sendForm() })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect((await ip.fetch('/api/subscriptions', jsonBody(sub))).status).toBe(200)
    const before = await rowsOf(ip.db)
    const message = await outMessageByMessageId(ip.db.kysely, MESSAGE_ID)
    const end: SendEnd = {
      messageId: MESSAGE_ID,
      purpose: `send:${MESSAGE_ID}`,
      files: await filesOf(ip.db.kysely, message!.id),
      status: { status: 'SENDT' },
      now: 1_800_000_000_000,
    }
    expect(await finishInOneStatement(ip.db.kysely, end, { alone: true })).toBe(false)
    expect(await rowsOf(ip.db)).toEqual(before)
    // in a transaction it does the work, with the delivery
    await ip.db.kysely.transaction().execute((trx) => finishInOneStatement(trx, end, { alone: false }))
    const after = await rowsOf(ip.db)
    expect(after.messages).toEqual([])
    expect(after.statuses.map((s) => s.status)).toEqual(['OPPRETTET', 'SENDT'])
    const deliveries = after.jobs.filter((j) => j.kind === 'webhook')
    // the subscription came after OPPRETTET
    expect(deliveries.map((d) => JSON.parse(d.payload).event.status)).toEqual(['SENDT'])
  })
})
