import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { expireConversations } from '../src/conversations/expiry.js'
import { IN_TRANSACTION_PACKAGE_BYTES } from '../src/files/payload-store.js'
import { jobsForMessage } from '../src/jobs/outbox.js'
import { type IncomingDelivery, intakeIncoming, isTransferReceived } from '../src/messages/in/intake.js'
import { sweepIncomingOrphans } from '../src/messages/in/orphans.js'
import { statusReplyJobKind } from '../src/messages/in/status-reply.js'
import { encryptStream } from '../src/packaging/cms.js'
import type { BusinessKeys } from '../src/packaging/keys.js'
import { makeIdentity, makeTempDir, type TestIdentity } from '../src/packaging/test-support.js'
import { getSender } from '../src/sbd/accessors.js'
import { parseSbd, serializeSbd } from '../src/sbd/parse.js'
import type { ServiceIdentifier, StandardBusinessDocument } from '../src/sbd/types.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import {
  arkivmeldingSbd,
  filesUnder,
  jsonBody,
  OWN_ORG,
  PROCESS,
  startTestIp,
  type TestIp,
} from './support/ip.js'

warnIfPostgresSkipped()

type Json = Record<string, any>

const EX = 'no.difi.meldingsutveksling.exceptions.'
const PEER = '910075918'
const STANDARD: Record<string, string> = {
  arkivmelding: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
  arkivmelding_kvittering: 'urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering',
  avtalt: 'urn:no:difi:avtalt:xsd::avtalt',
  status: 'urn:no:difi:eformidling:xsd::status',
}

/** A message from PEER to us, as a transport parses it. */
function incoming(
  type: string,
  o: { messageId?: string; body?: Json; expires?: string; process?: string; sender?: string } = {},
): StandardBusinessDocument {
  return parseSbd({
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      sender: [{ identifier: { value: `0192:${o.sender ?? PEER}`, authority: 'iso6523-actorid-upis' } }],
      receiver: [{ identifier: { value: `0192:${OWN_ORG}`, authority: 'iso6523-actorid-upis' } }],
      documentIdentification: {
        standard: STANDARD[type],
        typeVersion: '2.0',
        instanceIdentifier: o.messageId ?? randomUUID(),
        type,
        creationDateAndTime: '2026-03-10T09:00:00+01:00',
      },
      businessScope: {
        scope: [
          {
            type: 'ConversationId',
            instanceIdentifier: randomUUID(),
            identifier: o.process ?? (type === 'arkivmelding' ? PROCESS.administrasjon : PROCESS.response),
            scopeInformation: [{ expectedResponseDateTime: o.expires ?? '2026-03-11T10:00:00+01:00' }],
          },
        ],
      },
    },
    [type]: o.body ?? {},
  })
}

const idOf = (sbd: StandardBusinessDocument) =>
  sbd.standardBusinessDocumentHeader.documentIdentification!.instanceIdentifier!

async function encrypt(plain: Buffer, certPem: string): Promise<Buffer> {
  return buffer(Readable.from([plain]).pipe(encryptStream(certPem)))
}

let identity: TestIdentity
let stranger: TestIdentity
let keys: BusinessKeys
let cleanupKeys: () => void
/** a plaintext "ASiC" of several stream chunks, and its CMS to our certificate */
const PLAIN = randomBytes(300_000)
let CMS: Buffer

beforeAll(async () => {
  const tmp = makeTempDir('in-keys-')
  cleanupKeys = tmp.cleanup
  identity = makeIdentity(tmp.dir, 'us')
  stranger = makeIdentity(tmp.dir, 'stranger')
  keys = { keyPem: identity.keyPem, certPem: identity.certPem, chainPem: [] }
  CMS = await encrypt(PLAIN, identity.certPem)
})
afterAll(() => cleanupKeys())

describe.each(STORES)('incoming messages on %s', (kind) => {
  let ip: TestIp
  beforeEach(async () => {
    ip = await startTestIp(kind, { keys })
  })
  afterEach(async () => ip.close())

  /** Spools `asic` to a temp file under payloads.tempDir, as the poller does, and takes it in. */
  async function deliver(
    sbd: StandardBusinessDocument,
    o: {
      asic?: Buffer | null
      si?: ServiceIdentifier
      transferRef?: string
      authenticatedSender?: string
    } = {},
  ) {
    const asic = o.asic === undefined ? CMS : o.asic
    let spooled: IncomingDelivery['asic'] = null
    if (asic) {
      mkdirSync(ip.payloads.tempDir, { recursive: true })
      const tempPath = join(ip.payloads.tempDir, `${randomUUID()}.download`)
      writeFileSync(tempPath, asic)
      spooled = { tempPath, size: asic.length }
    }
    const outcome = await intakeIncoming(ip.deps, {
      sbd,
      serviceIdentifier: o.si ?? 'DPO',
      asic: spooled,
      transferRef: o.transferRef ?? null,
      // the broker's sender: whoever the SBD names, unless a test says otherwise
      authenticatedSender: o.authenticatedSender ?? getSender(sbd)!.value,
    })
    if (spooled) expect(existsSync(spooled.tempPath), 'the temp file is adopted or removed').toBe(false)
    return outcome
  }

  async function deliverOne(o: Parameters<typeof deliver>[1] = {}) {
    const sbd = incoming('arkivmelding')
    expect(await deliver(sbd, o)).toBe('stored')
    return idOf(sbd)
  }

  const list = async (query = '') => (await ip.json<Json>(`/api/messages/in${query}`)).body
  const peekId = async (query = '') => {
    const res = await ip.json<Json>(`/api/messages/in/peek${query}`)
    if (res.status === 204) return null
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier as string
  }
  const incomingConversation = async (messageId: string) => {
    const res = await ip.json<Json>(`/api/conversations?direction=INCOMING&messageId=${messageId}`)
    return res.body.content[0]
  }
  const statusesOf = (conversation: Json) =>
    conversation.messageStatuses.map((s: Json) => s.status).sort() as string[]
  async function createOutgoing() {
    const res = await ip.json<Json>('/api/messages/out', jsonBody(arkivmeldingSbd()))
    expect(res.status).toBe(200)
    return res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier as string
  }

  describe('intake', () => {
    it('queues a message with its INCOMING conversation, a MOTTATT reply and the file encrypted at rest', async () => {
      const sbd = incoming('arkivmelding')
      const messageId = idOf(sbd)
      expect(await deliver(sbd, { transferRef: 'transfer-1' })).toBe('stored')

      const page = await list()
      expect(page.totalElements).toBe(1)
      expect(page.content[0]).toEqual(serializeSbd(sbd))
      const conversation = await incomingConversation(messageId)
      expect(conversation).toMatchObject({
        messageId,
        sender: `0192:${PEER}`,
        senderIdentifier: PEER,
        receiver: `0192:${OWN_ORG}`,
        receiverIdentifier: OWN_ORG,
        processIdentifier: PROCESS.administrasjon,
        direction: 'INCOMING',
        serviceIdentifier: 'DPO',
        finished: false,
        expiry: '2026-03-11T10:00:00+01:00',
      })
      expect(statusesOf(conversation)).toEqual(['INNKOMMENDE_MOTTATT', 'OPPRETTET'])

      const jobs = await jobsForMessage(ip.db.kysely, messageId)
      expect(jobs.map((j) => [j.kind, j.dedupe_key])).toEqual([
        [statusReplyJobKind('DPO'), `status-reply:${messageId}:MOTTATT`],
      ])
      const payload = JSON.parse(jobs[0]!.payload)
      expect(payload.service).toBe('DPO')
      expect(payload.sbd.status).toEqual({ status: 'MOTTATT' })
      expect(payload.sbd.standardBusinessDocumentHeader.receiver[0].identifier.value).toBe(`0192:${PEER}`)

      const stored = filesUnder(ip, 'in')
      expect(stored).toHaveLength(1)
      const onDisk = readFileSync(join(ip.config.nextmove.filedir, 'in', messageId, stored[0]!))
      expect(onDisk.equals(CMS)).toBe(true)
      expect(await isTransferReceived(ip.db.kysely, 'transfer-1')).toBe(true)
      expect(await isTransferReceived(ip.db.kysely, 'transfer-2')).toBe(false)
    })

    it('sends no status back over a service outside status-services', async () => {
      const messageId = await deliverOne({ si: 'DPV' })
      expect(await jobsForMessage(ip.db.kysely, messageId)).toEqual([])
    })

    it('recognises a copy delivered again, also after the fagsystem deleted the message', async () => {
      const sbd = incoming('arkivmelding')
      expect(await deliver(sbd)).toBe('stored')
      expect(await deliver(sbd)).toBe('duplicate')
      expect((await list()).totalElements).toBe(1)
      expect(filesUnder(ip, 'in')).toHaveLength(1)

      expect(await peekId()).toBe(idOf(sbd))
      expect((await ip.fetch(`/api/messages/in/${idOf(sbd)}`, { method: 'DELETE' })).status).toBe(200)
      expect(await deliver(sbd)).toBe('duplicate')
      expect((await list()).totalElements).toBe(0)
      expect(filesUnder(ip, '')).toEqual([])
    })

    it('stores one message when two intakes of the same delivery race', async () => {
      const sbd = incoming('arkivmelding')
      const outcomes = await Promise.all([deliver(sbd), deliver(sbd), deliver(sbd)])
      expect(outcomes.sort()).toEqual(['duplicate', 'duplicate', 'stored'])
      expect((await list()).totalElements).toBe(1)
      expect(filesUnder(ip, '')).toHaveLength(1)
      expect(await jobsForMessage(ip.db.kysely, idOf(sbd))).toHaveLength(1)
    })

    it('leaves nothing behind when it fails, so the next poll can take the delivery in', async () => {
      // a kvittering for an unknown message is logged inside the transaction: make that throw
      const failing = {
        ...ip.deps,
        logger: {
          ...ip.deps.logger,
          info: () => {
            throw new Error('boom')
          },
        },
      }
      const body = { receiptType: 'OK', relatedToMessageId: randomUUID() }
      const sbd = incoming('arkivmelding_kvittering', { body })
      const tempPath = join(ip.payloads.tempDir, 'failing.download')
      mkdirSync(ip.payloads.tempDir, { recursive: true })
      writeFileSync(tempPath, CMS)
      const delivery = {
        sbd,
        serviceIdentifier: 'DPO' as const,
        asic: { tempPath, size: CMS.length },
        transferRef: 't',
        authenticatedSender: `0192:${PEER}`,
      }
      await expect(intakeIncoming(failing as typeof ip.deps, delivery)).rejects.toThrow('boom')
      expect(filesUnder(ip, '')).toEqual([])
      expect((await list()).totalElements).toBe(0)
      expect(await incomingConversation(idOf(sbd))).toBeUndefined()
      expect(await isTransferReceived(ip.db.kysely, 't')).toBe(false)
      expect(await deliver(sbd)).toBe('stored')
    })

    it('drops an expired message with OPPRETTET and LEVETID_UTLOPT, and no reply', async () => {
      const sbd = incoming('arkivmelding', { expires: '2026-03-10T09:59:59+01:00' })
      expect(await deliver(sbd)).toBe('expired')
      expect((await list()).totalElements).toBe(0)
      expect(filesUnder(ip, '')).toEqual([])
      const conversation = await incomingConversation(idOf(sbd))
      expect(statusesOf(conversation)).toEqual(['LEVETID_UTLOPT', 'OPPRETTET'])
      expect(conversation.finished).toBe(true)
      expect(await jobsForMessage(ip.db.kysely, idOf(sbd))).toEqual([])
      expect(await deliver(sbd)).toBe('duplicate')
    })

    it('registers a status message on the outgoing conversation, once per status', async () => {
      const messageId = await createOutgoing()
      const status = (s: string) => incoming('status', { messageId, body: { status: s } })
      expect(await deliver(status('MOTTATT'), { asic: null })).toBe('status')
      expect(await deliver(status('LEVERT'), { asic: null })).toBe('status')
      expect(await deliver(status('MOTTATT'), { asic: null })).toBe('duplicate')
      const conversation = (await ip.json<Json>(`/api/conversations/messageId/${messageId}`)).body
      // a receipt implies SENDT (it may overtake the sender's own registration)
      expect(statusesOf(conversation)).toEqual(['LEVERT', 'MOTTATT', 'OPPRETTET', 'SENDT'])
      expect(conversation.finished).toBe(true)
      expect((await list()).totalElements).toBe(0)
      expect(await incomingConversation(messageId)).toBeUndefined()
      // an expired status message is dropped, without an incoming conversation for our messageId
      const late = incoming('status', {
        messageId,
        body: { status: 'LEST' },
        expires: '2026-03-10T09:00:00+01:00',
      })
      expect(await deliver(late, { asic: null })).toBe('expired')
      expect(await incomingConversation(messageId)).toBeUndefined()
      // a status for a message we never sent is ignored
      expect(await deliver(incoming('status', { body: { status: 'LEVERT' } }), { asic: null })).toBe('status')
    })

    it('maps an arkivmelding_kvittering to LEST or FEIL on the original and queues it', async () => {
      const cases = [
        ['OK', 'LEST'],
        ['WARNING', 'LEST'],
        ['ERROR', 'FEIL'],
        ['NOTSUPPORTED', 'FEIL'],
      ] as const
      for (const [receiptType, expected] of cases) {
        const original = await createOutgoing()
        const body = { receiptType, relatedToMessageId: original, messages: [{ code: 'Recno', text: '1' }] }
        const kvittering = incoming('arkivmelding_kvittering', { body })
        expect(await deliver(kvittering, { asic: null })).toBe('stored')
        const statuses = (await ip.json<Json>(`/api/statuses/${original}`)).body.content
        expect(statuses.map((s: Json) => s.status)).toEqual(['OPPRETTET', 'SENDT', expected])
        expect(statuses[2]).toMatchObject({
          description: `ArkivmeldingKvittering: ${receiptType}`,
          rawReceipt: JSON.stringify(body),
        })
      }
      expect((await list()).totalElements).toBe(4)
      // receipts carry no ASiC
      const id = await peekId()
      expect((await ip.fetch(`/api/messages/in/pop/${id}`)).status).toBe(204)
    })
  })

  describe('peek', () => {
    it('locks the oldest unlocked message, honours the filters and answers 204 when none is left', async () => {
      const a = await deliverOne()
      ip.clock.advance(1000)
      const b = await deliverOne({ si: 'DPE' })
      ip.clock.advance(1000)
      const cSbd = incoming('avtalt', { sender: '910076787', process: PROCESS.avtalt })
      expect(await deliver(cSbd, { asic: null })).toBe('stored')
      const c = idOf(cSbd)

      expect(await peekId('?serviceIdentifier=DPE')).toBe(b)
      expect(await peekId(`?senderIdentifier=910076787&process=${PROCESS.avtalt}`)).toBe(c)
      expect(await peekId('?senderIdentifier=910076787')).toBeNull()
      expect(await peekId()).toBe(a)
      const none = await ip.fetch('/api/messages/in/peek')
      expect(none.status).toBe(204)
      expect(await none.text()).toBe('')
      // locked messages are still listed
      expect((await list()).totalElements).toBe(3)
      expect((await list(`?messageId=${b}`)).content).toHaveLength(1)
      expect((await list(`?receiverIdentifier=${OWN_ORG}&serviceIdentifier=DPO`)).totalElements).toBe(2)

      // a lock that ran out is no lock; the message keeps its place at the front
      ip.clock.advance(ip.config.nextmove.lockTimeoutMinutes * 60_000)
      expect(await peekId()).toBe(a)
    })

    it('answers 400 for an unknown serviceIdentifier', async () => {
      for (const path of [
        '/api/messages/in?serviceIdentifier=DPX',
        '/api/messages/in/peek?serviceIdentifier=DPX',
      ]) {
        const res = await ip.json<Json>(path)
        expect(res.status).toBe(400)
        expect(res.body.exception).toBe('org.springframework.validation.BindException')
        expect(res.body.errors[0].field).toBe('serviceIdentifier')
      }
    })

    it('never gives two concurrent peeks the same message', async () => {
      const ids = []
      for (let i = 0; i < 5; i++) ids.push(await deliverOne({ asic: null }))
      const peeked = await Promise.all(Array.from({ length: 8 }, () => peekId()))
      expect(peeked.filter((id) => id !== null).sort()).toEqual(ids.sort())
      expect(peeked.filter((id) => id === null)).toHaveLength(3)
    })
  })

  describe('pop', () => {
    it('streams the decrypted ASiC-E of a locked message', async () => {
      const id = await deliverOne()
      expect((await ip.json<Json>(`/api/messages/in/pop/${id}`)).body).toMatchObject({
        status: 400,
        exception: `${EX}MessageNotLockedException`,
        message: `Message with messageId = ${id} was not locked`,
        path: `/api/messages/in/pop/${id}`,
      })
      expect(await peekId()).toBe(id)
      for (let i = 0; i < 2; i++) {
        const res = await ip.fetch(`/api/messages/in/pop/${id}`)
        expect(res.status).toBe(200)
        expect(res.headers.get('content-type')).toBe('application/vnd.etsi.asic-e+zip')
        expect(res.headers.get('content-disposition')).toBe('attachment; filename=asic.zip')
        expect(Buffer.from(await res.arrayBuffer()).equals(PLAIN)).toBe(true)
      }
    })

    it('answers 404 for an unknown message and 204 for one without an ASiC', async () => {
      const unknown = await ip.json<Json>('/api/messages/in/pop/nope')
      expect(unknown.status).toBe(404)
      expect(unknown.body.exception).toBe(`${EX}MessageNotFoundException`)
      await deliverOne({ asic: null })
      const id = await peekId()
      const res = await ip.fetch(`/api/messages/in/pop/${id}`)
      expect(res.status).toBe(204)
      expect(await res.text()).toBe('')
    })

    it('removes a message whose file does not decrypt, with FEIL, as the reference', async () => {
      const id = await deliverOne({ asic: await encrypt(PLAIN, stranger.certPem) })
      await peekId()
      const res = await ip.json<Json>(`/api/messages/in/pop/${id}`)
      expect(res.status).toBe(404)
      expect(res.body).toMatchObject({
        exception: `${EX}FileNotFoundException`,
        message: 'File(s) named asic.zip was not found',
      })
      expect((await list()).totalElements).toBe(0)
      expect(filesUnder(ip, '')).toEqual([])
      const conversation = await incomingConversation(id)
      expect(statusesOf(conversation)).toEqual(['FEIL', 'INNKOMMENDE_MOTTATT', 'OPPRETTET'])
      const feil = conversation.messageStatuses.find((s: Json) => s.status === 'FEIL')
      expect(feil.description).toBe(
        `Can not read file "asic.zip" for message [messageId=${id}, sender=${PEER}], removing from queue.`,
      )
    })

    it('removes a message whose file is gone, with FEIL and 500 AsicReadException', async () => {
      const id = await deliverOne()
      await peekId()
      for (const f of filesUnder(ip, 'in')) rmSync(join(ip.config.nextmove.filedir, 'in', id, f))
      const res = await ip.json<Json>(`/api/messages/in/pop/${id}`)
      expect(res.status).toBe(500)
      expect(res.body.exception).toBe(`${EX}AsicReadException`)
      expect((await list()).totalElements).toBe(0)
      const feil = (await incomingConversation(id)).messageStatuses.find((s: Json) => s.status === 'FEIL')
      expect(feil.description).toBe(
        `Can not retrieve file "asic.zip" for message [messageId=${id}, sender=${PEER}], removing from queue.`,
      )
    })

    it('drops the connection when the file fails after streaming began, and keeps the message', async () => {
      const id = await deliverOne({ asic: CMS.subarray(0, CMS.length - 5000) })
      await peekId()
      const res = await ip.fetch(`/api/messages/in/pop/${id}`)
      expect(res.status).toBe(200)
      await expect(res.arrayBuffer()).rejects.toThrow()
      expect((await list()).totalElements).toBe(1)
    })
  })

  describe('delete', () => {
    it('acknowledges a locked message: INNKOMMENDE_LEVERT, a LEVERT reply, the file removed', async () => {
      const id = await deliverOne()
      expect((await ip.json<Json>('/api/messages/in/nope', { method: 'DELETE' })).status).toBe(404)
      const notLocked = await ip.json<Json>(`/api/messages/in/${id}`, { method: 'DELETE' })
      expect(notLocked.status).toBe(400)
      expect(notLocked.body.exception).toBe(`${EX}MessageNotLockedException`)

      await peekId()
      const res = await ip.json<Json>(`/api/messages/in/${id}`, { method: 'DELETE' })
      expect(res.status).toBe(200)
      expect(res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier).toBe(id)
      expect((await list()).totalElements).toBe(0)
      expect(filesUnder(ip, '')).toEqual([])
      const conversation = await incomingConversation(id)
      expect(statusesOf(conversation)).toEqual(['INNKOMMENDE_LEVERT', 'INNKOMMENDE_MOTTATT', 'OPPRETTET'])
      expect(conversation.finished).toBe(true)
      const jobs = await jobsForMessage(ip.db.kysely, id)
      expect(jobs.map((j) => j.dedupe_key)).toEqual([
        `status-reply:${id}:MOTTATT`,
        `status-reply:${id}:LEVERT`,
      ])
      expect(JSON.parse(jobs[1]!.payload).sbd.status).toEqual({ status: 'LEVERT' })
      expect((await ip.json<Json>(`/api/messages/in/${id}`, { method: 'DELETE' })).status).toBe(404)
    })

    it('answers the alias DELETE /api/in/messages/{messageId}', async () => {
      const id = await deliverOne()
      await peekId()
      expect((await ip.fetch(`/api/in/messages/${id}`, { method: 'DELETE' })).status).toBe(200)
      expect((await list()).totalElements).toBe(0)
    })
  })

  describe('unlock', () => {
    it('unlocks one message', async () => {
      const unknown = await ip.json<Json>('/api/messages/in/unlock/nope', { method: 'POST' })
      expect(unknown.status).toBe(404)
      const id = await deliverOne()
      const notLocked = await ip.json<Json>(`/api/messages/in/unlock/${id}`, { method: 'POST' })
      expect(notLocked.status).toBe(200)
      expect(await peekId()).toBe(id)
      expect(await peekId()).toBeNull()
      const res = await ip.json<Json>(`/api/messages/in/unlock/${id}`, { method: 'POST' })
      expect(res.status).toBe(200)
      expect(res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier).toBe(id)
      expect(await peekId()).toBe(id)
    })

    it('unlocks many, by messageIds or by the filters', async () => {
      const a = await deliverOne({ asic: null })
      const b = await deliverOne({ asic: null })
      const c = await deliverOne({ asic: null, si: 'DPE' })
      const d = await deliverOne({ asic: null })
      for (let i = 0; i < 4; i++) await peekId()
      const unlock = (init: RequestInit, query = '') =>
        ip.json<Json>(`/api/messages/in/unlock${query}`, { method: 'POST', ...init })

      expect((await unlock(jsonBody({ messageIds: [a, b, 'nope'] }))).body).toEqual({ unlocked: 2 })
      expect((await unlock(jsonBody({ messageIds: [a] }))).body).toEqual({ unlocked: 0 })
      expect(await peekId()).toBe(a)
      expect((await unlock({}, '?serviceIdentifier=DPE')).body).toEqual({ unlocked: 1 })
      expect(await peekId('?serviceIdentifier=DPE')).toBe(c)
      expect((await unlock({})).body).toEqual({ unlocked: 3 })
      const all = []
      for (let id = await peekId(); id; id = await peekId()) all.push(id)
      expect(all).toEqual([a, b, c, d])

      const bad = await unlock(jsonBody({ messageIds: 'a' }))
      expect(bad.status).toBe(400)
      expect(bad.body.exception).toBe('java.lang.IllegalArgumentException')
    })
  })

  describe('housekeeping', () => {
    it('expiry removes a message still queued, with its file', async () => {
      const sbd = incoming('arkivmelding', { expires: '2026-03-10T11:00:00+01:00' })
      expect(await deliver(sbd)).toBe('stored')
      const kept = await deliverOne()
      ip.clock.advance(2 * 3_600_000)
      expect(await expireConversations(ip.db, ip.clock, 100, ip.payloads)).toBe(1)
      expect((await list()).content.map(idOf2)).toEqual([kept])
      expect(filesUnder(ip, 'in')).toHaveLength(1)
      expect(statusesOf(await incomingConversation(idOf(sbd)))).toEqual([
        'INNKOMMENDE_MOTTATT',
        'LEVETID_UTLOPT',
        'OPPRETTET',
      ])
    })

    it('the orphan sweep removes payload files without a queued message', async () => {
      await deliverOne()
      const write = (key: string) =>
        ip.payloads.write(key, Readable.from([Buffer.from('x')]), {
          maxBytes: 10,
          onLimit: () => new Error('limit'),
        })
      await write('in/crashed/f1')
      await write('in/crashed/f2')
      expect(filesUnder(ip, 'in')).toHaveLength(3)
      // the store ages files by its clock: put it a minute past the files' real write time
      ip.clock.set(new Date(Date.now() + 60_000))
      expect(await sweepIncomingOrphans(ip.db, ip.payloads, 10 * 60_000)).toBe(0)
      expect(await sweepIncomingOrphans(ip.db, ip.payloads, 0)).toBe(2)
      expect(filesUnder(ip, 'in')).toHaveLength(1)
      expect(existsSync(join(ip.config.nextmove.filedir, 'in', 'crashed'))).toBe(false)
      // what remains is the queued message's file, still poppable
      const id = await peekId()
      const res = await ip.fetch(`/api/messages/in/pop/${id}`)
      expect(Buffer.from(await res.arrayBuffer()).equals(PLAIN)).toBe(true)
    })
  })
})

function idOf2(sbd: Json): string {
  return sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
}

describe.each(STORES)(
  'a small package stored with its message, payloads as a start chooses them, on %s',
  (kind) => {
    let ip: TestIp
    beforeEach(async () => {
      // SQLite: files, but a small package in the database; PostgreSQL: the database
      ip = await startTestIp(kind, { keys, configuredPayloadStore: true })
    })
    afterEach(async () => ip.close())

    const payloadRows = () =>
      ip.db.kysely.selectFrom('payloads').select(['key', 'size']).orderBy('key').execute()

    async function deliver(sbd: StandardBusinessDocument, asic: Buffer, deps = ip.deps) {
      mkdirSync(ip.payloads.tempDir, { recursive: true })
      const tempPath = join(ip.payloads.tempDir, `${randomUUID()}.download`)
      writeFileSync(tempPath, asic)
      try {
        return await intakeIncoming(deps, {
          sbd,
          serviceIdentifier: 'DPO',
          asic: { tempPath, size: asic.length },
          transferRef: null,
          authenticatedSender: getSender(sbd)!.value,
        })
      } finally {
        expect(existsSync(tempPath), 'the temp file is adopted or removed').toBe(false)
      }
    }

    async function popped(id: string): Promise<Buffer> {
      expect((await ip.json<Json>('/api/messages/in/peek')).status).toBe(200)
      const res = await ip.fetch(`/api/messages/in/pop/${id}`)
      expect(res.status).toBe(200)
      return Buffer.from(await res.arrayBuffer())
    }

    it('commits a package of up to 1 MiB with its message: a payload row, no file, popped and deleted as any', async () => {
      expect(CMS.length).toBeLessThanOrEqual(IN_TRANSACTION_PACKAGE_BYTES)
      const sbd = incoming('arkivmelding')
      const id = idOf(sbd)
      expect(await deliver(sbd, CMS)).toBe('stored')
      expect(await payloadRows()).toEqual([
        { key: expect.stringMatching(new RegExp(`^in/${id}/`)), size: CMS.length },
      ])
      expect(filesUnder(ip, '')).toEqual([])
      expect((await popped(id)).equals(PLAIN)).toBe(true)
      expect((await ip.fetch(`/api/messages/in/${id}`, { method: 'DELETE' })).status).toBe(200)
      expect(await payloadRows()).toEqual([])
    })

    it('adopts a larger package as before', async () => {
      const big = randomBytes(IN_TRANSACTION_PACKAGE_BYTES + 1)
      const cms = await encrypt(big, identity.certPem)
      const sbd = incoming('arkivmelding')
      expect(await deliver(sbd, cms)).toBe('stored')
      // SQLite's store keeps it as a file; PostgreSQL's copies it into the database in chunks, apart
      if (kind === 'sqlite') {
        expect(await payloadRows()).toEqual([])
        expect(filesUnder(ip, '')).toHaveLength(1)
      } else expect(await payloadRows()).toEqual([expect.objectContaining({ size: cms.length })])
      expect((await popped(idOf(sbd))).equals(big)).toBe(true)
    })

    it('stores nothing when the transaction fails, and stores the package when it comes again', async () => {
      // a kvittering for an unknown message is logged inside the transaction: make that throw
      const failing = { ...ip.deps, logger: { ...ip.deps.logger, info: () => raise('boom') } }
      const sbd = incoming('arkivmelding_kvittering', {
        body: { receiptType: 'OK', relatedToMessageId: randomUUID() },
      })
      await expect(deliver(sbd, CMS, failing as typeof ip.deps)).rejects.toThrow('boom')
      expect(await payloadRows()).toEqual([])
      expect(await deliver(sbd, CMS)).toBe('stored')
      expect(await payloadRows()).toHaveLength(1)
    })

    it('keeps one package when intakes of the same delivery race', async () => {
      const sbd = incoming('arkivmelding')
      const outcomes = await Promise.all([deliver(sbd, CMS), deliver(sbd, CMS), deliver(sbd, CMS)])
      expect(outcomes.sort()).toEqual(['duplicate', 'duplicate', 'stored'])
      expect(await payloadRows()).toHaveLength(1)
      expect((await popped(idOf(sbd))).equals(PLAIN)).toBe(true)
    })
  },
)

function raise(message: string): never {
  throw new Error(message)
}
