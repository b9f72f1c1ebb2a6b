import { afterEach, describe, expect, it } from 'vitest'
import { conversationsByMessageId, registerStatus } from '../src/conversations/repository.js'
import { STORES, type StoreKind, warnIfPostgresSkipped } from './support/db.js'
import { arkivmeldingSbd, jsonBody, startTestIp, type TestIp } from './support/ip.js'

warnIfPostgresSkipped()

type Json = any

/** Creates a message to `receiver` (OPPRETTET) and returns its messageId. */
async function createMessage(ip: TestIp, receiver: string): Promise<string> {
  const res = await ip.json<Json>('/api/messages/out', jsonBody(arkivmeldingSbd({ receiver })))
  expect(res.status).toBe(200)
  ip.clock.advance(1000)
  return res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
}

async function register(ip: TestIp, messageId: string, status: string) {
  const [c] = await conversationsByMessageId(ip.db.kysely, messageId)
  await ip.db.kysely
    .transaction()
    .execute((trx) =>
      registerStatus(trx, c!, { status, description: `${status} ok` }, ip.clock.now().getTime()),
    )
  ip.clock.advance(1000)
}

/** The status queue's client loop: peek, handle, delete, until 204. */
async function drainQueue(ip: TestIp): Promise<Json[]> {
  const taken: Json[] = []
  for (;;) {
    const peek = await ip.fetch('/api/statuses/peek')
    if (peek.status === 204) {
      expect(await peek.text()).toBe('')
      return taken
    }
    expect(peek.status).toBe(200)
    const status = await peek.json()
    taken.push(status)
    const del = await ip.fetch(`/api/statuses/${status.id}`, { method: 'DELETE' })
    expect([del.status, await del.text()]).toEqual([200, ''])
  }
}

describe.each(STORES)('the status queue on %s', (kind: StoreKind) => {
  let ip: TestIp | undefined
  afterEach(async () => {
    await ip?.close()
    ip = undefined
  })

  it('gives every status, oldest first, to a client that peeks and deletes', async () => {
    ip = await startTestIp(kind)
    expect((await ip.fetch('/api/statuses/peek')).status).toBe(204)
    const a = await createMessage(ip, '910075918')
    const b = await createMessage(ip, '910075942')
    await register(ip, a, 'SENDT')
    await register(ip, b, 'SENDT')
    await register(ip, a, 'MOTTATT')
    // a status registered twice is one status, and one entry
    await register(ip, a, 'MOTTATT')

    // peek does not consume
    const first = await ip.json<Json>('/api/statuses/peek')
    expect((await ip.json<Json>('/api/statuses/peek')).body).toEqual(first.body)
    expect(first.body).toEqual({
      id: expect.any(Number),
      lastUpdate: '2026-03-10T10:00:00+01:00',
      status: 'OPPRETTET',
      conversationId: expect.any(String),
      messageId: a,
      convId: expect.any(Number),
    })

    const taken = await drainQueue(ip)
    expect(taken.map((s) => [s.messageId, s.status])).toEqual([
      [a, 'OPPRETTET'],
      [b, 'OPPRETTET'],
      [a, 'SENDT'],
      [b, 'SENDT'],
      [a, 'MOTTATT'],
    ])
    // the same statuses, the same JSON, as /api/statuses has them
    const all = (await ip.json<Json>('/api/statuses?size=100')).body.content
    expect(taken).toEqual(all)

    // deleting twice, or a status that was never queued, is a 404 with an empty body
    const again = await ip.fetch(`/api/statuses/${taken[0].id}`, { method: 'DELETE' })
    expect([again.status, await again.text()]).toEqual([404, ''])
    expect((await ip.fetch('/api/statuses/999999', { method: 'DELETE' })).status).toBe(404)
    const bad = await ip.json<Json>('/api/statuses/abc', { method: 'DELETE' })
    expect(bad.status).toBe(400)
    expect(bad.body.exception).toBe(
      'org.springframework.web.method.annotation.MethodArgumentTypeMismatchException',
    )
  })

  it('keeps `peek` apart from /api/statuses/{messageId}', async () => {
    ip = await startTestIp(kind)
    const a = await createMessage(ip, '910075918')
    expect((await ip.json<Json>(`/api/statuses/${a}`)).body.content.map((s: Json) => s.status)).toEqual([
      'OPPRETTET',
    ])
    expect((await ip.json<Json>('/api/statuses/peek')).body.status).toBe('OPPRETTET')
  })

  it('takes only the services in difi.move.feature.statusQueueIncludes', async () => {
    ip = await startTestIp(kind, { overrides: { 'difi.move.feature.statusQueueIncludes': 'DPV' } })
    const dpo = await createMessage(ip, '910075918')
    const dpv = await createMessage(ip, '910075942')
    await register(ip, dpo, 'SENDT')
    const taken = await drainQueue(ip)
    expect(taken.map((s) => [s.messageId, s.status])).toEqual([[dpv, 'OPPRETTET']])
    const dpoStatus = (await ip.json<Json>(`/api/statuses/${dpo}`)).body.content[0]
    expect((await ip.fetch(`/api/statuses/${dpoStatus.id}`, { method: 'DELETE' })).status).toBe(404)
  })

  it('is empty when configured with no services, as the reference by default', async () => {
    ip = await startTestIp(kind, { overrides: { 'difi.move.feature.statusQueueIncludes': '' } })
    await createMessage(ip, '910075918')
    expect((await ip.fetch('/api/statuses/peek')).status).toBe(204)
  })

  it('drops the entries of a deleted conversation', async () => {
    ip = await startTestIp(kind)
    const a = await createMessage(ip, '910075918')
    const b = await createMessage(ip, '910075942')
    expect((await ip.fetch(`/api/conversations/messageId/${a}`, { method: 'DELETE' })).status).toBe(200)
    expect((await drainQueue(ip)).map((s) => s.messageId)).toEqual([b])
  })
})
