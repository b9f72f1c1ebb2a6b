import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type BrokerClient, createBrokerClient } from '../src/channels/dpo/broker-client.js'
import { tokenSourceFor } from '../src/channels/dpo/test-support.js'
import type { RunningIntegrationPoint } from '../src/main.js'
import { makeIdentity, makeTempDir, type TestIdentity } from '../src/packaging/test-support.js'
import { BROKER_BASE, EXCHANGE_PATH } from '../src/standins/altinn-broker/app.js'
import { systemClock } from '../src/util/time.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { uploadAs } from './support/forged-dpo.js'
import { capturingLogger } from './support/logging.js'
import { ORG_A as A, ORG_B as B, type Pair, startPair } from './support/pair.js'
import { eventually, json } from './support/poll.js'
import { parsePrometheus } from './support/prometheus.js'

warnIfPostgresSkipped()

type Json = Record<string, any>
/** a third organisation on the broker (TEST - EINNSYN in the ServiceRegistry stand-in's catalogue) */
const C = '910076787'
const PROCESS = 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0'
const RESPONSE = 'urn:no:difi:profile:arkivmelding:response:ver1.0'
const STANDARD: Record<string, string> = {
  arkivmelding: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
  arkivmelding_kvittering: 'urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering',
  status: 'urn:no:difi:eformidling:xsd::status',
}

let mallory: TestIdentity
let cleanupKeys: () => void
beforeAll(() => {
  const tmp = makeTempDir('peer-identity-')
  cleanupKeys = tmp.cleanup
  mallory = makeIdentity(tmp.dir, 'mallory')
})
afterAll(() => cleanupKeys())

const statusesOf = async (ip: RunningIntegrationPoint, messageId: string): Promise<string[]> =>
  (await json(`${ip.url}/api/statuses/${messageId}?sort=id`)).body.content.map((s: Json) => s.status)

const untilStatus = (ip: RunningIntegrationPoint, messageId: string, status: string) =>
  eventually(async () => {
    const got = await statusesOf(ip, messageId)
    return got.includes(status) ? got : undefined
  }, `${status} on ${messageId}`)

/** An SBD as a hand-made client would write it: any sender it likes, to `to`. */
function sbd(type: string, o: { from: string; to: string; messageId?: string; body: Json }): Json {
  return {
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      sender: [{ identifier: { value: `0192:${o.from}`, authority: 'iso6523-actorid-upis' } }],
      receiver: [{ identifier: { value: `0192:${o.to}`, authority: 'iso6523-actorid-upis' } }],
      documentIdentification: {
        standard: STANDARD[type],
        typeVersion: '2.0',
        instanceIdentifier: o.messageId ?? randomUUID(),
        type,
        creationDateAndTime: new Date().toISOString(),
      },
      businessScope: {
        scope: [
          {
            type: 'ConversationId',
            instanceIdentifier: randomUUID(),
            identifier: type === 'arkivmelding' ? PROCESS : RESPONSE,
            scopeInformation: [{ expectedResponseDateTime: new Date(Date.now() + 86_400_000).toISOString() }],
          },
        ],
      },
    },
    [type]: o.body,
  }
}

/** Organisation C on the broker, with its own system user: what it uploads the broker says is from C. */
function brokerAs(world: Pair, org: string): BrokerClient {
  const tokens = tokenSourceFor(
    { orgNumber: org, identity: mallory },
    `${world.brokerUrl}${EXCHANGE_PATH}`,
    systemClock,
  )
  return createBrokerClient({ baseUrl: `${world.brokerUrl}${BROKER_BASE}`, tokens, timeoutMs: 5_000 })
}

/** Uploads `doc` (sbd.json only) from C to `to`, and waits until the receiver confirmed the download. */
async function upload(broker: BrokerClient, doc: Json, to: string): Promise<string> {
  const id = await uploadAs(broker, C, to, { sbdJson: JSON.stringify(doc), cms: null })
  await eventually(async () => {
    const o = await broker.overview(id)
    return o.recipients[0]?.currentRecipientFileTransferStatusCode === 'DownloadConfirmed' ? o : undefined
  }, `the download of ${id} confirmed`)
  return id
}

/** An arkivmelding from `from`'s fagsystem to `to`, as `onBehalfOf` when given. */
async function send(from: RunningIntegrationPoint, to: string, onBehalfOf?: string): Promise<string> {
  const proto = (await json(`${from.url}/api/prototype/arkivmelding?receiverIdentifier=${to}`)).body
  proto.arkivmelding = { hoveddokument: 'vedtak.pdf' }
  if (onBehalfOf)
    proto.standardBusinessDocumentHeader.sender = [
      { identifier: { value: `0192:${onBehalfOf}`, authority: 'iso6523-actorid-upis' } },
    ]
  const form = new FormData()
  form.append('sbd', new Blob([JSON.stringify(proto)], { type: 'application/json' }))
  const xml = arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Vedtak' })
  form.append('Arkivmelding', new Blob([xml], { type: 'application/xml' }), 'arkivmelding.xml')
  form.append('Vedtak', new Blob(['%PDF-1.4 vedtak'], { type: 'application/pdf' }), 'vedtak.pdf')
  const res = await fetch(`${from.url}/api/messages/out/multipart`, { method: 'POST', body: form })
  expect(res.status, await res.clone().text()).toBe(200)
  return proto.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
}

async function refusedCount(ip: RunningIntegrationPoint, reason: string): Promise<number | undefined> {
  const text = await (await fetch(`${ip.url}/manage/prometheus`)).text()
  return parsePrometheus(text).value('eformidling_incoming_refused_total', { service: 'DPO', reason })
}

/** the keys `received` holds for a messageId: refused deliveries under `refused:<fileTransferId>` */
const receivedKeys = async (ip: RunningIntegrationPoint, messageId: string) =>
  (
    await ip.db.kysely
      .selectFrom('received')
      .select('dedupe_key')
      .where('message_id', '=', messageId)
      .orderBy('id')
      .execute()
  ).map((r) => r.dedupe_key)

describe.each(STORES)('who may speak on the broker, on %s', (kind) => {
  let world: Pair | undefined
  let log: ReturnType<typeof capturingLogger>
  afterEach(async () => {
    await world?.stop()
    world = undefined
  })

  const start = async (props?: Record<string, string>) => {
    log = capturingLogger()
    world = await startPair(kind, {
      loggerFor: (org) => (org === A ? log.logger : capturingLogger().logger),
      ...(props ? { props } : {}),
    })
    return world
  }

  it("takes a receipt for A's message only from the organisation it was sent to", async () => {
    const { a, b } = await start()
    const messageId = await send(a, B)
    await untilStatus(a, messageId, 'MOTTATT')
    const c = brokerAs(world!, C)
    try {
      // C, honest about who it is, says A's message to B was delivered and read
      const levert = sbd('status', { from: C, to: A, messageId, body: { status: 'LEVERT' } })
      const transfer = await upload(c, levert, A)
      const kvittering = sbd('arkivmelding_kvittering', {
        from: C,
        to: A,
        body: { receiptType: 'OK', relatedToMessageId: messageId, messages: [] },
      })
      await upload(c, kvittering, A)

      expect(await statusesOf(a, messageId)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT'])
      expect((await json(`${a.url}/api/messages/in/peek`)).status).toBe(204)
      const warned = log.lines().filter((l) => l.authenticatedSender === `0192:${C}` && l.level === 40)
      expect(warned.map((l) => [l.messageId, l.claimedSender, l.receiver])).toEqual([
        [messageId, `0192:${C}`, `0192:${B}`],
        [
          kvittering.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier,
          `0192:${C}`,
          `0192:${B}`,
        ],
      ])
      expect(await refusedCount(a, 'receipt')).toBe(2)
      // recorded, under a key of its own: the genuine LEVERT is still taken in below
      expect(await receivedKeys(a, messageId)).toEqual([`${messageId}/MOTTATT`, `refused:${transfer}`])

      // B's fagsystem takes the message: the genuine LEVERT from B counts
      expect((await json(`${b.url}/api/messages/in/peek`)).status).toBe(200)
      expect((await fetch(`${b.url}/api/messages/in/${messageId}`, { method: 'DELETE' })).status).toBe(200)
      expect(await untilStatus(a, messageId, 'LEVERT')).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    } finally {
      await c.close()
    }
  })

  it('refuses a message whose SBD names another sender than the broker authenticated', async () => {
    const { a } = await start()
    const ours = await send(a, B)
    await untilStatus(a, ours, 'MOTTATT')
    const c = brokerAs(world!, C)
    try {
      // C names B as sender: of a new message to A, and of a LEVERT for A's message to B
      const forged = sbd('arkivmelding', { from: B, to: A, body: {} })
      const forgedId = forged.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
      const transfer = await upload(c, forged, A)
      await upload(c, sbd('status', { from: B, to: A, messageId: ours, body: { status: 'LEVERT' } }), A)

      expect((await json(`${a.url}/api/messages/in/peek`)).status).toBe(204)
      expect((await json(`${a.url}/api/conversations/messageId/${forgedId}`)).status).toBe(404)
      expect(await statusesOf(a, ours)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT'])
      // no MOTTATT goes to B, who sent nothing
      const replies = await a.db.kysely
        .selectFrom('jobs')
        .select('kind')
        .where('message_id', '=', forgedId)
        .execute()
      expect(replies).toEqual([])
      const errors = log.lines().filter((l) => l.authenticatedSender === `0192:${C}` && l.level === 50)
      expect(errors.map((l) => [l.messageId, l.claimedSender])).toEqual([
        [forgedId, `0192:${B}`],
        [ours, `0192:${B}`],
      ])
      expect(await refusedCount(a, 'sender')).toBe(2)
      expect(await receivedKeys(a, forgedId)).toEqual([`refused:${transfer}`])
    } finally {
      await c.close()
    }
  })

  it("takes a message sent on behalf of a reportee from that reportee's system user, and its receipts", async () => {
    // B's integration point also acts for R, with R's system user (difi.move.dpo.reportees)
    const R = '910229028'
    const { a, b } = await start({
      'difi.move.dpo.reportees[0].orgId': `0192:${R}`,
      'difi.move.dpo.reportees[0].name': `${R}_integrasjonspunkt_systembruker_${R}`,
    })
    const messageId = await send(b, A, R)
    // the SBD says 0192:B:R, the broker says R: R may speak as the on-behalf-of part
    const peeked = await eventually(async () => {
      const r = await json(`${a.url}/api/messages/in/peek`)
      return r.status === 200 ? r.body : undefined
    }, 'the message at A')
    expect(peeked.standardBusinessDocumentHeader.sender[0].identifier.value).toBe(`0192:${B}:${R}`)
    expect((await fetch(`${a.url}/api/messages/in/${messageId}`, { method: 'DELETE' })).status).toBe(200)
    // A's receipts go to B (the identifier's organisation), from A, the organisation it was sent to
    expect(await untilStatus(b, messageId, 'LEVERT')).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    expect(await refusedCount(a, 'sender')).toBeUndefined()
    expect(await refusedCount(b, 'receipt')).toBeUndefined()
  })
})
