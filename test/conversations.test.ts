import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { expireConversations } from '../src/conversations/expiry.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { arkivmeldingSbd, jsonBody, startTestIp, type TestIp } from './support/ip.js'

warnIfPostgresSkipped()

type Json = Record<string, any>

describe.each(STORES)('conversations and statuses on %s', (kind) => {
  let ip: TestIp
  const ids: string[] = []
  beforeEach(async () => {
    ip = await startTestIp(kind)
    ids.length = 0
    for (const receiver of ['910075918', '910075942', '910075918']) {
      const res = await ip.json<Json>('/api/messages/out', jsonBody(arkivmeldingSbd({ receiver })))
      expect(res.status).toBe(200)
      ids.push(res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier)
      ip.clock.advance(60_000)
    }
  })
  afterEach(async () => ip.close())

  it('searches conversations with the reference filters, newest first', async () => {
    const all = await ip.json<Json>('/api/conversations')
    expect(all.status).toBe(200)
    expect(all.body.totalElements).toBe(3)
    expect(all.body.content.map((c: Json) => c.messageId)).toEqual([...ids].reverse())
    expect(all.body.sort).toEqual({ sorted: true, unsorted: false, empty: false })

    const dpv = await ip.json<Json>('/api/conversations?serviceIdentifier=DPV')
    expect(dpv.body.content.map((c: Json) => c.messageId)).toEqual([ids[1]])
    expect((await ip.json<Json>('/api/conversations?receiver=0192:910075918')).body.totalElements).toBe(2)
    expect((await ip.json<Json>('/api/conversations?receiverIdentifier=910075942')).body.totalElements).toBe(
      1,
    )
    expect((await ip.json<Json>('/api/conversations?direction=INCOMING')).body.totalElements).toBe(0)
    expect(
      (await ip.json<Json>('/api/conversations?finished=false&direction=OUTGOING')).body.totalElements,
    ).toBe(3)
    expect(
      (await ip.json<Json>('/api/conversations?lastUpdateFrom=2026-03-10&lastUpdateTo=2026-03-10')).body
        .totalElements,
    ).toBe(3)
    expect((await ip.json<Json>('/api/conversations?lastUpdateFrom=2026-03-11')).body.totalElements).toBe(0)
    expect((await ip.json<Json>('/api/conversations?sort=lastUpdated,asc')).body.content[0].messageId).toBe(
      ids[0],
    )

    const bad = await ip.json<Json>('/api/conversations?direction=SIDEWAYS')
    expect(bad.status).toBe(400)
    expect(bad.body.errors[0]).toMatchObject({
      field: 'direction',
      rejectedValue: 'SIDEWAYS',
      bindingFailure: true,
    })
    expect((await ip.json<Json>('/api/conversations?lastUpdateFrom=10.03.2026')).status).toBe(400)
    expect((await ip.json<Json>('/api/conversations?finished=maybe')).status).toBe(400)
  })

  it('lists the conversations still polled on the queue, and caps the page size at 2000', async () => {
    expect((await ip.json<Json>('/api/conversations/queue')).body.totalElements).toBe(0)
    await ip.db.kysely
      .updateTable('conversations')
      .set({ pollable: 1 })
      .where('message_id', '=', ids[1]!)
      .execute()
    const queue = await ip.json<Json>('/api/conversations/queue')
    expect(queue.body.content.map((c: Json) => c.messageId)).toEqual([ids[1]])
    expect(queue.body.content[0]).not.toHaveProperty('pollable')
    expect((await ip.json<Json>('/api/conversations?pollable=true')).body.totalElements).toBe(1)
    const big = await ip.json<Json>('/api/conversations?size=5000')
    expect(big.body.size).toBe(2000)
    expect((await ip.json<Json>('/api/conversations?size=abc')).body.size).toBe(10)
  })

  it('gets one conversation by id and by messageId, 404 otherwise', async () => {
    const byMessage = await ip.json<Json>(`/api/conversations/messageId/${ids[0]}`)
    const byId = await ip.json<Json>(`/api/conversations/${byMessage.body.id}`)
    expect(byId.body).toEqual(byMessage.body)
    const byConversationId = await ip.json<Json>(
      `/api/conversations/messageId/${byMessage.body.conversationId}`,
    )
    expect(byConversationId.body.id).toBe(byMessage.body.id)

    const missing = await ip.json<Json>('/api/conversations/999999')
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({
      exception: 'no.difi.meldingsutveksling.exceptions.ConversationNotFoundException',
      message: 'Conversation with id = 999999 was not found',
    })
    const missingMessage = await ip.json<Json>('/api/conversations/messageId/nope')
    expect(missingMessage.status).toBe(404)
    expect(missingMessage.body.message).toBe('Message with messageId = nope was not found')
    expect((await ip.json<Json>('/api/conversations/abc')).status).toBe(400)
  })

  it('deletes conversations with their statuses, idempotently', async () => {
    const c = await ip.json<Json>(`/api/conversations/messageId/${ids[0]}`)
    expect((await ip.fetch(`/api/conversations/${c.body.id}`, { method: 'DELETE' })).status).toBe(200)
    expect((await ip.fetch(`/api/conversations/${c.body.id}`, { method: 'DELETE' })).status).toBe(200)
    expect((await ip.json<Json>(`/api/statuses/${ids[0]}`)).body.totalElements).toBe(0)
    expect((await ip.fetch(`/api/conversations/messageId/${ids[1]}`, { method: 'DELETE' })).status).toBe(200)
    expect((await ip.json<Json>('/api/conversations')).body.totalElements).toBe(1)
  })

  it('lists statuses with filters, time range and paging', async () => {
    const all = await ip.json<Json>('/api/statuses')
    expect(all.body.totalElements).toBe(3)
    const first = all.body.content[0]
    expect(Object.keys(first)).toEqual([
      'id',
      'lastUpdate',
      'status',
      'conversationId',
      'messageId',
      'convId',
    ])
    expect(first).toMatchObject({
      status: 'OPPRETTET',
      messageId: ids[0],
      lastUpdate: '2026-03-10T10:00:00+01:00',
    })
    expect((await ip.json<Json>(`/api/statuses?messageId=${ids[1]}`)).body.totalElements).toBe(1)
    expect((await ip.json<Json>('/api/statuses?status=SENDT')).body.totalElements).toBe(0)
    const range = await ip.json<Json>(
      '/api/statuses?fromDateTime=2026-03-10T10:00:30%2B01:00&toDateTime=2026-03-10T10:05:00%2B01:00',
    )
    expect(range.body.content.map((s: Json) => s.messageId)).toEqual([ids[1], ids[2]])
    // one end alone is ignored, as the reference
    expect(
      (await ip.json<Json>('/api/statuses?fromDateTime=2026-03-10T10:00:30%2B01:00')).body.totalElements,
    ).toBe(3)
    const page = await ip.json<Json>('/api/statuses?page=1&size=2&sort=id,desc')
    expect(page.body).toMatchObject({
      number: 1,
      numberOfElements: 1,
      first: false,
      last: true,
      totalPages: 2,
    })
    expect((await ip.json<Json>('/api/statuses?id=abc')).status).toBe(400)
    expect((await ip.json<Json>('/api/statuses?fromDateTime=yesterday')).status).toBe(400)
  })

  it('gives the statuses of one message, by messageId or conversationId', async () => {
    const res = await ip.fetch(`/api/statuses/${ids[2]}`)
    expect(res.headers.get('content-type')).toBe('application/json;charset=UTF-8')
    const body = (await res.json()) as Json
    expect(body.content.map((s: Json) => s.status)).toEqual(['OPPRETTET'])
    const alias = await ip.json<Json>(`/api/messages/status/${body.content[0].conversationId}`)
    expect(alias.body.content).toEqual(body.content)
    expect((await ip.json<Json>('/api/statuses/unknown')).body).toMatchObject({
      totalElements: 0,
      empty: true,
    })
  })

  it('expires open conversations with LEVETID_UTLOPT once, and finishes them', async () => {
    ip.clock.advance(25 * 3600 * 1000)
    expect(await expireConversations(ip.db, ip.clock)).toBe(3)
    expect(await expireConversations(ip.db, ip.clock)).toBe(0)
    const c = await ip.json<Json>(`/api/conversations/messageId/${ids[0]}`)
    expect(c.body.finished).toBe(true)
    expect(c.body.messageStatuses.map((s: Json) => s.status)).toEqual(['OPPRETTET', 'LEVETID_UTLOPT'])
  })
})
