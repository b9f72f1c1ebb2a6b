import { afterEach, describe, expect, it } from 'vitest'
import type { RunningIntegrationPoint } from '../src/main.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { type Pair, startPair } from './support/pair.js'
import { type Subscriber, startSubscriber } from './support/subscriber.js'

warnIfPostgresSkipped()

type Json = any
const A = '910075918'
const B = '910077473'

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, init)
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

/** Polls until `probe` gives something, for at most 30 s (a deadline, not a timed assertion). */
async function eventually<T>(probe: () => Promise<T | undefined | false>, what: string): Promise<T> {
  const until = Date.now() + 30_000
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const statusesOf = async (ip: RunningIntegrationPoint, messageId: string): Promise<string[]> =>
  (await json(`${ip.url}/api/statuses/${messageId}?size=100`)).body.content.map((s: Json) => s.status)

const untilStatus = (ip: () => RunningIntegrationPoint, messageId: string, status: string) =>
  eventually(async () => (await statusesOf(ip(), messageId)).includes(status), `${status} on ${messageId}`)

async function send(from: RunningIntegrationPoint, type: string, to: string, fill: (sbd: Json) => void) {
  const sbd = (await json(`${from.url}/api/prototype/${type}?receiverIdentifier=${to}`)).body
  fill(sbd)
  const form = new FormData()
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  if (type === 'arkivmelding') {
    const xml = arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Vedtak' })
    form.append('Arkivmelding', new Blob([xml], { type: 'application/xml' }), 'arkivmelding.xml')
    form.append('Vedtak', new Blob(['%PDF-1.4 vedtak'], { type: 'application/pdf' }), 'vedtak.pdf')
  }
  const res = await fetch(`${from.url}/api/messages/out/multipart`, { method: 'POST', body: form })
  expect(res.status, await res.clone().text()).toBe(200)
  return sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier as string
}

/** Every status an integration point has, oldest first, as `/api/statuses` shows them. */
const allStatuses = async (ip: RunningIntegrationPoint): Promise<Json[]> =>
  (await json(`${ip.url}/api/statuses?size=1000`)).body.content

/** The status-queue client: peek, delete, until 204. */
async function takeStatusQueue(ip: RunningIntegrationPoint): Promise<Json[]> {
  const taken: Json[] = []
  for (;;) {
    const peek = await json(`${ip.url}/api/statuses/peek`)
    if (peek.status === 204) return taken
    taken.push(peek.body)
    expect((await fetch(`${ip.url}/api/statuses/${peek.body.id}`, { method: 'DELETE' })).status).toBe(200)
  }
}

const noPendingJobs = async (ip: RunningIntegrationPoint) =>
  (await ip.db.kysely.selectFrom('jobs').select('id').where('state', '=', 'PENDING').execute()).length === 0

describe.each(STORES)('webhooks and the status queue over a DPO exchange on %s', (kind) => {
  let world: Pair | undefined
  let sub: Subscriber | undefined
  afterEach(async () => {
    await world?.stop()
    await sub?.close()
    world = sub = undefined
  })

  it('pushes every status in order, across a restart and while the subscriber is down', async () => {
    sub = await startSubscriber()
    const pair = await startPair(kind)
    world = pair
    // getters: A's restart below replaces its integration point
    const a = () => pair.a
    const b = () => pair.b
    for (const [org, path] of [
      [A, '/a'],
      [B, '/b'],
    ] as const) {
      const body = { name: 'fagsystem', pushEndpoint: `${sub.url}${path}`, resource: 'all', event: 'all' }
      expect((await json(`${(org === A ? a() : b()).url}/api/subscriptions`, jsonInit(body))).status).toBe(
        200,
      )
    }

    // the fagsystem's receiver goes down before anything happens
    await sub.down()
    const messageId = await send(a(), 'arkivmelding', B, (sbd) => {
      sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
    })
    await eventually(
      async () => (await json(`${b().url}/api/messages/in/peek`)).status === 200,
      'the message at B',
    )
    expect((await fetch(`${b().url}/api/messages/in/pop/${messageId}`)).status).toBe(200)
    expect((await fetch(`${b().url}/api/messages/in/${messageId}`, { method: 'DELETE' })).status).toBe(200)
    await untilStatus(a, messageId, 'LEVERT')

    // A restarts with its deliveries still owed
    await world.restart(A)
    const receiptId = await send(b(), 'arkivmelding_kvittering', A, (kv) => {
      kv.arkivmelding_kvittering = { receiptType: 'OK', relatedToMessageId: messageId, messages: [] }
    })
    await untilStatus(a, messageId, 'LEST')
    await untilStatus(b, receiptId, 'MOTTATT')
    expect(sub.delivered('/a')).toEqual([])

    // the receiver is back: everything owed arrives, in order, once
    await sub.up()
    await eventually(async () => (await noPendingJobs(a())) && (await noPendingJobs(b())), 'all deliveries')
    for (const [ip, path] of [
      [a(), '/a'],
      [b(), '/b'],
    ] as const) {
      const statuses = await allStatuses(ip)
      const delivered = sub.delivered(path).map((r) => r.json)
      expect(delivered).toHaveLength(statuses.length)
      expect(new Set(delivered.map((e) => e.id)).size).toBe(delivered.length)
      for (const m of new Set(statuses.map((s) => s.messageId))) {
        const want = statuses.filter((s) => s.messageId === m).map((s) => s.status)
        const got = delivered.filter((e) => e.messageId === m).map((e) => e.status)
        expect(got, `${path} ${m}`).toEqual(want)
      }
      // and the status queue gives the same statuses to a client that peeks and deletes
      expect(await takeStatusQueue(ip)).toEqual(statuses)
    }
    expect(await statusesOf(a(), messageId)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'LEST'])
    expect(
      sub
        .delivered('/b')
        .filter((r) => r.json.messageId === messageId)
        .map((r) => r.json.status),
    ).toEqual(['OPPRETTET', 'INNKOMMENDE_MOTTATT', 'INNKOMMENDE_LEVERT'])
  })
})

function jsonInit(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
}
