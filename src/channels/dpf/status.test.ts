import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestStore, type TestStore } from '../../../test/support/db.js'
import { load } from '../../config/test-helpers.js'
import type { Config } from '../../config/types.js'
import { insertConversation } from '../../conversations/repository.js'
import type { Db } from '../../db/open.js'
import { SANDBOX_PASSWORD, sandboxIntegrasjonId } from '../../standins/svarut/settings.js'
import { fiksToken, forsendelse, harness, KONTO_A, ORG_A } from '../../standins/svarut/test-support.js'
import { ManualClock } from '../../util/time.js'
import { localReceiptMessageId } from '../local-receipt.js'
import type { Intake, PolledMessage, StatusPort, StatusUpdate } from '../ports.js'
import { NOT_IN_SVARUT, pollDpfStatuses } from './status.js'
import { createSvarUtClient } from './svarut-client.js'
import { RECEIVER, SENDER } from './test-support.js'

/** the statuses of polled messages, kept as the real port keeps them: each status once, paged by messageId */
function memoryPort(messages: PolledMessage[]) {
  const registered = new Map<string, StatusUpdate[]>()
  const stopped = new Set<string>()
  const calls: { messageId: string; statuses: string[]; stopPolling: boolean }[] = []
  const port: StatusPort = {
    async pollable({ limit, after }) {
      return messages
        .filter((m) => !stopped.has(m.messageId) && (after === undefined || m.messageId > after))
        .sort((a, b) => a.messageId.localeCompare(b.messageId))
        .slice(0, limit)
        .map((m) => ({
          ...m,
          statuses: [...m.statuses, ...(registered.get(m.messageId) ?? []).map((u) => u.status)],
        }))
    },
    async register(messageId, updates, opts) {
      calls.push({
        messageId,
        statuses: updates.map((u) => u.status),
        stopPolling: opts?.stopPolling ?? false,
      })
      const had = registered.get(messageId) ?? []
      const fresh = updates.filter((u) => !had.some((h) => h.status === u.status))
      registered.set(messageId, [...had, ...fresh])
      if (opts?.stopPolling) stopped.add(messageId)
      return fresh.map((u) => u.status)
    },
    async stopPolling(messageId) {
      stopped.add(messageId)
    },
  }
  return { port, registered, stopped, calls }
}

function memoryIntake() {
  const taken: Parameters<Intake['take']>[0][] = []
  const intake: Intake = {
    async take(d) {
      taken.push(d)
      return 'stored'
    },
    async refuse() {},
    async alreadyReceived() {
      return false
    },
  }
  return { intake, taken }
}

const PDF = [{ name: 'vedtak.pdf', bytes: Buffer.from('%PDF-1.4 vedtak') }]

const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close()
})

async function world(opts: { failing?: () => boolean } = {}) {
  const h = await harness(
    opts.failing ? { faults: { errorRate: 1, random: () => (opts.failing!() ? 0 : 1) } } : {},
  )
  open.push(h)
  const store: TestStore = await createTestStore('sqlite')
  const db: Db = await store.open()
  open.push({ close: () => db.close().then(() => store.cleanup()) })
  const client = createSvarUtClient({
    baseUrl: h.svarut.url,
    kontoId: KONTO_A,
    integrasjonId: sandboxIntegrasjonId(ORG_A),
    integrasjonPassord: SANDBOX_PASSWORD,
    tokens: { token: async () => fiksToken(ORG_A) },
    timeoutMs: 5_000,
  })
  open.push(client)
  const base = load()
  const config: Config = { ...base, arkivmelding: { ...base.arkivmelding, generateReceipts: true } }
  const clock = new ManualClock('2026-08-20T10:00:00Z')
  return {
    h,
    db,
    clock,
    client,
    config,
    /** sends a forsendelse from A's konto with `messageId` as eksternReferanse: SvarUt's id for it */
    async send(messageId: string): Promise<string> {
      const res = await h.send(forsendelse({ eksternReferanse: messageId }), PDF)
      expect(res.status).toBe(200)
      return ((await res.json()) as { id: string }).id
    },
    async setStatus(id: string, status: string) {
      const res = await h.call(`/sandbox/api/forsendelser/${id}/status`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status }),
      })
      expect(res.status).toBe(200)
    },
    async read(id: string) {
      expect((await h.call(`/sandbox/api/forsendelser/${id}/read`, { method: 'POST' })).status).toBe(200)
    },
    round(port: StatusPort, intake: Intake) {
      return pollDpfStatuses({ config, db, clock, logger: h.log.logger, client, statuses: port, intake })
    },
  }
}

const polled = (messageId: string, reference: string, type = 'arkivmelding'): PolledMessage => ({
  messageId,
  reference,
  type,
  statuses: ['OPPRETTET', 'SENDT', 'LEVERT'],
})

/** the outgoing conversation the receipt is addressed from */
async function conversation(db: Db, messageId: string, reference: string): Promise<void> {
  await insertConversation(db.kysely, {
    conversation_id: `c-${messageId}`,
    message_id: messageId,
    sender: `0192:${SENDER}`,
    sender_identifier: SENDER,
    receiver: `0192:${RECEIVER}`,
    receiver_identifier: RECEIVER,
    process_identifier: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
    document_identifier: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
    message_reference: `c-${messageId}`,
    message_title: 'Vedtak',
    service_identifier: 'DPF',
    direction: 'OUTGOING',
    expiry: null,
    finished: 1,
    pollable: 1,
    external_system_reference: reference,
    created_at: 0,
    last_update: 0,
  })
}

const warnings = (h: Awaited<ReturnType<typeof harness>>) =>
  h.log.lines().filter((l) => l.level === 40 && String(l.msg).startsWith('DPF:'))

describe('the DPF status round against the SvarUt stand-in', () => {
  it('registers LEST once and queues one OK arkivmelding_kvittering from the recipient over two rounds', async () => {
    const w = await world()
    const messageId = randomUUID()
    const id = await w.send(messageId)
    await conversation(w.db, messageId, id)
    const { port, registered, calls } = memoryPort([polled(messageId, id)])
    const { intake, taken } = memoryIntake()

    // VARSLET says nothing new: still polled
    expect(await w.round(port, intake)).toBe(0)
    expect(calls).toEqual([])
    expect(taken).toEqual([])

    await w.read(id)
    expect(await w.round(port, intake)).toBe(0)
    expect(await w.round(port, intake)).toBe(0)
    expect(calls).toEqual([{ messageId, statuses: ['LEST'], stopPolling: true }])
    const lest = registered.get(messageId)![0]!
    expect(JSON.parse(lest.rawReceipt!)).toMatchObject({ id, status: 'LEST' })
    expect(taken).toHaveLength(1)
    const receipt = taken[0]!
    expect(receipt).toMatchObject({
      asic: null,
      transferRef: `dpf-receipt:${messageId}`,
      authenticatedSender: `0192:${RECEIVER}`,
      localReceipt: true,
    })
    const header = receipt.sbd.standardBusinessDocumentHeader
    expect(header.documentIdentification).toMatchObject({
      type: 'arkivmelding_kvittering',
      instanceIdentifier: localReceiptMessageId('dpf', messageId),
    })
    expect(header).toMatchObject({
      sender: [{ identifier: { value: `0192:${RECEIVER}` } }],
      receiver: [{ identifier: { value: `0192:${SENDER}` } }],
      businessScope: { scope: [{ type: 'ConversationId', instanceIdentifier: `c-${messageId}` }] },
    })
    expect(receipt.sbd.businessMessage).toEqual({
      receiptType: 'OK',
      relatedToMessageId: messageId,
      messages: [],
    })
  })

  it('makes no receipt for a message that is not an arkivmelding, nor for one that has LEST already', async () => {
    const w = await world()
    const other = randomUUID()
    const otherId = await w.send(other)
    await conversation(w.db, other, otherId)
    const again = randomUUID()
    const againId = await w.send(again)
    await conversation(w.db, again, againId)
    const { port, calls } = memoryPort([
      polled(other, otherId, 'innsynskrav'),
      { ...polled(again, againId), statuses: ['OPPRETTET', 'SENDT', 'LEVERT', 'LEST'] },
    ])
    const { intake, taken } = memoryIntake()
    await w.read(otherId)
    await w.read(againId)
    await w.round(port, intake)
    expect(calls.map((c) => [c.statuses, c.stopPolling])).toEqual([
      [['LEST'], true],
      [['LEST'], true],
    ])
    expect(taken).toEqual([])
  })

  it('ends refused and undelivered forsendelser with FEIL and the reason, and stops polling them', async () => {
    const w = await world()
    const ids = new Map<string, string>()
    for (const status of ['AVVIST', 'IKKE_LEVERT']) {
      const messageId = `${status}-${randomUUID()}`
      const id = await w.send(messageId)
      await w.setStatus(id, status)
      ids.set(messageId, id)
    }
    const { port, registered, stopped, calls } = memoryPort([...ids].map(([m, id]) => polled(m, id)))
    const { intake, taken } = memoryIntake()
    await w.round(port, intake)
    await w.round(port, intake)
    expect(calls.map((c) => [c.statuses, c.stopPolling])).toEqual([
      [['FEIL'], true],
      [['FEIL'], true],
    ])
    expect([...stopped].sort()).toEqual([...ids.keys()].sort())
    for (const [m, id] of ids) {
      const [feil] = registered.get(m)!
      expect(feil!.description).toMatch(new RegExp(`^SvarUt: ${m.split('-')[0]}: `))
      expect(JSON.parse(feil!.rawReceipt!)).toMatchObject({ id, status: m.split('-')[0] })
    }
    expect(taken).toEqual([])
  })

  it('notes SENDT_PRINT as ANNET and keeps polling; PRINTET, an ANNET already there, still stops it', async () => {
    const w = await world()
    const messageId = randomUUID()
    const id = await w.send(messageId)
    const { port, registered, stopped, calls } = memoryPort([polled(messageId, id)])
    const { intake } = memoryIntake()
    await w.setStatus(id, 'SENDT_PRINT')
    await w.round(port, intake)
    await w.round(port, intake)
    expect(calls).toEqual([{ messageId, statuses: ['ANNET'], stopPolling: false }])
    expect(registered.get(messageId)!.map((u) => u.description)).toEqual([
      'SvarUt: SENDT_PRINT: SvarUt har sendt forsendelsen til utskrift',
    ])
    expect(stopped.has(messageId)).toBe(false)

    await w.setStatus(id, 'PRINTET')
    await w.round(port, intake)
    expect(calls.at(-1)).toEqual({ messageId, statuses: ['ANNET'], stopPolling: true })
    expect(stopped.has(messageId)).toBe(true)
    expect(registered.get(messageId)).toHaveLength(1)
  })

  it('ends a forsendelse SvarUt knows neither by id nor by eksternReferanse with the reference’s FEIL', async () => {
    const w = await world()
    // known by eksternReferanse under another id: asked again next round
    const known = randomUUID()
    await w.send(known)
    const unknown = randomUUID()
    const { port, registered, stopped, calls } = memoryPort([
      polled(known, randomUUID()),
      polled(unknown, randomUUID()),
    ])
    const { intake } = memoryIntake()
    await w.round(port, intake)
    await w.round(port, intake)
    expect(calls).toEqual([{ messageId: unknown, statuses: ['FEIL'], stopPolling: true }])
    expect(registered.get(unknown)).toEqual([{ status: 'FEIL', description: NOT_IN_SVARUT }])
    expect([...stopped]).toEqual([unknown])
  })

  it('asks page by page; a page SvarUt answers 503 is warned about once and the round goes on', async () => {
    let failures = 0
    const w = await world({ failing: () => failures-- > 0 })
    // more than a page of forsendelser SvarUt never issued: each ends with FEIL once it is asked about
    const messages = Array.from({ length: 150 }, (_, i) =>
      polled(`m-${String(i).padStart(3, '0')}`, randomUUID()),
    )
    const { port, calls } = memoryPort(messages)
    const { intake } = memoryIntake()
    failures = 1
    expect(await w.round(port, intake)).toBe(0)
    expect(calls.map((c) => c.messageId)).toEqual(messages.slice(100).map((m) => m.messageId))
    expect(warnings(w.h)).toHaveLength(1)
    await w.round(port, intake)
    expect(calls).toHaveLength(150)
    expect(new Set(calls.map((c) => c.messageId)).size).toBe(150)
    expect(calls.every((c) => c.statuses[0] === 'FEIL' && c.stopPolling)).toBe(true)
  })

  it('registers nothing when SvarUt answers 503, warns once for the page, and asks again next round', async () => {
    let failing = false
    const w = await world({ failing: () => failing })
    const messageId = randomUUID()
    const id = await w.send(messageId)
    await w.setStatus(id, 'AVVIST')
    const { port, calls } = memoryPort([polled(messageId, id), polled(randomUUID(), randomUUID())])
    const { intake } = memoryIntake()
    failing = true
    expect(await w.round(port, intake)).toBe(0)
    expect(calls).toEqual([])
    const [warning, ...more] = warnings(w.h)
    expect(more).toEqual([])
    expect(warning!.msg).toMatch(/^DPF: SvarUt's statuses of 2 forsendelser could not be read.*503/)
    failing = false
    await w.round(port, intake)
    expect(calls.find((c) => c.messageId === messageId)).toEqual({
      messageId,
      statuses: ['FEIL'],
      stopPolling: true,
    })
  })
})

describe('the receipt made here', () => {
  it('keeps DPV’s names and gives DPF its own', () => {
    const messageId = '6e787a33-6c23-4404-a684-60d4cf1b0a3e'
    // DPV's receipt for this message had this messageId before the receipt moved to local-receipt.ts
    expect(localReceiptMessageId('dpv', messageId)).toBe('7a878e09-46ec-5ae6-810c-c0984fdbedc9')
    expect(localReceiptMessageId('dpf', messageId)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    )
    expect(localReceiptMessageId('dpf', messageId)).not.toBe(localReceiptMessageId('dpv', messageId))
  })
})
