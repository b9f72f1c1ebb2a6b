import { afterEach, describe, expect, it } from 'vitest'
import { unzip } from '../src/standins/svarut/test-support.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { AGENCY_A, AGENCY_B, type Agency, type DpeWorld, EINNSYN, startDpeWorld } from './support/dpe-world.js'
import { eventually, json } from './support/poll.js'

warnIfPostgresSkipped()

type Json = Record<string, any>

const idOf = (sbd: Json): string =>
  sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier

/** waits for the message `messageId` (or any) in the agency's incoming queue; its SBD */
const peekFor = (agency: Agency, messageId?: string) =>
  eventually(async () => {
    const q = messageId ? `?messageId=${messageId}` : ''
    const r = await json(`${agency.ip.url}/api/messages/in/peek${q}`)
    return r.status === 200 ? r.body : undefined
  }, `a message at ${agency.org}`)

/** every incoming message the agency has, peeked, popped where it has files, and deleted */
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
    form.append(name, new Blob([text], { type: name.endsWith('.json') ? 'application/json' : 'application/xml' }), name)
  const res = await fetch(`${from.ip.url}/api/messages/out/multipart`, { method: 'POST', body: form })
  expect(res.status, await res.clone().text()).toBe(200)
  return idOf(sbd)
}

describe.each(STORES)('DPE through the Service Bus and eInnsyn stand-ins on %s', (kind) => {
  let w: DpeWorld | undefined
  afterEach(async () => {
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
})
