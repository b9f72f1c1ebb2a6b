import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeBody } from '../src/channels/dpe/body.js'
import type { Db } from '../src/db/open.js'
import { unzip } from '../src/standins/svarut/test-support.js'
import { ManualClock } from '../src/util/time.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import {
  AGENCY_A,
  AGENCY_B,
  type Agency,
  type DpeWorld,
  EINNSYN,
  startDpeWorld,
} from './support/dpe-world.js'
import { eventually, json } from './support/poll.js'
import { type IpProcess, spawnIp } from './support/process.js'

warnIfPostgresSkipped()

type Json = Record<string, any>

const idOf = (sbd: Json): string =>
  sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier

const QUEUE_A = `nextbestqueue${AGENCY_A}innsyn`
const QUEUE_B = `nextbestqueue${AGENCY_B}innsyn`
/** where 910077473's statuses for 910075918's innsynskrav go, by the reference's queue rules: not read by 910075918 */
const DATA_A = `nextbestqueue${AGENCY_A}data`

const ORDER = '<bestilling><dokument><journalpostId>2026/7-1</journalpostId></dokument></bestilling>'

/** an innsynskrav between agencies, with its order.xml */
const innsynskravTo = (from: Agency, to: string) =>
  send(from, 'innsynskrav', to, { 'order.xml': ORDER }, (sbd) => {
    sbd.innsynskrav = { hoveddokument: 'order.xml', orgnr: to, epost: 'kari@example.com' }
  })

/** the queue as the stand-in lists it, zero counts when never used */
async function queueOf(w: DpeWorld, name: string): Promise<Json> {
  return (await w.queues()).find((q) => q.name === name) ?? { name, active: 0, locked: 0, deadLettered: 0 }
}

/** the messages the agency's intake recorded for `messageId` */
const incoming = async (agency: Agency, messageId: string): Promise<Json[]> =>
  (await json(`${agency.ip.url}/api/messages/in?messageId=${messageId}`)).body.content

/** waits for the message `messageId` (or any) in the agency's incoming queue; its SBD */
const peekFor = (agency: Agency, messageId?: string) =>
  eventually(async () => {
    const q = messageId ? `?messageId=${messageId}` : ''
    const r = await json(`${agency.ip.url}/api/messages/in/peek${q}`)
    return r.status === 200 ? r.body : undefined
  }, `a message at ${agency.org}`)

/** every incoming message the agency has that is not locked, peeked and deleted */
async function takeAll(agency: Agency): Promise<Json[]> {
  const out: Json[] = []
  for (;;) {
    const r = await json(`${agency.ip.url}/api/messages/in/peek`)
    if (r.status !== 200) return out
    out.push(r.body)
    const del = await fetch(`${agency.ip.url}/api/messages/in/${idOf(r.body)}`, { method: 'DELETE' })
    expect(del.status).toBe(200)
  }
}

/** deletes a message the agency has peeked (and so locked) */
async function remove(agency: Agency, messageId: string): Promise<void> {
  const del = await fetch(`${agency.ip.url}/api/messages/in/${messageId}`, { method: 'DELETE' })
  expect(del.status).toBe(200)
}

/** A message of `type` from the agency over DPE, one-step multipart with `files`. */
async function send(
  from: Agency,
  type: string,
  to: string,
  files: Record<string, string>,
  edit: (sbd: Json) => void = () => {},
): Promise<string> {
  const proto = await json(`${from.ip.url}/api/prototype/${type}?receiverIdentifier=${to}`)
  expect(proto.status, JSON.stringify(proto.body)).toBe(200)
  const sbd = proto.body
  edit(sbd)
  const form = new FormData()
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  for (const [name, text] of Object.entries(files))
    form.append(
      name,
      new Blob([text], { type: name.endsWith('.json') ? 'application/json' : 'application/xml' }),
      name,
    )
  const res = await fetch(`${from.ip.url}/api/messages/out/multipart`, { method: 'POST', body: form })
  expect(res.status, await res.clone().text()).toBe(200)
  return idOf(sbd)
}

describe.each(STORES)('DPE through the Service Bus and eInnsyn stand-ins on %s', (kind) => {
  let w: DpeWorld | undefined
  let child: IpProcess | undefined
  afterEach(async () => {
    if (child && child.child.exitCode === null && child.child.signalCode === null) await child.kill()
    child = undefined
    await w?.close()
    w = undefined
  })

  it('takes in an innsynskrav from eInnsyn with its order.xml intact; eInnsyn sees MOTTATT, then LEVERT after the delete', async () => {
    w = await startDpeWorld(kind)
    const { messageId } = await w.innsynskrav(AGENCY_A, ['2026/1-1', '2026/1-2'])
    const peeked = await peekFor(w.a, messageId)
    const h = peeked.standardBusinessDocumentHeader
    expect(h.sender[0].identifier.value).toBe(`0192:${EINNSYN}`)
    expect(h.documentIdentification.type).toBe('innsynskrav')
    expect(peeked.innsynskrav).toMatchObject({ orgnr: AGENCY_A, epost: 'ola@example.com' })
    const popped = await fetch(`${w.a.ip.url}/api/messages/in/pop/${messageId}`)
    expect(popped.status).toBe(200)
    const entries = await unzip(Buffer.from(await popped.arrayBuffer()))
    const order = entries.get('order.xml')?.toString('utf8')
    expect(order).toContain('<bestilling')
    expect(order).toContain('2026/1-1')
    expect(order).toContain('2026/1-2')
    expect(order).toContain('ola@example.com')

    const statusesAtEinnsyn = async () =>
      ((await w!.einnsynInnsynskrav()).find((k) => k.messageId === messageId)?.statuses ?? []).map(
        (s: Json) => s.status,
      )
    await eventually(
      async () => ((await statusesAtEinnsyn()).includes('MOTTATT') ? true : undefined),
      'MOTTATT at eInnsyn',
    )
    expect(await statusesAtEinnsyn()).toEqual(['MOTTATT'])
    expect((await fetch(`${w.a.ip.url}/api/messages/in/${messageId}`, { method: 'DELETE' })).status).toBe(200)
    await eventually(
      async () => ((await statusesAtEinnsyn()).includes('LEVERT') ? true : undefined),
      'LEVERT at eInnsyn',
    )
    expect(await statusesAtEinnsyn()).toEqual(['MOTTATT', 'LEVERT'])
    // taken off the queue once committed
    const queue = (await w.queues()).find((q) => q.name === `nextbestqueue${AGENCY_A}innsyn`)
    expect(queue).toMatchObject({ active: 0, locked: 0, deadLettered: 0 })
  })

  it('sends a publisering to eInnsyn: SENDT, MOTTATT and LEVERT, and its einnsyn_kvittering comes back', async () => {
    w = await startDpeWorld(kind)
    const journalpost = { '@id': 'http://example.com/journalpost/2026-7-1', offentligTittel: 'Vedtak' }
    const messageId = await send(
      w.a,
      'publisering',
      EINNSYN,
      { 'journalpost.json': JSON.stringify(journalpost) },
      (sbd) => {
        sbd.publisering = { hoveddokument: 'journalpost.json', orgnr: AGENCY_A }
      },
    )
    expect(await w.a.untilStatuses(messageId, ['LEVERT'])).toEqual([
      'OPPRETTET',
      'SENDT',
      'MOTTATT',
      'LEVERT',
    ])
    const pub = (await w.publiseringer()).filter((p) => p.messageId === messageId)
    expect(pub).toHaveLength(1)
    expect(pub[0]).toMatchObject({ sender: AGENCY_A, outcome: 'answered', filename: 'journalpost.json' })
    expect(JSON.parse(pub[0]!.content)).toEqual(journalpost)

    const kvittering = await peekFor(w.a, pub[0]!.kvittering.messageId)
    const h = kvittering.standardBusinessDocumentHeader
    expect(h.sender[0].identifier.value).toBe(`0192:${EINNSYN}`)
    expect(h.documentIdentification.type).toBe('einnsyn_kvittering')
    expect(kvittering.einnsyn_kvittering).toMatchObject({
      referanseType: 'publisering',
      dokumentId: journalpost['@id'],
    })
    expect(JSON.parse(kvittering.einnsyn_kvittering.status)).toMatchObject({
      publisert: true,
      dokumentId: journalpost['@id'],
    })
    // the statuses are the conversation's, never the fagsystem's: only the kvittering is in the queue
    await remove(w.a, pub[0]!.kvittering.messageId)
    expect(await takeAll(w.a)).toEqual([])
    expect(await w.a.statuses(messageId)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
  })

  it('an innsynskrav between two agencies arrives once; its statuses go to the data queue the sender does not read', async () => {
    w = await startDpeWorld(kind, { both: true })
    const messageId = await innsynskravTo(w.a, AGENCY_B)
    const peeked = await peekFor(w.b, messageId)
    expect(peeked.standardBusinessDocumentHeader.sender[0].identifier.value).toBe(`0192:${AGENCY_A}`)
    const popped = await fetch(`${w.b.ip.url}/api/messages/in/pop/${messageId}`)
    expect(popped.status).toBe(200)
    expect((await unzip(Buffer.from(await popped.arrayBuffer()))).get('order.xml')?.toString()).toBe(ORDER)
    expect(await incoming(w.b, messageId)).toHaveLength(1)
    await remove(w.b, messageId)
    expect(await takeAll(w.b)).toEqual([])
    // MOTTATT and LEVERT from 910077473, on 910075918's data queue
    await eventually(
      async () => ((await queueOf(w!, DATA_A)).active === 2 ? true : undefined),
      'two statuses',
    )
    expect(await w.a.statuses(messageId)).toEqual(['OPPRETTET', 'SENDT'])
    expect(w.arrived.filter((q) => q === QUEUE_B)).toHaveLength(1)
    expect(await takeAll(w.a)).toEqual([])
  })

  it('a send whose answer was lost is sent again: two copies on the queue, taken in once, statuses once', async () => {
    w = await startDpeWorld(kind, { both: true })
    // the first send is stored and its answer lost; the second is answered
    const copies = () => w!.arrived.filter((q) => q === QUEUE_B).length
    w.faultOn = (method, url) => method === 'POST' && url === `/${QUEUE_B}/messages` && copies() <= 1
    w.fault = 'drop'
    const messageId = await innsynskravTo(w.a, AGENCY_B)
    expect(await w.a.untilStatuses(messageId, ['SENDT'])).toEqual(['OPPRETTET', 'SENDT'])
    expect(copies()).toBe(2)
    // both copies read and completed by 910077473
    await eventually(async () => {
      const q = await queueOf(w!, QUEUE_B)
      return q.active === 0 && q.locked === 0 ? true : undefined
    }, 'both copies read')
    expect(await incoming(w.b, messageId)).toHaveLength(1)
    expect((await takeAll(w.b)).map(idOf)).toEqual([messageId])
    await eventually(async () => ((await queueOf(w!, DATA_A)).active >= 2 ? true : undefined), 'the statuses')
    // one MOTTATT and one LEVERT, not one per copy
    expect((await queueOf(w, DATA_A)).active).toBe(2)
    expect(await w.a.statuses(messageId)).toEqual(['OPPRETTET', 'SENDT'])
  })

  it('refuses poison once and lets Service Bus dead-letter it after MaxDeliveryCount; the fagsystem never sees it', async () => {
    w = await startDpeWorld(kind, { settings: { maxDeliveryCount: 3 } })
    // anyone with the namespace's key can put anything on any queue
    expect(await w.sendRaw(QUEUE_A, 'this is not JSON')).toBe(201)
    // a well-formed innsynskrav naming eInnsyn as its sender, with an ASiC-E nobody signed
    const proto = await json(`${w.a.ip.url}/api/prototype/innsynskrav?receiverIdentifier=${AGENCY_A}`)
    const sbd = proto.body
    sbd.standardBusinessDocumentHeader.sender[0].identifier.value = `0192:${EINNSYN}`
    sbd.innsynskrav = { hoveddokument: 'order.xml', orgnr: AGENCY_A, epost: 'x@example.com' }
    expect(await w.sendRaw(QUEUE_A, encodeBody(sbd, Buffer.from('not a CMS at all')))).toBe(201)

    await eventually(async () => {
      const q = await queueOf(w!, QUEUE_A)
      return q.deadLettered === 2 && q.active === 0 && q.locked === 0 ? q : undefined
    }, 'both dead-lettered')
    const messages = await w.queueMessages(QUEUE_A)
    expect(messages.map((m) => [m.state, m.deliveryCount, m.deadLetterReason])).toEqual([
      ['deadLettered', 3, 'MaxDeliveryCountExceeded'],
      ['deadLettered', 3, 'MaxDeliveryCountExceeded'],
    ])
    // each refused once, whatever the deliveries
    const refused = await w.a.ip.db.kysely
      .selectFrom('received')
      .select(['dedupe_key', 'message_id'])
      .where('dedupe_key', 'like', 'refused:%')
      .execute()
    expect(refused).toHaveLength(2)
    expect(refused.map((r) => r.dedupe_key).sort()).toEqual(
      messages.map((m) => `refused:servicebus:${m.messageId}`).sort(),
    )
    expect(await takeAll(w.a)).toEqual([])
    expect(await incoming(w.a, idOf(sbd))).toEqual([])
  })

  it('retries a send while the ServiceRegistry is down, and sends it once the registry is back', async () => {
    w = await startDpeWorld(kind)
    // created in steps, so the registry is switched off after the create asked it and before the send
    const proto = await json(`${w.a.ip.url}/api/prototype/publisering?receiverIdentifier=${EINNSYN}`)
    const sbd = proto.body
    sbd.publisering = { hoveddokument: 'journalpost.json', orgnr: AGENCY_A }
    const messageId = idOf(sbd)
    const created = await fetch(`${w.a.ip.url}/api/messages/out`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sbd),
    })
    expect(created.status, await created.clone().text()).toBe(200)
    const put = await fetch(`${w.a.ip.url}/api/messages/out/${messageId}`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        'content-disposition': 'attachment; name="Journalpost"; filename=journalpost.json',
      },
      body: JSON.stringify({ '@id': 'http://example.com/journalpost/1' }),
    })
    expect(put.status, await put.clone().text()).toBe(200)
    w.registryDown = true
    expect((await fetch(`${w.a.ip.url}/api/messages/out/${messageId}`, { method: 'POST' })).status).toBe(200)
    // tried, refused, tried again: nothing on eInnsyn's queue meanwhile
    const lookups = () => w!.registryRefused.filter((path) => path.includes(`/identifier/${EINNSYN}`)).length
    await eventually(async () => (lookups() >= 3 ? true : undefined), 'three tries')
    expect(await w.a.statuses(messageId)).toEqual(['OPPRETTET'])
    expect(w.arrived.filter((q) => q.startsWith(`nextbestqueue${EINNSYN}`))).toEqual([])
    w.registryDown = false
    expect(await w.a.untilStatuses(messageId, ['LEVERT'])).toEqual([
      'OPPRETTET',
      'SENDT',
      'MOTTATT',
      'LEVERT',
    ])
    expect((await w.publiseringer()).filter((p) => p.messageId === messageId)).toHaveLength(1)
  })

  it('a message whose lock was taken with the answer lost comes again when the lock expires, and is taken in once', async () => {
    const clock = new ManualClock(new Date())
    w = await startDpeWorld(kind, { clock })
    await w.a.stop()
    const { messageId } = await w.innsynskrav(AGENCY_A, ['2026/9-1'])
    // the first peek-lock takes the message and its answer is lost: locked, and unknown to the receiver
    let heads = 0
    w.faultOn = (method, url) =>
      method === 'POST' && url.startsWith(`/${QUEUE_A}/messages/head`) && ++heads <= 2
    w.fault = 'drop'
    await w.a.start()
    await eventually(async () => (heads > 2 ? true : undefined), 'the lost answer and a later peek')
    expect(await queueOf(w, QUEUE_A)).toMatchObject({ active: 0, locked: 1 })
    expect(await incoming(w.a, messageId)).toEqual([])
    clock.advance(60_001)
    w.a.ip.nudgeReceivers()
    const peeked = await peekFor(w.a, messageId)
    expect(idOf(peeked)).toBe(messageId)
    // completed on its second delivery
    await eventually(
      async () => ((await w!.queueMessages(QUEUE_A)).length === 0 ? true : undefined),
      'the delete',
    )
    expect(await incoming(w.a, messageId)).toHaveLength(1)
    await remove(w.a, messageId)
    expect(await takeAll(w.a)).toEqual([])
  })

  it('a receiver killed between the commit and the delete: the message comes again when its lock expires and is completed, taken in once', async () => {
    const clock = new ManualClock(new Date())
    // the killed process's lease on the poller runs out soon, for the restarted one to take it
    w = await startDpeWorld(kind, { clock, props: { 'difi.move.nextmove.job-lease-ms': '3000' } })
    await w.a.stop()
    let deletes = 0
    // asked as the delete reaches Service Bus, before it acts: the intake has committed, and the process
    // dies there; the delete itself fails, as it would never have been sent
    w.faultOn = (method, url) => {
      if (method !== 'DELETE' || !url.startsWith(`/${QUEUE_A}/messages/`)) return false
      if (deletes++ === 0) child?.child.kill('SIGKILL')
      return true
    }
    w.fault = 'error'
    // the same store and properties in a process of its own; its files under the store's folder
    child = await spawnIp(w.a.dir, {
      ...w.a.properties,
      'difi.move.nextmove.filedir': join(w.a.dir, 'messages'),
    })
    const { messageId } = await w.innsynskrav(AGENCY_A, ['2026/11-1'])
    await eventually(async () => (child!.child.signalCode === 'SIGKILL' ? true : undefined), 'the kill')
    expect(deletes).toBeGreaterThan(0)
    expect(await queueOf(w, QUEUE_A)).toMatchObject({ active: 0, locked: 1 })
    // the dead process had committed it
    const received = async (db: Db) =>
      (
        await db.kysely
          .selectFrom('received')
          .select('dedupe_key')
          .where('message_id', '=', messageId)
          .execute()
      ).length
    const db = await w.a.store.open()
    try {
      expect(await received(db)).toBe(1)
    } finally {
      await db.close()
    }

    w.fault = 'none'
    clock.advance(60_001)
    await w.a.start()
    w.a.ip.nudgeReceivers()
    await eventually(
      async () => ((await w!.queueMessages(QUEUE_A)).length === 0 ? true : undefined),
      'the delete',
    )
    expect(await incoming(w.a, messageId)).toHaveLength(1)
    expect(await received(w.a.ip.db)).toBe(1)
    const atEinnsyn = async () =>
      ((await w!.einnsynInnsynskrav()).find((k) => k.messageId === messageId)?.statuses ?? []).map(
        (s: Json) => s.status,
      )
    await eventually(async () => ((await atEinnsyn()).includes('MOTTATT') ? true : undefined), 'MOTTATT')
    const peeked = await peekFor(w.a, messageId)
    expect(idOf(peeked)).toBe(messageId)
    await remove(w.a, messageId)
    await eventually(async () => ((await atEinnsyn()).includes('LEVERT') ? true : undefined), 'LEVERT')
    expect(await atEinnsyn()).toEqual(['MOTTATT', 'LEVERT'])
    expect(await takeAll(w.a)).toEqual([])
  }, 30_000)
})
