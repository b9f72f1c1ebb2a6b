import { afterEach, describe, expect, it } from 'vitest'
import { createTestStore, STORES, type TestStore, warnIfPostgresSkipped } from '../../../test/support/db.js'
import { insertConversation } from '../../conversations/repository.js'
import type { Db } from '../../db/open.js'
import { insertOutMessage, messageIdTaken } from './repository.js'

warnIfPostgresSkipped()

describe.each(STORES)('messageIdTaken on %s', (kind) => {
  let store: TestStore
  let db: Db
  afterEach(async () => {
    await db?.close()
    await store?.cleanup()
  })

  it('sees an outgoing message, and a conversation only when asked to', async () => {
    store = await createTestStore(kind)
    db = await store.open()
    const now = Date.now()
    await insertOutMessage(db.kysely, {
      message_id: 'out-1',
      conversation_id: 'c-1',
      process_identifier: null,
      document_identifier: null,
      type: 'arkivmelding',
      receiver_identifier: null,
      sender_identifier: null,
      service_identifier: 'DPO',
      sbd: '{}',
      state: 'CREATED',
      created_at: now,
      last_updated: now,
    })
    // a conversation without an outgoing message: an incoming one, or one whose message has left
    await insertConversation(db.kysely, {
      conversation_id: 'c-2',
      message_id: 'conv-2',
      sender: null,
      sender_identifier: null,
      receiver: null,
      receiver_identifier: null,
      process_identifier: null,
      document_identifier: null,
      message_reference: null,
      message_title: null,
      service_identifier: 'DPO',
      direction: 'INCOMING',
      expiry: null,
      finished: 0,
      pollable: 0,
      external_system_reference: null,
      created_at: now,
      last_update: now,
    })
    expect(await messageIdTaken(db.kysely, 'out-1', true)).toBe(true)
    expect(await messageIdTaken(db.kysely, 'out-1', false)).toBe(true)
    expect(await messageIdTaken(db.kysely, 'conv-2', true)).toBe(true)
    expect(await messageIdTaken(db.kysely, 'conv-2', false)).toBe(false)
    expect(await messageIdTaken(db.kysely, 'none', true)).toBe(false)
    expect(await messageIdTaken(db.kysely, 'none', false)).toBe(false)
  })
})
