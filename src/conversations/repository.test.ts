import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestStore, STORES, type TestStore } from '../../test/support/db.js'
import type { Db } from '../db/open.js'
import type { NewConversation } from '../db/schema.js'
import { conversationById, insertConversation, registerStatus, statusesOf } from './repository.js'

const conversation = (now: number): NewConversation => ({
  conversation_id: 'c-1',
  message_id: 'm-1',
  sender: null,
  sender_identifier: null,
  receiver: null,
  receiver_identifier: null,
  process_identifier: null,
  document_identifier: null,
  message_reference: 'c-1',
  message_title: '',
  service_identifier: 'DPO',
  direction: 'OUTGOING',
  expiry: null,
  finished: 0,
  pollable: 1,
  external_system_reference: null,
  created_at: now,
  last_update: now,
})

describe.each(STORES)('registerStatus on %s', (kind) => {
  let store: TestStore
  let db: Db
  beforeEach(async () => {
    store = await createTestStore(kind)
    db = await store.open()
  })
  afterEach(async () => {
    await db.close()
    await store.cleanup()
  })

  it('registers each status once, finishing the conversation and stopping its polling as the reference', async () => {
    const row = await insertConversation(db.kysely, conversation(1000))
    expect((await registerStatus(db.kysely, row, { status: 'OPPRETTET' }, 1000))?.status).toBe('OPPRETTET')
    expect(await conversationById(db.kysely, row.id)).toMatchObject({
      finished: 0,
      pollable: 1,
      last_update: 1000,
    })
    await registerStatus(db.kysely, row, { status: 'LEVERT', description: 'levert' }, 2000)
    // LEVERT finishes but keeps polling (a LEST may follow); FEIL stops both
    expect(await conversationById(db.kysely, row.id)).toMatchObject({
      finished: 1,
      pollable: 1,
      last_update: 2000,
    })
    await registerStatus(db.kysely, row, { status: 'FEIL' }, 3000)
    expect(await conversationById(db.kysely, row.id)).toMatchObject({
      finished: 1,
      pollable: 0,
      last_update: 3000,
    })
    // a second registration is a no-op that leaves the conversation as it was
    expect(await registerStatus(db.kysely, row, { status: 'FEIL' }, 4000)).toBeUndefined()
    expect((await conversationById(db.kysely, row.id))?.last_update).toBe(3000)
    expect((await statusesOf(db.kysely, [row.id])).map((s) => [s.status, s.description])).toEqual([
      ['OPPRETTET', null],
      ['LEVERT', 'levert'],
      ['FEIL', null],
    ])
  })

  it("returns the status as stored, with its status-queue entry and webhook events, all in the caller's transaction", async () => {
    const k = db.kysely
    const row = await insertConversation(k, conversation(1000))
    const subscription = {
      name: 'all',
      push_endpoint: 'http://127.0.0.1:9/hook',
      resource: 'all',
      event: 'all',
      filter: null,
      secret: null,
      created_at: 1000,
      failing_since: null,
      last_error: null,
      given_up: 0,
    }
    await k.insertInto('webhook_subscriptions').values(subscription).execute()
    const registered = await k
      .transaction()
      .execute((trx) => registerStatus(trx, row, { status: 'LEVERT', description: 'levert' }, 2000))
    // the same values and types as reading the row back
    const stored = await k.selectFrom('message_statuses').selectAll().executeTakeFirstOrThrow()
    expect(registered).toStrictEqual(stored)
    expect(stored).toMatchObject({
      conversation_fk: row.id,
      status: 'LEVERT',
      description: 'levert',
      last_update: 2000,
    })
    const queued = await k.selectFrom('status_queue').selectAll().execute()
    expect(queued).toEqual([
      expect.objectContaining({ status_fk: stored.id, service_identifier: 'DPO', created_at: 2000 }),
    ])
    const jobs = await k.selectFrom('jobs').selectAll().execute()
    expect(jobs).toHaveLength(1)
    expect(JSON.parse(jobs[0]!.payload).event).toMatchObject({
      messageId: 'm-1',
      conversationId: 'c-1',
      direction: 'OUTGOING',
      status: 'LEVERT',
      description: 'levert',
    })
    // a rollback leaves none of it
    await expect(
      k.transaction().execute(async (trx) => {
        await registerStatus(trx, row, { status: 'FEIL' }, 3000)
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    expect((await statusesOf(k, [row.id])).map((s) => s.status)).toEqual(['LEVERT'])
    expect(await k.selectFrom('status_queue').selectAll().execute()).toHaveLength(1)
    expect(await k.selectFrom('jobs').selectAll().execute()).toHaveLength(1)
    expect(await conversationById(k, row.id)).toMatchObject({ finished: 1, pollable: 1, last_update: 2000 })
  })
})
