import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { intakeIncoming } from '../src/messages/in/intake.js'
import { createStatusFrom } from '../src/messages/in/status-reply.js'
import { parseSbd } from '../src/sbd/parse.js'
import { STORES } from './support/db.js'
import { arkivmeldingSbd, jsonBody, startTestIp, type TestIp } from './support/ip.js'

type Json = Record<string, any>

/**
 * Receipts come back as separate messages and can overtake each other and the sender's own SENDT;
 * the outgoing conversation still reads in the order things happened.
 */
describe.each(STORES)('receipts arriving out of order on %s', (kind) => {
  let ip: TestIp
  beforeEach(async () => {
    ip = await startTestIp(kind)
  })
  afterEach(async () => ip.close())

  const statuses = async (messageId: string) =>
    (await ip.json<Json>(`/api/statuses/${messageId}?sort=id`)).body.content.map((s: Json) => s.status)

  it('a LEVERT before MOTTATT and before our own SENDT registers SENDT, MOTTATT, LEVERT, each once', async () => {
    const created = await ip.json<Json>('/api/messages/out', jsonBody(arkivmeldingSbd()))
    expect(created.status).toBe(200)
    const original = parseSbd(created.body)
    const messageId = original.standardBusinessDocumentHeader.documentIdentification!.instanceIdentifier!
    const receipt = (status: 'MOTTATT' | 'LEVERT') =>
      intakeIncoming(ip.deps, {
        sbd: createStatusFrom(original, status, ip.config, ip.clock.now()),
        serviceIdentifier: 'DPO',
        asic: null,
        transferRef: null,
        // the organisation the message was sent to, as the broker would say
        authenticatedSender: '0192:910075918',
      })

    expect(await receipt('LEVERT')).toBe('status')
    expect(await statuses(messageId)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    // the late MOTTATT is recognised as implied already; nothing changes
    expect(await receipt('MOTTATT')).toBe('status')
    expect(await statuses(messageId)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
  })
})
