import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestStore, STORES, type TestStore } from '../../../test/support/db.js'
import { loadConfig } from '../../config/load.js'
import type { Db } from '../../db/open.js'
import type { OutFileRow } from '../../db/schema.js'
import { createLocalPayloadStore, type PayloadStore } from '../../files/payload-store.js'
import { makeTempDir } from '../../packaging/test-support.js'
import type { ServiceRegistry } from '../../registry/client.js'
import { parseSbd } from '../../sbd/parse.js'
import { systemClock } from '../../util/time.js'
import { type BrokerClient, createBrokerClient } from './broker-client.js'
import { BrokerError } from './errors.js'
import { readSbdZip } from './sbd-zip.js'
import { ship } from './sender.js'
import {
  arkivmeldingDocument,
  makeOrgs,
  type Org,
  RESOURCE,
  startBroker,
  tokenSourceFor,
} from './test-support.js'

const logger = pino({ level: 'silent' })
let orgs: { a: Org; b: Org }
let keys: ReturnType<typeof makeTempDir>

beforeAll(() => {
  keys = makeTempDir('dpo-sender-keys-')
  orgs = makeOrgs(keys.dir)
})
afterAll(() => keys.cleanup())

/** A broker client whose chosen calls reach the broker and then lose their answer, as a dropped connection. */
function losing(
  real: BrokerClient,
  lose: { initialize?: number; upload?: number },
): BrokerClient & { calls: Record<string, number> } {
  const calls: Record<string, number> = { initialize: 0, upload: 0 }
  const lost = () => new BrokerError('the answer was lost (test)', { retryable: true })
  return {
    ...real,
    calls,
    async initialize(body) {
      calls.initialize!++
      const id = await real.initialize(body)
      if (calls.initialize! <= (lose.initialize ?? 0)) throw lost()
      return id
    },
    async upload(id, body, size) {
      calls.upload!++
      await real.upload(id, body, size)
      if (calls.upload! <= (lose.upload ?? 0)) throw lost()
    },
  }
}

function sbdFrom(a: Org, b: Org, onBehalfOf?: string) {
  const from = onBehalfOf ? `0192:${a.orgNumber}:${onBehalfOf}` : `0192:${a.orgNumber}`
  return parseSbd(arkivmeldingDocument(from, `0192:${b.orgNumber}`, 'a.txt'))
}

describe.each(STORES)('shipping to the broker on %s', (kind) => {
  let store: TestStore
  let db: Db
  let payloads: PayloadStore
  let broker: Awaited<ReturnType<typeof startBroker>>
  const clients: BrokerClient[] = []

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()))
    await db?.close()
    await broker?.close()
    await store?.cleanup()
  })

  async function setUp() {
    store = await createTestStore(kind)
    db = await store.open()
    payloads = createLocalPayloadStore(`${store.dir}/messages`)
    broker = await startBroker()
    const client = (org: Org) => {
      const c = createBrokerClient({
        baseUrl: broker.apiUrl,
        tokens: tokenSourceFor(org, broker.exchangeUrl, systemClock, {
          maskinportenUrl: broker.maskinportenUrl,
        }),
        timeoutMs: 5000,
      })
      clients.push(c)
      return c
    }
    const config = loadConfig({
      cwd: store.dir,
      env: {},
      overrides: {
        'difi.move.org.number': orgs.a.orgNumber,
        'difi.datasource.url': store.url,
        'difi.security.enable': 'false',
        'difi.ssl.enabled': 'false',
      },
    })
    const registry = {
      serviceRecord: async () => ({ pemCertificate: orgs.b.identity.certPem }),
    } as unknown as ServiceRegistry
    const file = await payloads.write(
      'out/x/a',
      (await import('node:stream')).Readable.from([Buffer.from('hello')]),
      {
        maxBytes: 100,
        onLimit: () => new Error('too big'),
      },
    )
    const files = [
      {
        filename: 'a.txt',
        mime_type: 'text/plain',
        title: null,
        primary_document: 1,
        storage_key: 'out/x/a',
        size: file.size,
      },
    ] as unknown as OutFileRow[]
    return {
      files,
      receiver: client(orgs.b),
      deps: (brokerClient: BrokerClient) => ({
        config,
        db,
        clock: systemClock,
        logger,
        payloads,
        registry,
        brokers: new Map([[orgs.a.orgNumber, brokerClient]]),
        keys: { keyPem: orgs.a.identity.keyPem, certPem: orgs.a.identity.certPem, chainPem: [] },
      }),
      sender: client(orgs.a),
    }
  }

  const published = (receiver: BrokerClient) =>
    receiver.list({ resourceId: RESOURCE, status: 'Published', recipientStatus: 'Initialized' })

  it('finds its transfer after a lost upload answer instead of making a second', async () => {
    const { files, receiver, deps, sender } = await setUp()
    const flaky = losing(sender, { upload: 1 })
    const sbd = sbdFrom(orgs.a, orgs.b)
    await expect(ship(deps(flaky), { purpose: 'send:1', sbd, files })).rejects.toThrow('lost')
    const { fileTransferId } = await ship(deps(flaky), { purpose: 'send:1', sbd, files })
    expect(flaky.calls).toEqual({ initialize: 1, upload: 1 })
    expect(await published(receiver)).toEqual([fileTransferId])
  })

  it('uploads to the transfer it made when the initialize answer came but the upload failed', async () => {
    const { files, receiver, deps, sender } = await setUp()
    let failNext = true
    const breaking: BrokerClient = {
      ...sender,
      async upload(id, body, size) {
        if (failNext) {
          failNext = false
          body.destroy()
          throw new BrokerError('connection reset (test)', { retryable: true })
        }
        return sender.upload(id, body, size)
      },
    }
    const sbd = sbdFrom(orgs.a, orgs.b)
    await expect(ship(deps(breaking), { purpose: 'send:2', sbd, files })).rejects.toThrow('reset')
    const first = await db.kysely.selectFrom('handovers').selectAll().execute()
    const { fileTransferId } = await ship(deps(breaking), { purpose: 'send:2', sbd, files })
    expect(first.map((r) => r.ref)).toEqual([fileTransferId])
    expect(await published(receiver)).toEqual([fileTransferId])
  })

  it('publishes once when the initialize answer was lost (the broker keeps an unused, unpublished transfer)', async () => {
    const { files, receiver, deps, sender } = await setUp()
    const flaky = losing(sender, { initialize: 1 })
    const sbd = sbdFrom(orgs.a, orgs.b)
    await expect(ship(deps(flaky), { purpose: 'send:3', sbd, files })).rejects.toThrow('lost')
    const { fileTransferId } = await ship(deps(flaky), { purpose: 'send:3', sbd, files })
    expect(flaky.calls.initialize).toBe(2)
    expect(await published(receiver)).toEqual([fileTransferId])
  })

  it("sends on behalf of a reportee with the reportee's system user, and refuses a sender with none", async () => {
    const { files, receiver, deps, sender } = await setUp()
    const reportee = '910094092'
    const viaReportee = createBrokerClient({
      baseUrl: broker.apiUrl,
      tokens: tokenSourceFor(
        { orgNumber: reportee, identity: orgs.a.identity },
        broker.exchangeUrl,
        systemClock,
        {
          maskinportenUrl: broker.maskinportenUrl,
        },
      ),
      timeoutMs: 5000,
    })
    clients.push(viaReportee)
    const both = {
      ...deps(sender),
      brokers: new Map([
        [orgs.a.orgNumber, sender],
        [reportee, viaReportee],
      ]),
    }
    const { fileTransferId } = await ship(both, {
      purpose: 'send:5',
      sbd: sbdFrom(orgs.a, orgs.b, reportee),
      files,
    })
    expect((await receiver.overview(fileTransferId)).sender).toBe(`0192:${reportee}`)

    const stranger = sbdFrom(orgs.a, orgs.b, '910085379')
    await expect(ship(deps(sender), { purpose: 'send:6', sbd: stranger, files })).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('no DPO system user for the sender 0192:910085379'),
    })
  })

  it('sends sbd.json and the CMS-encrypted ASiC-E the receiver can open', async () => {
    const { files, receiver, deps, sender } = await setUp()
    const sbd = sbdFrom(orgs.a, orgs.b)
    const { fileTransferId } = await ship(deps(sender), { purpose: 'send:4', sbd, files })
    const path = `${store.dir}/got.zip`
    const { pipeline } = await import('node:stream/promises')
    const { createWriteStream, mkdirSync } = await import('node:fs')
    await pipeline(await receiver.download(fileTransferId), createWriteStream(path))
    mkdirSync(`${store.dir}/t`, { recursive: true })
    const got = await readSbdZip(path, {
      tempDir: `${store.dir}/t`,
      maxAsicBytes: 1e6,
      maxRatio: 100,
      newName: () => 'asic.cms',
    })
    expect(
      JSON.parse(got.sbdJson).standardBusinessDocumentHeader.documentIdentification.instanceIdentifier,
    ).toBe(sbd.standardBusinessDocumentHeader.documentIdentification!.instanceIdentifier)
    expect(got.asic?.size).toBeGreaterThan(100)
    const { decryptStream } = await import('../../packaging/cms.js')
    const { readAsic } = await import('../../packaging/asic.js')
    const { createReadStream } = await import('node:fs')
    const plain = createReadStream(got.asic!.tempPath).pipe(decryptStream(orgs.b.identity.keyPem))
    const asic = await readAsic(plain, {
      maxEntries: 10,
      maxEntryBytes: 1e6,
      maxTotalBytes: 1e7,
      maxRatio: 100,
      tempDir: `${store.dir}/t`,
    })
    expect(asic.signatureValid).toBe(true)
    expect(asic.files.map((f) => f.filename)).toEqual(['manifest.xml', 'a.txt'])
  })
})
