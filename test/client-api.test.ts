import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  arkivmeldingMessage,
  BadRequestError,
  buildSbd,
  IntegrasjonspunktClient,
  NotFoundError,
} from '../packages/client/src/index.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES } from './support/db.js'
import { startTestIp, type TestIp } from './support/ip.js'
import { type Subscriber, startSubscriber } from './support/subscriber.js'

/** The status queue, conversations and webhook subscriptions through the library, on each store. */
describe.each(STORES)('the client library on %s: queue, conversations, subscriptions', (kind) => {
  let ip: TestIp
  let subscriber: Subscriber
  let client: IntegrasjonspunktClient

  beforeAll(async () => {
    ip = await startTestIp(kind)
    subscriber = await startSubscriber()
    client = new IntegrasjonspunktClient({ url: ip.url })
  })

  afterAll(async () => {
    await subscriber?.close()
    await ip?.close()
  })

  it('takes statuses off the queue, and finds the conversation', async () => {
    const sbd = buildSbd({
      receiver: '910075918',
      businessMessage: arkivmeldingMessage({ hoveddokument: 'a.pdf' }),
    })
    const sent = await client.send(sbd, [
      { data: arkivmeldingXml({ files: ['a.pdf'], title: 'Kø' }), filename: 'arkivmelding.xml' },
      { data: '%PDF-1.4', filename: 'a.pdf' },
    ])
    const page = await client.statusList({ messageId: sent.messageId, status: 'OPPRETTET' })
    expect(page.totalElements).toBe(1)
    const status = page.content[0]!
    expect(status).toMatchObject({ messageId: sent.messageId, conversationId: sent.conversationId })

    const queued = await client.peekStatus()
    expect(queued?.id).toBe(status.id)
    await client.deleteStatus(status.id)
    expect(await client.peekStatus()).toBeUndefined()
    const gone = await client.deleteStatus(status.id).catch((e) => e)
    expect(gone).toBeInstanceOf(NotFoundError)

    const conversation = await client.conversation(sent.messageId)
    expect(conversation).toMatchObject({ messageTitle: 'Kø', direction: 'OUTGOING', finished: false })
    const search = await client.conversations({ messageTitle: 'Kø', direction: 'OUTGOING' })
    expect(search.content.map((c) => c.messageId)).toEqual([sent.messageId])
  })

  it('creates, reads, changes and deletes subscriptions', async () => {
    const created = await client.subscriptions.create({
      name: 'fagsystem',
      pushEndpoint: `${subscriber.url}/hooks`,
      resource: 'all',
      event: 'all',
    })
    expect(subscriber.received.map((r) => r.json?.event)).toContain('ping')
    expect(await client.subscriptions.get(created.id)).toMatchObject({ name: 'fagsystem', resource: 'all' })
    const twin = await client.subscriptions
      .create({ name: 'fagsystem', pushEndpoint: `${subscriber.url}/hooks`, resource: 'all', event: 'all' })
      .catch((e) => e)
    expect(twin).toBeInstanceOf(BadRequestError)
    expect(twin.exceptionName).toBe('SubscriptionWithSameNameAndPushEndpointAlreadyExists')

    const changed = await client.subscriptions.update(created.id, { filter: 'status=FEIL' })
    expect(changed).toMatchObject({ id: created.id, name: 'fagsystem', filter: 'status=FEIL' })
    expect((await client.subscriptions.list()).map((s) => s.id)).toEqual([created.id])
    await client.subscriptions.delete(created.id)
    expect(await client.subscriptions.get(created.id).catch((e) => e.exceptionName)).toBe(
      'SubscriptionNotFoundException',
    )
    await client.subscriptions.create({
      name: 'to',
      pushEndpoint: `${subscriber.url}/2`,
      resource: 'messages',
      event: 'status',
    })
    await client.subscriptions.deleteAll()
    expect(await client.subscriptions.list()).toEqual([])
  })
})
