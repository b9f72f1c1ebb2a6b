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
})
