import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { insertConversation, registerStatus } from '../src/conversations/repository.js'
import type { Db } from '../src/db/open.js'
import { createLocalPayloadStore, type PayloadStore } from '../src/files/payload-store.js'
import { enqueue } from '../src/jobs/outbox.js'
import { startIntegrationPoint } from '../src/main.js'
import { inPayloadKey } from '../src/messages/in/orphans.js'
import { outPayloadKey } from '../src/messages/out/orphans.js'
import {
  RECEIVED_KEEP_DAYS,
  type RetentionDeps,
  retentionRound,
  retentionTask,
  TRANSFER_KEEP_DAYS,
} from '../src/ops/retention.js'
import { ManualClock } from '../src/util/time.js'
import { createTestStore, STORES, type TestStore, warnIfPostgresSkipped } from './support/db.js'

warnIfPostgresSkipped()

const DAY = 86_400_000
const logger = pino({ level: 'silent' })

describe.each(STORES)('retention on %s', (kind) => {
  let store: TestStore
  let db: Db
  let payloads: PayloadStore
  let clock: ManualClock
  let deps: RetentionDeps
  beforeEach(async () => {
    store = await createTestStore(kind)
    db = await store.open()
    clock = new ManualClock('2026-01-01T12:00:00Z')
    payloads = createLocalPayloadStore(join(store.dir, 'messages'), { clock })
    deps = { db, clock, payloads, logger }
  })
  afterEach(async () => {
    await db.close()
    await store.cleanup()
  })

  /** A conversation with these statuses registered `daysAgo` before the clock's now. */
  async function conversation(
    direction: 'OUTGOING' | 'INCOMING',
    statuses: string[],
    daysAgo: number,
  ): Promise<{ messageId: string; id: number }> {
    const at = clock.now().getTime() - daysAgo * DAY
    const messageId = randomUUID()
    const row = await insertConversation(db.kysely, {
      conversation_id: randomUUID(),
      message_id: messageId,
      sender: null,
      sender_identifier: '910075918',
      receiver: null,
      receiver_identifier: '910077473',
      process_identifier: null,
      document_identifier: null,
      message_reference: null,
      message_title: null,
      service_identifier: 'DPO',
      direction,
      expiry: null,
      finished: 0,
      pollable: 1,
      external_system_reference: null,
      created_at: at,
      last_update: at,
    })
    for (const status of statuses) await registerStatus(db.kysely, row, { status }, at)
    return { messageId, id: row.id }
  }

  /** An outgoing message row that never got sent, with one file on disk. */
  async function leftOutMessage(messageId: string, daysAgo: number): Promise<string> {
    const at = clock.now().getTime() - daysAgo * DAY
    const key = outPayloadKey(messageId, randomUUID())
    await payloads.write(key, Readable.from([Buffer.from('vedlegg')]), {
      maxBytes: 1000,
      onLimit: () => new Error('too big'),
    })
    const msg = await db.kysely
      .insertInto('out_messages')
      .values({
        message_id: messageId,
        conversation_id: randomUUID(),
        process_identifier: null,
        document_identifier: null,
        type: 'arkivmelding',
        receiver_identifier: '910077473',
        sender_identifier: '910075918',
        service_identifier: 'DPO',
        sbd: '{}',
        state: 'CREATED',
        created_at: at,
        last_updated: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await db.kysely
      .insertInto('out_files')
      .values({
        message_fk: msg.id,
        dokumentnummer: 1,
        filename: 'vedlegg.txt',
        title: null,
        mime_type: 'text/plain',
        size: 7,
        primary_document: 1,
        storage_key: key,
        sha256: 'x',
        created_at: at,
      })
      .execute()
    return key
  }

  /** A queued incoming message with its (encrypted) payload on disk. */
  async function leftInMessage(messageId: string, daysAgo: number): Promise<string> {
    const at = clock.now().getTime() - daysAgo * DAY
    const key = inPayloadKey(messageId, randomUUID())
    await payloads.write(key, Readable.from([Buffer.from('asic')]), {
      maxBytes: 1000,
      onLimit: () => new Error('too big'),
    })
    await db.kysely
      .insertInto('in_messages')
      .values({
        message_id: messageId,
        conversation_id: randomUUID(),
        service_identifier: 'DPO',
        type: 'arkivmelding',
        process_identifier: null,
        sender_identifier: '910075918',
        receiver_identifier: '910077473',
        sbd: '{}',
        asic_key: key,
        asic_size: 4,
        lock_timeout: null,
        created_at: at,
        last_updated: at,
      })
      .execute()
    return key
  }

  async function job(state: 'PENDING' | 'DONE' | 'FAILED', daysAgo: number): Promise<number> {
    const at = clock.now().getTime() - daysAgo * DAY
    const dedupeKey = randomUUID()
    await enqueue(db.kysely, { kind: 'send', payload: {}, dedupeKey, runAt: at }, at)
    await db.kysely
      .updateTable('jobs')
      .set({ state, updated_at: at })
      .where('dedupe_key', '=', dedupeKey)
      .execute()
    const row = await db.kysely
      .selectFrom('jobs')
      .select('id')
      .where('dedupe_key', '=', dedupeKey)
      .executeTakeFirstOrThrow()
    return row.id
  }

  async function received(daysAgo: number): Promise<string> {
    const key = randomUUID()
    await db.kysely
      .insertInto('received')
      .values({
        dedupe_key: key,
        message_id: key,
        service_identifier: 'DPO',
        transfer_ref: null,
        received_at: clock.now().getTime() - daysAgo * DAY,
      })
      .execute()
    return key
  }

  async function transfer(daysAgo: number): Promise<string> {
    const purpose = `send:${randomUUID()}`
    await db.kysely
      .insertInto('handovers')
      .values({ purpose, ref: randomUUID(), created_at: clock.now().getTime() - daysAgo * DAY })
      .execute()
    return purpose
  }

  const count = async (table: 'conversations' | 'message_statuses' | 'status_queue', fks?: number[]) => {
    if (table === 'conversations')
      return (await db.kysely.selectFrom('conversations').select('id').where('id', 'in', fks!).execute())
        .length
    if (table === 'message_statuses')
      return (
        await db.kysely
          .selectFrom('message_statuses')
          .select('id')
          .where('conversation_fk', 'in', fks!)
          .execute()
      ).length
    return (
      await db.kysely
        .selectFrom('status_queue as q')
        .innerJoin('message_statuses as s', 's.id', 'q.status_fk')
        .select('q.id')
        .where('s.conversation_fk', 'in', fks!)
        .execute()
    ).length
  }

  async function untilDone(days: number, batchSize: number): Promise<number[]> {
    const rounds: number[] = []
    for (;;) {
      const r = await retentionRound(deps, { days, batchSize })
      const n = r.conversations + r.jobs + r.received + r.handovers
      if (n === 0) return rounds
      rounds.push(n)
    }
  }

  it('removes finished history older than N days with all that hangs on it, and nothing else', async () => {
    const oldOut = await conversation('OUTGOING', ['OPPRETTET', 'LEVETID_UTLOPT'], 30)
    const outKey = await leftOutMessage(oldOut.messageId, 30)
    const oldIn = await conversation(
      'INCOMING',
      ['OPPRETTET', 'INNKOMMENDE_MOTTATT', 'INNKOMMENDE_LEVERT'],
      30,
    )
    const inKey = await leftInMessage(oldIn.messageId, 30)
    const oldDelivered = await conversation('OUTGOING', ['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'], 30)
    const oldOpen = await conversation('OUTGOING', ['OPPRETTET', 'SENDT'], 30)
    const openInKey = await leftInMessage((await conversation('INCOMING', ['OPPRETTET'], 30)).messageId, 30)
    const recent = await conversation('OUTGOING', ['OPPRETTET', 'SENDT', 'LEVERT'], 6)
    const jobs = {
      done: await job('DONE', 30),
      failed: await job('FAILED', 30),
      pending: await job('PENDING', 30),
    }
    const recentJob = await job('DONE', 6)

    await untilDone(7, 200)

    const gone = [oldOut.id, oldIn.id, oldDelivered.id]
    const kept = [oldOpen.id, recent.id]
    expect(await count('conversations', gone)).toBe(0)
    expect(await count('message_statuses', gone)).toBe(0)
    expect(await count('status_queue', gone)).toBe(0)
    expect(await count('conversations', kept)).toBe(2)
    expect(await count('message_statuses', kept)).toBe(5)
    expect(await count('status_queue', kept)).toBe(5)
    // what was left of the removed conversations' messages went with them, files and all
    expect(await db.kysely.selectFrom('out_messages').select('id').execute()).toEqual([])
    expect(await db.kysely.selectFrom('out_files').select('id').execute()).toEqual([])
    expect(await payloads.exists(outKey)).toBe(false)
    expect(await payloads.exists(inKey)).toBe(false)
    // an open conversation's queued message stays, however old
    const queued = await db.kysely.selectFrom('in_messages').select('asic_key').execute()
    expect(queued.map((r) => r.asic_key)).toEqual([openInKey])
    expect(await payloads.exists(openInKey)).toBe(true)
    const jobIds = (await db.kysely.selectFrom('jobs').select('id').orderBy('id').execute()).map((r) => r.id)
    expect(jobIds).toEqual([jobs.pending, recentJob])
    expect(jobs.done + jobs.failed).toBeGreaterThan(0)
  })

  it(`keeps what makes a copy a duplicate for at least ${RECEIVED_KEEP_DAYS} days, broker transfers ${TRANSFER_KEEP_DAYS}`, async () => {
    const oldReceived = await received(RECEIVED_KEEP_DAYS + 1)
    const youngReceived = await received(RECEIVED_KEEP_DAYS - 1)
    const oldTransfer = await transfer(TRANSFER_KEEP_DAYS + 1)
    const youngTransfer = await transfer(TRANSFER_KEEP_DAYS - 1)
    await untilDone(7, 200)
    const keys = (await db.kysely.selectFrom('received').select('dedupe_key').execute()).map(
      (r) => r.dedupe_key,
    )
    expect(keys).toEqual([youngReceived])
    expect(keys).not.toContain(oldReceived)
    const purposes = (await db.kysely.selectFrom('handovers').select('purpose').execute()).map(
      (r) => r.purpose,
    )
    expect(purposes).toEqual([youngTransfer])
    expect(purposes).not.toContain(oldTransfer)
    // a longer retention keeps them longer
    await received(RECEIVED_KEEP_DAYS + 10)
    await untilDone(60, 200)
    expect(await db.kysely.selectFrom('received').select('id').execute()).toHaveLength(2)
  })

  it('works in batches of the configured size, each its own transaction', async () => {
    for (let i = 0; i < 5; i++) await conversation('OUTGOING', ['OPPRETTET', 'LEVERT'], 30)
    const first = await retentionRound(deps, { days: 7, batchSize: 2 })
    expect(first.conversations).toBe(2)
    // what a batch removed is committed before the next begins: another connection sees it
    const other = await store.open()
    try {
      expect(await other.kysely.selectFrom('conversations').select('id').execute()).toHaveLength(3)
    } finally {
      await other.close()
    }
    expect(await untilDone(7, 2)).toEqual([2, 1])
  })

  it('is off at 0 days, and as a loop runs its rounds back to back until nothing is left', async () => {
    expect(retentionTask(deps, { days: 0, batchSize: 10, intervalMs: 1000 })).toBeNull()
    for (let i = 0; i < 3; i++) await conversation('INCOMING', ['OPPRETTET', 'INNKOMMENDE_LEVERT'], 10)
    const loop = retentionTask(deps, { days: 7, batchSize: 1, intervalMs: 60_000 })!
    expect(await loop.tick()).toBe(1)
    expect(await loop.tick()).toBe(1)
    expect(await loop.tick()).toBe(1)
    expect(await loop.tick()).toBe(0)
  })

  it('runs in a started integration point when difi.move.retention.days is set', async () => {
    const old = await conversation('OUTGOING', ['OPPRETTET', 'LEVERT'], 10)
    const open = await conversation('OUTGOING', ['OPPRETTET'], 10)
    const config = loadConfig({
      cwd: store.dir,
      env: {},
      overrides: {
        'difi.move.org.number': '910075918',
        'difi.datasource.url': store.url,
        'difi.move.nextmove.filedir': join(store.dir, 'messages'),
        'difi.move.serviceregistryEndpoint': 'http://127.0.0.1:9',
        'difi.security.enable': 'false',
        'difi.ssl.enabled': 'false',
        'server.port': '0',
        'server.address': '127.0.0.1',
        'difi.move.retention.days': '7',
      },
    })
    const ip = await startIntegrationPoint({ config, cwd: store.dir, logger, clock })
    try {
      // the loop's first round runs at start
      for (let i = 0; i < 200 && (await count('conversations', [old.id])) > 0; i++)
        await new Promise((r) => setTimeout(r, 25))
      expect(await count('conversations', [old.id, open.id])).toBe(1)
      expect(await count('conversations', [open.id])).toBe(1)
    } finally {
      await ip.stop()
    }
  })
})
