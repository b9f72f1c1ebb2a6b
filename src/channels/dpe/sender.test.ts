import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Config } from '../../config/types.js'
import type { OutFileRow } from '../../db/schema.js'
import { createLocalPayloadStore, type PayloadStore } from '../../files/payload-store.js'
import { readAsic } from '../../packaging/asic.js'
import { decryptStream } from '../../packaging/cms.js'
import { makeIdentity, makeTempDir, openssl, type TestIdentity } from '../../packaging/test-support.js'
import { getMessageId } from '../../sbd/accessors.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import type { ServiceBusFaults } from '../../standins/service-bus/faults.js'
import { type Harness, harness } from '../../standins/service-bus/test-support.js'
import { systemClock } from '../../util/time.js'
import type { ServiceBusMode } from './queues.js'
import { type DpeSenderDeps, sendDpe } from './sender.js'
import {
  AGENCY,
  clientOf,
  EINNSYN,
  einnsynSbd,
  type FakeRegistry,
  fakeRegistry,
  storedFiles,
} from './test-support.js'

// The sender against the Service Bus stand-in: each type on its queue, its body as the reference's
// (pretty JSON, `asic` base64 twice or absent), the files a signed ASiC-E encrypted to the receiver.

const AGENCY_QUEUE = `nextbestqueue${AGENCY}innsyn`
const EINNSYN_DATA = `nextbestqueue${EINNSYN}data`
const ORDER = Buffer.from(
  '<bestilling><id>1</id><dokument><journalpostId>77</journalpostId></dokument></bestilling>',
)
const JOURNALPOST = Buffer.from('{"@type":"Journalpost","offentligTittel":"Vedtak"}')

let tmp: ReturnType<typeof makeTempDir>
let einnsyn: TestIdentity
let agency: TestIdentity
beforeAll(() => {
  tmp = makeTempDir('dpe-sender-')
  einnsyn = makeIdentity(tmp.dir, 'einnsyn')
  agency = makeIdentity(tmp.dir, 'agency')
})
afterAll(() => tmp.cleanup())

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

interface Side {
  deps: DpeSenderDeps
  h: Harness
  fake: FakeRegistry
  payloads: PayloadStore
}

/** One side's sender (eInnsyn's in mode `data`, or the agency's in `innsyn`) against a fresh stand-in. */
async function side(
  who: 'einnsyn' | 'agency',
  o: { faults?: ServiceBusFaults; receiptQueue?: string; endpointUrl?: string } = {},
): Promise<Side> {
  const h = await harness({ faults: o.faults })
  cleanups.push(() => h.close())
  const client = clientOf(h)
  cleanups.push(() => client.close())
  const dir = makeTempDir('dpe-sender-payloads-')
  cleanups.push(async () => dir.cleanup())
  const payloads = createLocalPayloadStore(dir.dir)
  const fake = fakeRegistry({
    [AGENCY]: { endpointUrl: o.endpointUrl ?? 'innsyn', certPem: agency.certPem },
    [EINNSYN]: { endpointUrl: o.endpointUrl ?? 'data', certPem: einnsyn.certPem },
  })
  const me = who === 'einnsyn' ? einnsyn : agency
  const mode: ServiceBusMode = who === 'einnsyn' ? 'data' : 'innsyn'
  const config = { serviceBus: { mode, receiptQueue: o.receiptQueue ?? null } } as unknown as Config
  const deps: DpeSenderDeps = {
    config,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    payloads,
    registry: fake.registry,
    keys: { keyPem: me.keyPem, certPem: me.certPem, chainPem: [] },
    client,
  }
  return { deps, h, fake, payloads }
}

/** What the stand-in holds at the head of `queue` (locked by this look), parsed. */
async function head(h: Harness, queue: string): Promise<{ text: string; json: Record<string, any> } | null> {
  const res = await h.head(queue)
  if (res.status === 204) return null
  expect(res.status).toBe(201)
  const text = await res.text()
  return { text, json: JSON.parse(text) }
}

/** The CMS in a body's `asic`: base64 twice, as the reference writes it. */
function cmsOf(asic: string): Buffer {
  const once = Buffer.from(asic, 'base64')
  expect(once.toString('latin1')).toMatch(/^[A-Za-z0-9+/=]+$/)
  return Buffer.from(once.toString('latin1'), 'base64')
}

async function filesOf(plainZip: Buffer) {
  const path = join(tmp.dir, `${Math.random().toString(36).slice(2)}.asice`)
  writeFileSync(path, plainZip)
  const read = await readAsic(path, {
    maxEntries: 10,
    maxEntryBytes: 1024 * 1024,
    maxTotalBytes: 1024 * 1024,
    maxRatio: 1000,
    tempDir: tmp.dir,
  })
  rmSync(path)
  const files = read.files.map((f) => ({ name: f.filename, bytes: readFileSync(f.path) }))
  if (read.dir) rmSync(read.dir, { recursive: true, force: true })
  return { signatureValid: read.signatureValid, signerCertPem: read.signerCertPem, files }
}

function send(s: Side, sbd: StandardBusinessDocument, files: readonly OutFileRow[] = []) {
  return sendDpe(s.deps, { purpose: `send:${getMessageId(sbd)}`, sbd, files })
}

describe('sendDpe', () => {
  it("puts an innsynskrav on the agency's queue, its order a signed ASiC-E that openssl decrypts with the agency's key", async () => {
    const s = await side('einnsyn')
    const sbd = einnsynSbd('innsynskrav', EINNSYN, AGENCY, { orgnr: AGENCY, epost: 'a@example.com' })
    const files = await storedFiles(s.payloads, [
      { name: 'order.xml', type: 'application/xml', bytes: ORDER },
    ])

    expect(await send(s, sbd, files)).toEqual({ outcome: 'delivered' })

    expect(s.fake.asked).toEqual([AGENCY])
    const got = (await head(s.h, AGENCY_QUEUE))!
    // Jackson's pretty printer, as the reference writes it
    expect(got.text.startsWith('{\n  "sbd" : {\n    "standardBusinessDocumentHeader" : {')).toBe(true)
    expect(got.json.sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier).toBe(
      getMessageId(sbd),
    )
    expect(got.json.sbd.innsynskrav).toEqual({ orgnr: AGENCY, epost: 'a@example.com' })
    // a BER CMS from a stream generator (indefinite lengths), base64'd twice
    expect(Buffer.from(got.json.asic, 'base64').toString('latin1')).toMatch(/^MIAGCSqGSIb3DQEHA6CA/)
    const cmsPath = join(tmp.dir, 'innsynskrav.cms')
    writeFileSync(cmsPath, cmsOf(got.json.asic))
    // PKCS#1 v1.5 key transport, as the reference's DPE, not RSA-OAEP
    const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', cmsPath]).toString()
    expect(printed).toMatch(/keyEncryptionAlgorithm:\s*\n\s*algorithm: rsaEncryption/)
    const plain = openssl(['cms', '-decrypt', '-inform', 'DER', '-in', cmsPath, '-inkey', agency.keyPath])
    const asic = await filesOf(plain)
    expect(asic.signatureValid).toBe(true)
    expect(asic.files.map((f) => f.name)).toEqual(['manifest.xml', 'order.xml'])
    expect(asic.files[1]!.bytes).toEqual(ORDER)
    expect(asic.signerCertPem).toBe(einnsyn.certPem)
  })

  it("puts a publisering on eInnsyn's data queue, decrypting with our own decryptStream", async () => {
    const s = await side('agency')
    const sbd = einnsynSbd('publisering', AGENCY, EINNSYN, { orgnr: AGENCY })
    const files = await storedFiles(s.payloads, [
      { name: 'journalpost.json', type: 'application/json', bytes: JOURNALPOST },
    ])

    expect(await send(s, sbd, files)).toEqual({ outcome: 'delivered' })

    const got = (await head(s.h, EINNSYN_DATA))!
    const plain = await buffer(Readable.from([cmsOf(got.json.asic)]).pipe(decryptStream(einnsyn.keyPem)))
    const asic = await filesOf(plain)
    expect(asic.signatureValid).toBe(true)
    expect(asic.files.map((f) => f.name)).toEqual(['manifest.xml', 'journalpost.json'])
    expect(asic.files[1]!.bytes).toEqual(JOURNALPOST)
    expect(asic.signerCertPem).toBe(agency.certPem)
  })

  it('sends a status to the other side of our mode without asic or a registry lookup, whatever files it has', async () => {
    const s = await side('agency')
    const sbd = einnsynSbd('status', AGENCY, EINNSYN, { status: 'MOTTATT' })
    const files = await storedFiles(s.payloads, [{ name: 'x.txt', type: 'text/plain', bytes: ORDER }])

    expect(await send(s, sbd, files)).toEqual({ outcome: 'delivered' })

    expect(s.fake.asked).toEqual([])
    const got = (await head(s.h, EINNSYN_DATA))!
    expect(Object.keys(got.json)).toEqual(['sbd'])
    expect(got.text).not.toContain('"asic"')
    expect(got.json.sbd.status).toEqual({ status: 'MOTTATT' })
  })

  it("sends an einnsyn_kvittering for a publisering to the agency's innsyn queue without asic", async () => {
    const s = await side('einnsyn')
    const kvittering = { dokumentId: 'x', status: '{"publisert":true}', referanseType: 'publisering' }
    const sbd = einnsynSbd('einnsyn_kvittering', EINNSYN, AGENCY, kvittering)

    expect(await send(s, sbd)).toEqual({ outcome: 'delivered' })

    expect(s.fake.asked).toEqual([])
    const got = (await head(s.h, AGENCY_QUEUE))!
    expect(Object.keys(got.json)).toEqual(['sbd'])
    expect(got.json.sbd.einnsyn_kvittering).toEqual(kvittering)
  })

  it('sends status and einnsyn_kvittering to receiptQueue when it is set', async () => {
    const s = await side('einnsyn', { receiptQueue: 'meeting' })
    const status = einnsynSbd('status', EINNSYN, AGENCY, { status: 'LEVERT' })
    const kvittering = einnsynSbd('einnsyn_kvittering', EINNSYN, AGENCY, {
      dokumentId: 'x',
      status: '{}',
      referanseType: 'innsynskrav',
    })

    expect(await send(s, status)).toEqual({ outcome: 'delivered' })
    expect(await send(s, kvittering)).toEqual({ outcome: 'delivered' })

    const queue = `nextbestqueue${AGENCY}meeting`
    expect((await head(s.h, queue))!.json.sbd.status).toEqual({ status: 'LEVERT' })
    expect((await head(s.h, queue))!.json.sbd.einnsyn_kvittering.referanseType).toBe('innsynskrav')
  })

  it('retries while the ServiceRegistry is down, with nothing on the queue, and delivers once it is back', async () => {
    const s = await side('einnsyn')
    const sbd = einnsynSbd('innsynskrav', EINNSYN, AGENCY, { orgnr: AGENCY, epost: 'a@example.com' })
    const files = await storedFiles(s.payloads, [
      { name: 'order.xml', type: 'application/xml', bytes: ORDER },
    ])
    s.fake.down = true

    const outcome = await send(s, sbd, files)

    expect(outcome.outcome).toBe('retry')
    expect((outcome as { reason: string }).reason).toContain('cannot be reached')
    expect(await head(s.h, AGENCY_QUEUE)).toBeNull()
    s.fake.down = false
    expect(await send(s, sbd, files)).toEqual({ outcome: 'delivered' })
    expect(await head(s.h, AGENCY_QUEUE)).not.toBeNull()
  })

  it('retries after a lost answer and sends again: two copies on the queue, one messageId', async () => {
    let drops = 0
    const s = await side('einnsyn', {
      faults: {
        dropResponseRate: 0.5,
        // the first answer to a send is lost, nothing else
        random: () => (drops++ === 0 ? 0 : 1),
        applies: (method, url) => method === 'POST' && url.endsWith('/messages'),
      },
    })
    const sbd = einnsynSbd('status', EINNSYN, AGENCY, { status: 'MOTTATT' })

    const first = await send(s, sbd)
    expect(first.outcome).toBe('retry')
    expect(await send(s, sbd)).toEqual({ outcome: 'delivered' })

    const copies = [await head(s.h, AGENCY_QUEUE), await head(s.h, AGENCY_QUEUE)]
    expect(copies.map((c) => getMessageIdOf(c!.json))).toEqual([getMessageId(sbd), getMessageId(sbd)])
    expect(await head(s.h, AGENCY_QUEUE)).toBeNull()
  })

  it("fails for good when the receiver's record has no queue suffix or there is no record", async () => {
    const s = await side('einnsyn', { endpointUrl: '' })
    const sbd = einnsynSbd('innsynskrav', EINNSYN, AGENCY, { orgnr: AGENCY, epost: 'a@example.com' })
    const noSuffix = await send(s, sbd)
    expect(noSuffix).toEqual({ outcome: 'failed', reason: expect.stringContaining('has no endpointUrl') })

    const stranger = einnsynSbd('innsynskrav', EINNSYN, '910000001', { orgnr: '910000001', epost: 'a@x.no' })
    const noRecord = await send(s, stranger)
    expect(noRecord).toEqual({
      outcome: 'failed',
      reason: expect.stringContaining('no record for 910000001'),
    })
    expect(await head(s.h, AGENCY_QUEUE)).toBeNull()
  })
})

function getMessageIdOf(body: Record<string, any>): string {
  return body.sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
}
