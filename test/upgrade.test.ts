import { randomUUID } from 'node:crypto'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Kysely, sql } from 'kysely'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import type { DialectCapabilities } from '../src/db/capabilities.js'
import * as m0001 from '../src/db/migrations/0001-init.js'
import * as m0002 from '../src/db/migrations/0002-incoming.js'
import { type Db, openDb } from '../src/db/open.js'
import type { Database } from '../src/db/schema.js'
import { enqueue } from '../src/jobs/outbox.js'
import { type RunningIntegrationPoint, startIntegrationPoint } from '../src/main.js'
import { markSending } from '../src/messages/out/repository.js'
import { businessKeystore, sandboxProperties } from '../src/sandbox.js'
import { startAltinnBroker } from '../src/standins/altinn-broker/server.js'
import { startServiceRegistry } from '../src/standins/service-registry/server.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import {
  createTestStore,
  STORES,
  type StoreKind,
  type TestStore,
  warnIfPostgresSkipped,
} from './support/db.js'
import { arkivmeldingSbd } from './support/ip.js'
import { altinnOnly } from './support/stand-ins.js'

warnIfPostgresSkipped()

const A = '910075918'
const B = '910077473'
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })

type Migration = { up(db: Kysely<any>, caps: DialectCapabilities): Promise<void> }
const OLDER: Record<string, Migration[]> = { '0001': [m0001], '0001+0002': [m0001, m0002] }
const NAMES: Record<string, string[]> = {
  '0001': ['0001-init'],
  '0001+0002': ['0001-init', '0002-incoming'],
}

/**
 * Issue 6, upgrades: a database an older version made (only its migrations, with its rows: messages
 * with files, conversations, statuses, a pending send job and, from 0002 on, a queued incoming message)
 * is opened by the current version. Migrations run forward on start, nothing is lost, and the old rows
 * work: the old messages are sent and delivered, the old incoming message is taken by the fagsystem.
 *
 * The old rows are what the current code writes (the tables of those migrations have not changed
 * since, but for out_files' crc32 of 0010, left out), made by an integration point on a current store
 * and copied into the older one.
 */
describe.each(STORES)('an upgrade on %s', (kind) => {
  let world: World | undefined
  afterEach(async () => {
    await world?.close()
    world = undefined
  })

  for (const older of Object.keys(OLDER)) {
    it(`starts on a database made by migrations ${older} and carries on with its rows`, async () => {
      world = await startWorld(kind)
      const withIncoming = older !== '0001'
      // the older version's database: its migrations and its bookkeeping, nothing more
      const store = await world.store()
      const oldDb = await openDb(store.datasource, { cwd: store.dir, migrate: false })
      await migrateOnly(oldDb, older)
      const made = await world.makeOldRows(oldDb, store, withIncoming)
      await oldDb.close()

      const a = await world.start(A, store)
      const db = a.db.kysely
      const ran = (await sql<{ name: string }>`select name from ip_migrations order by name`.execute(db)).rows
      expect(ran.map((r) => r.name)).toEqual([
        '0001-init',
        '0002-incoming',
        '0003-webhooks',
        '0004-web',
        '0005-retention-indexes',
        '0006-upload-leases',
        '0007-payloads',
        '0008-instances',
        '0009-payload-key-order',
        '0010-out-file-crc32',
        // the channels' own, which run whether or not the service is enabled
        'DPE-0001-sas-key',
        'DPI-0001-sent-and-receipts',
      ])
      // nothing lost: every old conversation, status and file is there
      for (const id of [made.created, made.sending]) {
        expect(await statuses(a, id)).toEqual(['OPPRETTET'])
        const message = await json(`${a.url}/api/messages/out/${id}`)
        expect(message.status, id).toBe(200)
      }
      // the old rows work: the message created under the old version is sent now (its files without the
      // CRC-32 an upload now counts: read once first for it, as before), the pending job runs
      expect((await fetch(`${a.url}/api/messages/out/${made.created}`, { method: 'POST' })).status).toBe(200)
      const b = world.b!
      for (const id of [made.created, made.sending]) await takeAt(b, id)
      for (const id of [made.created, made.sending]) await until(a, id, 'LEVERT')
      if (made.incoming) {
        // the incoming message the old version queued is the fagsystem's to take, whole, as before
        await takeAt(a, made.incoming)
        await until(b, made.incoming, 'LEVERT')
      }
    }, 90_000)
  }
})

/** Runs only the older migrations, with the bookkeeping migrations.ts keeps. */
async function migrateOnly(db: Db, older: string): Promise<void> {
  for (const m of OLDER[older]!) await m.up(db.kysely, db.caps)
  await sql`create table if not exists ip_migrations (name varchar(255) not null primary key, timestamp varchar(255) not null)`.execute(
    db.kysely,
  )
  for (const name of NAMES[older]!)
    await sql`insert into ip_migrations (name, timestamp) values (${name}, ${new Date().toISOString()})`.execute(
      db.kysely,
    )
}

interface World {
  b?: RunningIntegrationPoint
  store(): Promise<TestStore>
  start(org: string, store: TestStore, props?: Record<string, string>): Promise<RunningIntegrationPoint>
  makeOldRows(
    oldDb: Db,
    oldStore: TestStore,
    withIncoming: boolean,
  ): Promise<{ created: string; sending: string; incoming?: string }>
  close(): Promise<void>
}

/** The stand-ins, B, and a way to start A; A's old rows are made by a donor A on a store of its own. */
async function startWorld(kind: StoreKind): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'upgrade-'))
  const registry = await startServiceRegistry({ port: 0, dataDir: join(dir, 'sr'), logger, watch: false })
  const broker = await startAltinnBroker({ port: 0, dataDir: join(dir, 'broker'), logger })
  const stores: TestStore[] = []
  const running: RunningIntegrationPoint[] = []
  const world: World = {
    async store() {
      const s = await createTestStore(kind)
      stores.push(s)
      return s
    },
    async start(org, store, props = {}) {
      const config = loadConfig({
        cwd: store.dir,
        env: {},
        overrides: {
          ...sandboxProperties(
            org,
            0,
            registry.url,
            altinnOnly(broker.url),
            businessKeystore(join(dir, 'sr'), org, dir),
          ),
          'difi.datasource.url': store.url,
          'difi.move.nextmove.filedir': join(store.dir, 'messages'),
          'difi.move.dpo.pollingrate': '100',
          'difi.move.nextmove.retry.initial-interval-ms': '100',
          ...props,
        },
      })
      const ip = await startIntegrationPoint({ config, cwd: store.dir, logger })
      running.push(ip)
      return ip
    },
    async makeOldRows(oldDb, oldStore, withIncoming) {
      world.b ??= await world.start(B, await world.store())
      const donorStore = await world.store()
      // the older versions kept payloads in files on PostgreSQL too; the current one then reads them from there
      const donor = await world.start(A, donorStore, { 'difi.move.nextmove.use-db-persistence': 'false' })
      const created = await createWithFiles(donor.url)
      const sending = await createWithFiles(donor.url)
      let incoming: string | undefined
      if (withIncoming) {
        incoming = await sendMultipart(world.b, A)
        await untilQueued(donor, incoming)
      }
      await donor.stop()
      const from = await donorStore.open()
      try {
        await copyRows(from, oldDb, [created, sending, ...(incoming ? [incoming] : [])], withIncoming)
      } finally {
        await from.close()
      }
      cpSync(join(donorStore.dir, 'messages'), join(oldStore.dir, 'messages'), { recursive: true })
      // sent under the old version, its job not yet run when the old version stopped
      await oldDb.kysely.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('out_messages')
          .select('id')
          .where('message_id', '=', sending)
          .executeTakeFirstOrThrow()
        await markSending(trx, row.id, Date.now())
        // the job as the old version made it: one `send` kind for every service (migration 0008 renames it)
        const now = Date.now()
        await enqueue(
          trx,
          {
            kind: 'send',
            payload: { messageId: sending },
            messageId: sending,
            dedupeKey: `send:${sending}`,
            runAt: now,
          },
          now,
        )
      })
      return { created, sending, ...(incoming ? { incoming } : {}) }
    },
    async close() {
      await Promise.all(running.map((r) => r.stop()))
      await broker.close()
      await registry.close()
      await Promise.all(stores.map((s) => s.cleanup()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return world
}

/** Copies the rows of these messages, new ids in the target and the references between them kept. */
async function copyRows(from: Db, to: Db, messageIds: string[], withIncoming: boolean): Promise<void> {
  const src = from.kysely
  const dst = to.kysely as Kysely<Database>
  const conversationIds = new Map<number, number>()
  // latest_status and files came with 0004: the older schema has no such columns (0004 fills them on upgrade)
  for (const { id, latest_status: _, files: __, ...row } of await src
    .selectFrom('conversations')
    .selectAll()
    .where('message_id', 'in', messageIds)
    .execute()) {
    const made = await dst.insertInto('conversations').values(row).returning('id').executeTakeFirstOrThrow()
    conversationIds.set(id, made.id)
  }
  for (const { id: _, conversation_fk, ...row } of await src
    .selectFrom('message_statuses')
    .selectAll()
    .where('conversation_fk', 'in', [...conversationIds.keys()])
    .execute())
    await dst
      .insertInto('message_statuses')
      .values({ ...row, conversation_fk: conversationIds.get(conversation_fk)! })
      .execute()
  for (const { id, ...row } of await src
    .selectFrom('out_messages')
    .selectAll()
    .where('message_id', 'in', messageIds)
    .execute()) {
    const made = await dst.insertInto('out_messages').values(row).returning('id').executeTakeFirstOrThrow()
    // out_files has had a crc32 since 0010: the older version's files have none
    for (const { id: _, message_fk: __, crc32: ___, ...file } of await src
      .selectFrom('out_files')
      .selectAll()
      .where('message_fk', '=', id)
      .execute())
      await dst
        .insertInto('out_files')
        .values({ ...file, message_fk: made.id })
        .execute()
  }
  if (!withIncoming) return
  for (const { id: _, ...row } of await src
    .selectFrom('in_messages')
    .selectAll()
    .where('message_id', 'in', messageIds)
    .execute())
    await dst.insertInto('in_messages').values(row).execute()
  for (const { id: _, ...row } of await src
    .selectFrom('received')
    .selectAll()
    .where('message_id', 'in', messageIds)
    .execute())
    await dst.insertInto('received').values(row).execute()
}

type Json = Record<string, any>

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, init)
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

/** Creates a message to B and uploads arkivmelding.xml and its document; it is not sent. */
async function createWithFiles(url: string): Promise<string> {
  const messageId = randomUUID()
  const sbd = arkivmeldingSbd({ receiver: B, messageId, hoveddokument: 'vedtak.txt' })
  const created = await fetch(`${url}/api/messages/out`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sbd),
  })
  expect(created.status, await created.clone().text()).toBe(200)
  for (const [name, body, type] of [
    ['arkivmelding.xml', arkivmeldingXml({ files: ['vedtak.txt'] }), 'application/xml'],
    ['vedtak.txt', `vedtak ${messageId}\n`, 'text/plain'],
  ] as const) {
    const put = await fetch(`${url}/api/messages/out/${messageId}`, {
      method: 'PUT',
      headers: { 'content-type': type, 'content-disposition': `attachment; filename=${name}` },
      body,
    })
    expect(put.status, await put.clone().text()).toBe(200)
  }
  return messageId
}

async function sendMultipart(from: RunningIntegrationPoint, to: string): Promise<string> {
  const messageId = randomUUID()
  const form = new FormData()
  const sbd = arkivmeldingSbd({ receiver: to, messageId, hoveddokument: 'vedtak.txt' })
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  form.append('Arkivmelding', new Blob([arkivmeldingXml({ files: ['vedtak.txt'] })]), 'arkivmelding.xml')
  form.append('Vedtak', new Blob(['vedtak\n'], { type: 'text/plain' }), 'vedtak.txt')
  const res = await fetch(`${from.url}/api/messages/out/multipart`, { method: 'POST', body: form })
  expect(res.status, await res.clone().text()).toBe(200)
  return messageId
}

async function statuses(ip: RunningIntegrationPoint, messageId: string): Promise<string[]> {
  return (await json(`${ip.url}/api/statuses/${messageId}?sort=id`)).body.content.map((s: Json) => s.status)
}

async function eventually(probe: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function untilQueued(ip: RunningIntegrationPoint, messageId: string): Promise<void> {
  await eventually(
    async () => (await json(`${ip.url}/api/messages/in?messageId=${messageId}`)).body?.totalElements === 1,
    `${messageId} queued`,
  )
}

async function until(ip: RunningIntegrationPoint, messageId: string, status: string): Promise<void> {
  await eventually(async () => (await statuses(ip, messageId)).includes(status), `${status} on ${messageId}`)
}

/** The fagsystem takes this message: peek until it is the one, pop it whole, delete it. */
async function takeAt(ip: RunningIntegrationPoint, messageId: string): Promise<void> {
  await untilQueued(ip, messageId)
  await eventually(async () => {
    const peek = await json(`${ip.url}/api/messages/in/peek?messageId=${messageId}`)
    return peek.status === 200
  }, `a peek of ${messageId}`)
  const pop = await fetch(`${ip.url}/api/messages/in/pop/${messageId}`)
  expect(pop.status).toBe(200)
  expect((await pop.arrayBuffer()).byteLength).toBeGreaterThan(0)
  expect((await fetch(`${ip.url}/api/messages/in/${messageId}`, { method: 'DELETE' })).status).toBe(200)
}
