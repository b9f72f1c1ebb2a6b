import { afterEach, describe, expect, it } from 'vitest'
import {
  createTestStore,
  outMessageRow,
  STORES,
  type TestStore,
  warnIfPostgresSkipped,
} from '../../../test/support/db.js'
import { insertConversation } from '../../conversations/repository.js'
import type { Db } from '../../db/open.js'
import {
  filesOf,
  insertFiles,
  insertOutMessage,
  messageIdTaken,
  outMessageByMessageId,
  outMessageWithFiles,
} from './repository.js'

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
    await insertOutMessage(db.kysely, outMessageRow('out-1', now))
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

describe.each(STORES)('outMessageWithFiles on %s', (kind) => {
  let store: TestStore
  let db: Db
  afterEach(async () => {
    await db?.close()
    await store?.cleanup()
  })

  it('reads the message and its files as the two reads do, null title and large size included', async () => {
    store = await createTestStore(kind)
    db = await store.open()
    const now = 1_765_000_000_123
    const message = await insertOutMessage(
      db.kysely,
      outMessageRow('out-1', now, {
        process_identifier: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
        receiver_identifier: '910075918',
        sender_identifier: '910076787',
        sbd: '{"a":"ø"}',
        state: 'SENDING',
      }),
    )
    const file = (dokumentnummer: number, filename: string, title: string | null, size: number) => ({
      message_fk: message.id,
      dokumentnummer,
      filename,
      title,
      mime_type: 'application/pdf',
      size,
      primary_document: dokumentnummer === 1 ? 1 : 0,
      storage_key: `out/out-1/${filename}`,
      sha256: 'ab'.repeat(32),
      created_at: now,
    })
    // inserted out of order: the read orders them by dokumentnummer
    await insertFiles(db.kysely, [file(2, 'b.pdf', null, 5 * 2 ** 40), file(1, 'a.pdf', 'Vedtak «ø»', 0)])
    const read = await outMessageWithFiles(db, 'out-1')
    expect(read).toEqual({
      message: await outMessageByMessageId(db.kysely, 'out-1'),
      files: await filesOf(db.kysely, message.id),
    })
    expect(read?.files.map((f) => [f.filename, f.size, f.title])).toEqual([
      ['a.pdf', 0, 'Vedtak «ø»'],
      ['b.pdf', 5 * 2 ** 40, null],
    ])
    expect(await outMessageWithFiles(db, 'out-2')).toBeUndefined()
  })

  it('reads a message without files with none', async () => {
    store = await createTestStore(kind)
    db = await store.open()
    await insertOutMessage(db.kysely, outMessageRow('out-3', 1))
    expect((await outMessageWithFiles(db, 'out-3'))?.files).toEqual([])
  })
})
