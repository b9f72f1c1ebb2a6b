import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BrokerClient } from '../src/channels/dpo/broker-client.js'
import type { RunningIntegrationPoint } from '../src/main.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import {
  brokerAs,
  craftAsic,
  craftSbdZip,
  type Entry,
  encryptTo,
  type KeyPair,
  registeredKeys,
  uploadAs,
} from './support/forged-dpo.js'
import { capturingLogger } from './support/logging.js'
import { ORG_A as A, ORG_B as B, type Pair, startPair } from './support/pair.js'
import { eventually, json } from './support/poll.js'
import { parsePrometheus } from './support/prometheus.js'

warnIfPostgresSkipped()

// Issue 13 items 4 and 5: B checks what A's name is on before it is queued. A's broker account is used
// as it is (the broker's sender is A, so only the container can give the forgery away).

type Json = Record<string, any>
/** another organisation the ServiceRegistry stand-in holds a real certificate for */
const C = '910076787'

/** How much the folder grew at most while `work` ran, sampled every few milliseconds. */
async function growthWhile<T>(dir: string, work: () => Promise<T>): Promise<{ value: T; bytes: number }> {
  let largest = 0
  const size = (d: string): number => {
    let total = 0
    for (const e of readdirSync(d, { withFileTypes: true })) {
      try {
        total += e.isDirectory() ? size(join(d, e.name)) : statSync(join(d, e.name)).size
      } catch {
        // gone between the listing and the look: it weighs nothing now
      }
    }
    return total
  }
  const before = size(dir)
  const timer = setInterval(() => {
    largest = Math.max(largest, size(dir))
  }, 2)
  try {
    const value = await work()
    return { value, bytes: Math.max(0, largest - before) }
  } finally {
    clearInterval(timer)
  }
}

const xml = Buffer.from(arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Vedtak om tilskudd' }))
const pdf = Buffer.from(`%PDF-1.4 vedtak ${'x'.repeat(20_000)}`)
const documents: Entry[] = [
  { name: 'arkivmelding.xml', data: xml },
  { name: 'vedtak.pdf', data: pdf },
]

describe.each(STORES)('B verifies what it receives in A’s name, on %s', (kind) => {
  let world: Pair
  let log: ReturnType<typeof capturingLogger>
  let asA: BrokerClient
  let keys: { a: KeyPair; c: KeyPair; bCert: string }
  /** the refusals B has made so far, by reason, as its metrics must count them */
  const counted = { signature: 0, container: 0 }

  beforeAll(async () => {
    log = capturingLogger()
    world = await startPair(kind, {
      loggerFor: (org) => (org === B ? log.logger : capturingLogger().logger),
    })
    const { registryDir } = world
    keys = {
      a: registeredKeys(registryDir, A),
      c: registeredKeys(registryDir, C),
      bCert: registeredKeys(registryDir, B).certPem,
    }
    asA = brokerAs(world.brokerUrl, A, keys.a)
  })
  afterAll(async () => {
    await asA?.close()
    await world?.stop()
  })

  /** A's fagsystem makes a message to B (not sent): A then has a conversation the FEIL can land on. */
  async function messageAtA(): Promise<{ sbd: Json; messageId: string }> {
    const a = world.a
    const sbd = (await json(`${a.url}/api/prototype/arkivmelding?receiverIdentifier=${B}`)).body
    sbd.arkivmelding = { hoveddokument: 'arkivmelding.xml' }
    const created = await json(`${a.url}/api/messages/out`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sbd),
    })
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    return { sbd, messageId: sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier }
  }

  /** Uploads as A and waits until B has confirmed the download, whatever B made of it. */
  async function deliver(body: Parameters<typeof uploadAs>[3]): Promise<string> {
    const id = await uploadAs(asA, A, B, body)
    world.b.nudgeReceivers()
    await eventually(async () => {
      const o = await asA.overview(id)
      return o.recipients[0]?.currentRecipientFileTransferStatusCode === 'DownloadConfirmed' ? o : undefined
    }, `B's confirm of ${id}`)
    return id
  }

  async function sendCrafted(asic: Buffer): Promise<{ messageId: string; transfer: string }> {
    const { sbd, messageId } = await messageAtA()
    const cms = await encryptTo(keys.bCert, asic)
    return { messageId, transfer: await deliver({ sbdJson: JSON.stringify(sbd), cms }) }
  }

  /** Not queued at B, recorded, logged; FEIL with the reason lands on A's conversation. */
  async function expectRefused(ip: { b: RunningIntegrationPoint; a: RunningIntegrationPoint }, r: Refused) {
    expect((await json(`${ip.b.url}/api/messages/in/peek`)).status).toBe(204)
    expect((await json(`${ip.b.url}/api/messages/in`)).body.content).toEqual([])
    const rows = await ip.b.db.kysely
      .selectFrom('received')
      .selectAll()
      .where('transfer_ref', '=', r.transfer)
      .execute()
    expect(rows.map((x) => [x.dedupe_key, x.message_id])).toEqual([[`refused:${r.transfer}`, r.messageId]])
    const line = log.lines().find((l) => l.messageId === r.messageId && l.level === 50)
    expect(line?.refused).toBe(r.kind)
    expect(String(line?.msg)).toMatch(r.why)
    const feil = await eventually(async () => {
      const statuses = (await json(`${ip.a.url}/api/statuses/${r.messageId}`)).body.content as Json[]
      return statuses.find((s) => s.status === 'FEIL')
    }, `FEIL on ${r.messageId} at A`)
    expect(feil.description).toMatch(r.why)
    counted[r.kind]++
    const metrics = parsePrometheus(await (await fetch(`${ip.b.url}/manage/prometheus`)).text())
    expect(metrics.value('eformidling_incoming_refused_total', { service: 'DPO', reason: r.kind })).toBe(
      counted[r.kind],
    )
    // no MOTTATT: B never said it took the message (SENDT is implied by any receipt)
    const statuses = (await json(`${ip.a.url}/api/statuses/${r.messageId}?sort=id`)).body.content as Json[]
    expect(statuses.map((s) => s.status)).toEqual(['OPPRETTET', 'SENDT', 'FEIL'])
  }

  interface Refused {
    messageId: string
    transfer: string
    kind: 'signature' | 'container'
    why: RegExp
  }

  it('(e) takes in a genuine container, signed with A’s key, and pops it byte for byte', async () => {
    const asic = await craftAsic({ signer: keys.a, entries: documents })
    const { messageId } = await sendCrafted(asic)
    const peeked = await json(`${world.b.url}/api/messages/in/peek`)
    expect(peeked.status).toBe(200)
    expect(peeked.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier).toBe(
      messageId,
    )
    const popped = Buffer.from(
      await (await fetch(`${world.b.url}/api/messages/in/pop/${messageId}`)).arrayBuffer(),
    )
    expect(popped.equals(asic)).toBe(true)
    expect((await fetch(`${world.b.url}/api/messages/in/${messageId}`, { method: 'DELETE' })).status).toBe(
      200,
    )
  })

  it('(a) refuses a container signed with another organisation’s (registered) key', async () => {
    const asic = await craftAsic({ signer: keys.c, entries: documents })
    const sent = await sendCrafted(asic)
    await expectRefused(world, {
      ...sent,
      kind: 'signature',
      why: /not with the one the ServiceRegistry holds for 0192:910075918/,
    })
  })

  it('(b) refuses a document changed after signing', async () => {
    const changed = Buffer.from(pdf.toString().replace('vedtak', 'avslag'))
    const asic = await craftAsic({
      signer: keys.a,
      entries: [documents[0]!, { name: 'vedtak.pdf', data: changed }],
      listed: documents,
    })
    const sent = await sendCrafted(asic)
    await expectRefused(world, { ...sent, kind: 'signature', why: /SHA-256 of vedtak\.pdf does not match/ })
  })

  it('(c) refuses a document the signed manifest does not list', async () => {
    const extra = { name: 'betaling.pdf', data: Buffer.from('%PDF-1.4 betal til konto 1234') }
    const asic = await craftAsic({ signer: keys.a, entries: [...documents, extra], listed: documents })
    const sent = await sendCrafted(asic)
    await expectRefused(world, {
      ...sent,
      kind: 'signature',
      why: /betaling\.pdf is not covered by ASiCManifest/,
    })
  })

  it('(d) refuses an sbd.zip whose asic.zip inflates 1000:1, without writing it out', async () => {
    const { sbd, messageId } = await messageAtA()
    const bomb = await craftSbdZip(JSON.stringify(sbd), Buffer.alloc(64 * 1024 * 1024))
    expect(bomb.length).toBeLessThan(200_000)
    const payloads = join(world.cwdOf(B), 'messages')
    const { value: transfer, bytes } = await growthWhile(payloads, () => deliver(bomb))
    expect(bytes).toBeLessThan(1024 * 1024)
    await expectRefused(world, {
      messageId,
      transfer,
      kind: 'container',
      why: /asic\.zip inflates from \d+ to 67108864 bytes/,
    })
  })

  it('(d) refuses a signed ASiC-E whose document inflates 1000:1, without writing it out', async () => {
    const zeros = { name: 'vedtak.pdf', data: Buffer.alloc(64 * 1024 * 1024) }
    const asic = await craftAsic({ signer: keys.a, entries: [documents[0]!, zeros] })
    expect(asic.length).toBeLessThan(200_000)
    const payloads = join(world.cwdOf(B), 'messages')
    const { value: sent, bytes } = await growthWhile(payloads, () => sendCrafted(asic))
    expect(bytes).toBeLessThan(1024 * 1024)
    await expectRefused(world, { ...sent, kind: 'container', why: /vedtak\.pdf compresses more than 100:1/ })
  })
})
