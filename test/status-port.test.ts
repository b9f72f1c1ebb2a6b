import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { OutgoingDelivery, SendOutcome } from '../src/channels/ports.js'
import { createStatusPort } from '../src/conversations/status-port.js'
import { sendJobHandler } from '../src/messages/out/dispatch.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { startTestIp, type TestIp } from './support/ip.js'

warnIfPostgresSkipped()

/**
 * The seam between a channel and the statuses (src/channels/ports.ts): a send that the service answers
 * with its reference makes the conversation polled; the channel's status poller then lists it, registers
 * what the service says, once, and polling ends with LEST, with the message's lifetime, or on request.
 */
describe.each(STORES)('the status port on %s', (kind) => {
  let ip: TestIp | undefined
  afterEach(async () => {
    await ip?.close()
    ip = undefined
  })

  async function sendOne(ip: TestIp): Promise<string> {
    const proto = await ip.json<Record<string, any>>(
      '/api/prototype/arkivmelding?receiverIdentifier=910075918',
    )
    const sbd = proto.body
    sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
    const form = new FormData()
    form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
    const xml = arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Vedtak' })
    form.append('Arkivmelding', new Blob([xml], { type: 'application/xml' }), 'arkivmelding.xml')
    form.append('Vedtak', new Blob(['%PDF-1.4 vedtak'], { type: 'application/pdf' }), 'vedtak.pdf')
    const res = await ip.fetch('/api/messages/out/multipart', { method: 'POST', body: form })
    expect(res.status).toBe(200)
    return sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
  }

  /** runs the message's send job with a channel that answers `outcome` */
  async function runSend(ip: TestIp, messageId: string, outcome: SendOutcome): Promise<OutgoingDelivery[]> {
    const seen: OutgoingDelivery[] = []
    const handler = sendJobHandler({
      db: ip.db,
      clock: ip.clock,
      logger: pino({ level: 'silent' }),
      payloads: ip.payloads,
      channels: {
        DPO: {
          send: async (d) => {
            seen.push(d)
            return outcome
          },
        },
      },
    })
    const job = await ip.db.kysely
      .selectFrom('jobs')
      .selectAll()
      .where('message_id', '=', messageId)
      .executeTakeFirstOrThrow()
    expect(await handler(job)).toEqual({ ok: true })
    return seen
  }

  const statuses = async (ip: TestIp, id: string) =>
    (await ip.json<{ content: { status: string }[] }>(`/api/statuses/${id}`)).body.content.map(
      (s) => s.status,
    )

  it('polls a message the service gave a reference for, until LEST', async () => {
    ip = await startTestIp(kind)
    const id = await sendOne(ip)
    const seen = await runSend(ip, id, { outcome: 'delivered', reference: 'corr-1' })
    expect(seen.map((d) => [d.purpose, d.files.map((f) => f.filename).sort()])).toEqual([
      [`send:${id}`, ['arkivmelding.xml', 'vedtak.pdf']],
    ])
    const conversation = (await ip.json<Record<string, any>>(`/api/conversations/messageId/${id}`)).body
    expect(conversation.externalSystemReference).toBe('corr-1')
    const row = await ip.db.kysely
      .selectFrom('conversations')
      .select('pollable')
      .where('message_id', '=', id)
      .executeTakeFirstOrThrow()
    expect(row.pollable).toBe(1)

    const port = createStatusPort({ db: ip.db, clock: ip.clock }, 'DPO')
    expect(await createStatusPort({ db: ip.db, clock: ip.clock }, 'DPV').pollable({ limit: 10 })).toEqual([])
    expect(await port.pollable({ limit: 10 })).toEqual([
      { messageId: id, reference: 'corr-1', type: 'arkivmelding', statuses: ['OPPRETTET', 'SENDT'] },
    ])
    // a round that runs twice registers once
    expect(await port.register(id, [{ status: 'LEVERT' }])).toEqual(['LEVERT'])
    expect(await port.register(id, [{ status: 'LEVERT' }])).toEqual([])
    // LEVERT finishes the conversation, but LEST may still come
    expect((await port.pollable({ limit: 10 })).map((m) => m.statuses)).toEqual([
      ['OPPRETTET', 'SENDT', 'LEVERT'],
    ])
    await port.register(id, [{ status: 'LEST', description: 'read by the recipient' }])
    expect(await port.pollable({ limit: 10 })).toEqual([])
    expect(await statuses(ip, id)).toEqual(['OPPRETTET', 'SENDT', 'LEVERT', 'LEST'])
  })

  it('registers the statuses a delivery carries with SENDT, and polls nothing without a reference', async () => {
    ip = await startTestIp(kind)
    const id = await sendOne(ip)
    await runSend(ip, id, {
      outcome: 'delivered',
      statuses: [{ status: 'LEVERT' }, { status: 'LEST' }],
    })
    expect(await statuses(ip, id)).toEqual(['OPPRETTET', 'SENDT', 'LEVERT', 'LEST'])
    expect(await createStatusPort({ db: ip.db, clock: ip.clock }, 'DPO').pollable({ limit: 10 })).toEqual([])
  })

  it('pages through the polled messages, and stops polling at expiry or on request', async () => {
    ip = await startTestIp(kind)
    const ids = [await sendOne(ip), await sendOne(ip), await sendOne(ip)].sort()
    for (const [i, id] of ids.entries()) await runSend(ip, id, { outcome: 'delivered', reference: `r${i}` })
    const port = createStatusPort({ db: ip.db, clock: ip.clock }, 'DPO')
    const first = await port.pollable({ limit: 2 })
    const rest = await port.pollable({ limit: 2, after: first.at(-1)!.messageId })
    expect([...first, ...rest].map((m) => m.messageId)).toEqual(ids)
    await port.stopPolling(ids[0]!)
    expect((await port.pollable({ limit: 10 })).map((m) => m.messageId)).toEqual(ids.slice(1))
    // a last word and the end of polling in one transaction: whoever sees ANNET sees it no longer polled
    expect(await port.register(ids[1]!, [{ status: 'ANNET' }], { stopPolling: true })).toEqual(['ANNET'])
    expect((await port.pollable({ limit: 10 })).map((m) => m.messageId)).toEqual(ids.slice(2))
    // past the messages' lifetime (24 hours by default) nothing is polled any more
    ip.clock.advance(25 * 60 * 60 * 1000)
    expect(await port.pollable({ limit: 10 })).toEqual([])
    const left = await ip.db.kysely
      .selectFrom('conversations')
      .select('pollable')
      .where('pollable', '=', 1)
      .execute()
    expect(left).toEqual([])
  })
})
