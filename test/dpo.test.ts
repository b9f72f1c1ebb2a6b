import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { RunningIntegrationPoint } from '../src/main.js'
import { readAsic } from '../src/packaging/asic.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { type Pair, startPair } from './support/pair.js'
import { eventually, json } from './support/poll.js'

warnIfPostgresSkipped()

type Json = Record<string, any>
const A = '910075918'
const B = '910077473'

const statusesOf = async (ip: RunningIntegrationPoint, messageId: string): Promise<string[]> =>
  (await json(`${ip.url}/api/statuses/${messageId}?sort=id`)).body.content.map((s: Json) => s.status)

async function untilStatuses(ip: RunningIntegrationPoint, messageId: string, want: string[]) {
  return eventually(
    async () => {
      const got = await statusesOf(ip, messageId)
      return want.every((s) => got.includes(s)) ? got : undefined
    },
    `${want.join(', ')} on ${messageId}`,
  )
}

async function prototype(from: RunningIntegrationPoint, type: string, to: string): Promise<Json> {
  return (await json(`${from.url}/api/prototype/${type}?receiverIdentifier=${to}`)).body
}

async function sendArkivmelding(from: RunningIntegrationPoint, to: string, pdf: Buffer, ttl?: string) {
  const sbd = await prototype(from, 'arkivmelding', to)
  sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
  if (ttl)
    sbd.standardBusinessDocumentHeader.businessScope.scope[0].scopeInformation[0].expectedResponseDateTime =
      ttl
  const form = new FormData()
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  const xml = arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Vedtak om tilskudd' })
  form.append('Arkivmelding', new Blob([xml], { type: 'application/xml' }), 'arkivmelding.xml')
  form.append('Vedtak', new Blob([new Uint8Array(pdf)], { type: 'application/pdf' }), 'vedtak.pdf')
  const res = await fetch(`${from.url}/api/messages/out/multipart`, { method: 'POST', body: form })
  expect(res.status, await res.clone().text()).toBe(200)
  return {
    messageId: sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier as string,
    xml,
  }
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

describe.each(STORES)('DPO between two integration points on %s', (kind) => {
  let world: Pair | undefined
  afterEach(async () => {
    await world?.stop()
    world = undefined
  })

  it('delivers a message and brings every status back: SENDT, MOTTATT, LEVERT, LEST', async () => {
    world = await startPair(kind)
    const { a, b } = world
    const pdf = Buffer.from(`%PDF-1.4 vedtak ${'x'.repeat(50_000)}`)
    const { messageId, xml } = await sendArkivmelding(a, B, pdf)

    // B's fagsystem: peek, pop, check, delete
    const peeked = await eventually(async () => {
      const r = await json(`${b.url}/api/messages/in/peek`)
      return r.status === 200 ? r.body : undefined
    }, 'the message at B')
    expect(peeked.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier).toBe(messageId)
    expect(await untilStatuses(a, messageId, ['MOTTATT'])).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT'])

    const pop = await fetch(`${b.url}/api/messages/in/pop/${messageId}`)
    expect(pop.status).toBe(200)
    expect(pop.headers.get('content-type')).toBe('application/vnd.etsi.asic-e+zip')
    const dir = mkdtempSync(join(tmpdir(), 'asic-'))
    try {
      const zipPath = join(dir, 'asic.zip')
      writeFileSync(zipPath, Buffer.from(await pop.arrayBuffer()))
      const asic = await readAsic(zipPath, {
        maxEntries: 20,
        maxEntryBytes: 1e7,
        maxTotalBytes: 1e8,
        maxRatio: 1000,
        tempDir: dir,
      })
      expect(asic.signatureValid, asic.signatureError ?? '').toBe(true)
      const byName = new Map(asic.files.map((f) => [f.filename, f]))
      expect(byName.get('vedtak.pdf')?.sha256).toBe(sha(pdf))
      expect(byName.get('arkivmelding.xml')?.sha256).toBe(sha(xml))
      expect(asic.manifest?.avsender).toBe(`0192:${A}`)
      // the signer is A: the certificate the registry publishes for A
      expect(asic.signerCertPem).toBeTruthy()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }

    expect((await fetch(`${b.url}/api/messages/in/${messageId}`, { method: 'DELETE' })).status).toBe(200)
    expect(await untilStatuses(a, messageId, ['LEVERT'])).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    expect(await statusesOf(b, messageId)).toEqual(['OPPRETTET', 'INNKOMMENDE_MOTTATT', 'INNKOMMENDE_LEVERT'])
    // sent: the message and its files are gone from A's outgoing queue, the conversation stays
    expect((await json(`${a.url}/api/messages/out`)).body.content).toEqual([])

    // B's fagsystem answers with an arkivmelding_kvittering; A registers LEST and hands it on
    const kv = await prototype(b, 'arkivmelding_kvittering', A)
    kv.arkivmelding_kvittering = { receiptType: 'OK', relatedToMessageId: messageId, messages: [] }
    const form = new FormData()
    form.append('sbd', new Blob([JSON.stringify(kv)], { type: 'application/json' }))
    const sent = await fetch(`${b.url}/api/messages/out/multipart`, { method: 'POST', body: form })
    expect(sent.status, await sent.clone().text()).toBe(200)
    const all = await untilStatuses(a, messageId, ['LEST'])
    expect(all).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'LEST'])
    const lest = (await json(`${a.url}/api/statuses/${messageId}`)).body.content.find(
      (s: Json) => s.status === 'LEST',
    )
    expect(lest.description).toBe('ArkivmeldingKvittering: OK')
    const receipt = await eventually(async () => {
      const r = await json(`${a.url}/api/messages/in`)
      return r.body.content.length > 0 ? r.body.content[0] : undefined
    }, 'the kvittering at A')
    expect(receipt.arkivmelding_kvittering.relatedToMessageId).toBe(messageId)
  })

  it("turns a refusal by the broker into FEIL with the broker's reason, without retrying", async () => {
    world = await startPair(kind, { resource: { maxFileTransferSize: 2000 } })
    const { messageId } = await sendArkivmelding(world.a, B, Buffer.alloc(10_000, 7))
    const got = await untilStatuses(world.a, messageId, ['FEIL'])
    expect(got).toEqual(['OPPRETTET', 'FEIL'])
    const feil = (await json(`${world.a.url}/api/statuses/${messageId}`)).body.content.find(
      (s: Json) => s.status === 'FEIL',
    )
    expect(feil.description).toContain('maxFileTransferSize')
    expect((await json(`${world.a.url}/api/messages/out`)).body.content).toEqual([])
  })

  it('accepts only what fits the Broker once packed: the largest file the API takes is delivered', async () => {
    const limit = 3 * 1024 * 1024
    world = await startPair(kind, {
      resource: { maxFileTransferSize: limit },
      props: { 'difi.move.dpo.upload-size-limit': String(limit) },
    })
    const xml = Buffer.from(arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Vedtak om tilskudd' }))
    // random bytes do not compress: the worst case for the packed size
    const room = limit - 1024 * 1024 - xml.length
    const { randomBytes } = await import('node:crypto')
    const { messageId } = await sendArkivmelding(world.a, B, randomBytes(room))
    expect(await untilStatuses(world.a, messageId, ['SENDT'])).toEqual(['OPPRETTET', 'SENDT'])

    const over = await prototype(world.a, 'arkivmelding', B)
    over.arkivmelding = { hoveddokument: 'vedtak.pdf' }
    const form = new FormData()
    form.append('sbd', new Blob([JSON.stringify(over)], { type: 'application/json' }))
    form.append(
      'Arkivmelding',
      new Blob([new Uint8Array(xml)], { type: 'application/xml' }),
      'arkivmelding.xml',
    )
    form.append('Vedtak', new Blob([new Uint8Array(room + 1)], { type: 'application/pdf' }), 'vedtak.pdf')
    const res = await json(`${world.a.url}/api/messages/out/multipart`, { method: 'POST', body: form })
    expect(res.status).toBe(400)
    expect(res.body.exception).toBe('no.difi.meldingsutveksling.exceptions.MaxFileSizeExceededException')
  })

  it('gives LEVETID_UTLOPT when the lifetime runs out while the broker cannot be reached', async () => {
    world = await startPair(kind, { brokerDown: true })
    const ttl = new Date(Date.now() + 1500).toISOString()
    const { messageId } = await sendArkivmelding(world.a, B, Buffer.from('%PDF'), ttl)
    const got = await untilStatuses(world.a, messageId, ['LEVETID_UTLOPT'])
    expect(got).toEqual(['OPPRETTET', 'LEVETID_UTLOPT'])
    expect((await json(`${world.a.url}/api/messages/out`)).body.content).toEqual([])
  })
})
