import { randomBytes, randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import yazl from 'yazl'
import { loadConfig } from '../../config/load.js'
import { createLocalPayloadStore } from '../../files/payload-store.js'
import { writeAsic } from '../../packaging/asic.js'
import type { AsicVerdict } from '../../packaging/asic-verify.js'
import { encryptStream } from '../../packaging/cms.js'
import { dropDirectoryRecord, makeTempDir } from '../../packaging/test-support.js'
import type { ServiceRegistry } from '../../registry/client.js'
import { ServiceRegistryUnavailableError } from '../../registry/errors.js'
import { systemClock } from '../../util/time.js'
import { type BrokerClient, createBrokerClient } from './broker-client.js'
import { type DpoIntake, pollDpo } from './receiver.js'
import { writeSbdZip } from './sbd-zip.js'
import {
  arkivmeldingDocument,
  makeOrgs,
  type Org,
  RESOURCE,
  startBroker,
  tokenSourceFor,
} from './test-support.js'
import { createDpoVerifier } from './verify.js'

// The check of a received ASiC-E asks the ServiceRegistry for the sender's certificate. When it cannot
// be asked, nothing is decided: the transfer is neither taken in nor refused nor confirmed, and the
// next poll brings it again.

let tmp: ReturnType<typeof makeTempDir>
let orgs: { a: Org; b: Org }
let broker: Awaited<ReturnType<typeof startBroker>>
const clients: BrokerClient[] = []

beforeAll(async () => {
  tmp = makeTempDir('dpo-receiver-')
  orgs = makeOrgs(tmp.dir)
  broker = await startBroker()
})
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await broker.close()
  tmp.cleanup()
})

function client(org: Org): BrokerClient {
  const tokens = tokenSourceFor(org, broker.exchangeUrl, systemClock, {
    maskinportenUrl: broker.maskinportenUrl,
  })
  const c = createBrokerClient({ baseUrl: broker.apiUrl, tokens, timeoutMs: 5000 })
  clients.push(c)
  return c
}

/** a transfer from A to B holding `zip`: its id */
async function transfer(zip: Readable): Promise<string> {
  const a = client(orgs.a)
  const id = await a.initialize({
    fileName: 'sbd.zip',
    resourceId: RESOURCE,
    sendersFileTransferReference: randomUUID(),
    sender: `0192:${orgs.a.orgNumber}`,
    recipients: [`0192:${orgs.b.orgNumber}`],
    propertyList: {},
    checksum: null,
    disableVirusScan: null,
  })
  await a.upload(id, zip)
  return id
}

function sbdJson(from: Org, to: Org): string {
  return JSON.stringify(arkivmeldingDocument(`0192:${from.orgNumber}`, `0192:${to.orgNumber}`, 'a.pdf'))
}

describe('pollDpo when the ServiceRegistry cannot be asked', () => {
  it('leaves the transfer unconfirmed and takes it in at the next poll', async () => {
    const [a, b] = [client(orgs.a), client(orgs.b)]
    const id = await transfer(writeSbdZip(sbdJson(orgs.a, orgs.b), () => Readable.from([Buffer.from('cms')])))

    let registryUp = false
    const taken: string[] = []
    // as the intake: the check runs before anything is kept, and its throw leaves nothing behind
    const intake: DpoIntake = {
      async take(d) {
        const verdict = await d.verify?.()
        taken.push(verdict?.ok ? 'stored' : 'refused')
        return taken.at(-1)!
      },
      refuse: async () => expect.fail('nothing is refused'),
      alreadyReceived: async () => false,
    }
    const deps = {
      config: loadConfig({
        cwd: tmp.dir,
        env: {},
        overrides: {
          'difi.move.org.number': orgs.b.orgNumber,
          'difi.security.enable': 'false',
          'difi.ssl.enabled': 'false',
        },
      }),
      logger: pino({ level: 'silent' }),
      payloads: createLocalPayloadStore(`${tmp.dir}/messages`),
      broker: b,
      intake,
      verify: async (): Promise<AsicVerdict> => {
        if (!registryUp) throw new ServiceRegistryUnavailableError('ServiceRegistry is unavailable (test)')
        return { ok: true }
      },
      newUuid: randomUUID,
    }
    const recipientStatus = async () =>
      (await a.overview(id)).recipients[0]?.currentRecipientFileTransferStatusCode

    expect(await pollDpo(deps)).toBe(0)
    expect(taken).toEqual([])
    expect(await recipientStatus()).not.toBe('DownloadConfirmed')

    registryUp = true
    expect(await pollDpo(deps)).toBe(1)
    expect(taken).toEqual(['stored'])
    expect(await recipientStatus()).toBe('DownloadConfirmed')
  })
})

// A received CMS is decrypted and its container read as it downloads (ArrivalScan), so its check needs no
// pass of its own; that holds only where the file kept is the very CMS the download began with.
describe('pollDpo checking a large ASiC-E as it downloads', () => {
  const big = randomBytes(3 * 1024 * 1024)

  /** the ASiC-E A signs for B with `data` as its document, encrypted to B; `changed` replaces the document's start after signing */
  async function encryptedAsic(data: Buffer, changed?: Buffer): Promise<Buffer> {
    const asic = await buffer(
      writeAsic({
        sender: `0192:${orgs.a.orgNumber}`,
        receiver: `0192:${orgs.b.orgNumber}`,
        documents: [
          {
            filename: 'a.pdf',
            mimeType: 'application/pdf',
            primary: true,
            open: () => Readable.from([data]),
          },
        ],
        signer: { keyPem: orgs.a.identity.keyPem, certPem: orgs.a.identity.certPem },
      }),
    )
    if (!changed) return buffer(Readable.from([asic]).pipe(encryptStream(orgs.b.identity.certPem)))
    // the same container with another document of the same length (stored): its signed digest no longer holds
    const at = asic.indexOf(data.subarray(0, changed.length))
    const forged = Buffer.from(asic)
    changed.copy(forged, at)
    return buffer(Readable.from([forged]).pipe(encryptStream(orgs.b.identity.certPem)))
  }

  /** a poll by B with the real check, recording what each check was handed */
  function receiveAtB() {
    const verify = createDpoVerifier({
      config: configFor(orgs.b),
      registry: { certificate: async () => orgs.a.identity.certPem } as unknown as ServiceRegistry,
      keys: { keyPem: orgs.b.identity.keyPem, certPem: orgs.b.identity.certPem, chainPem: [] },
      payloads: createLocalPayloadStore(`${tmp.dir}/messages-b`),
    })
    const handed: { scanned: boolean; verdict: AsicVerdict }[] = []
    const recording = Object.assign(
      async (sbd: Parameters<typeof verify>[0], asic: Parameters<typeof verify>[1]) => {
        const verdict = await verify(sbd, asic)
        handed.push({ scanned: asic.scanned?.cmsBytes === asic.size, verdict })
        return verdict
      },
      { arrival: verify.arrival },
    )
    const intake: DpoIntake = {
      async take(d) {
        return (await d.verify?.())?.ok ? 'stored' : 'refused'
      },
      refuse: async () => expect.fail('nothing is refused unread'),
      alreadyReceived: async () => false,
    }
    const deps = {
      config: configFor(orgs.b),
      logger: pino({ level: 'silent' }),
      payloads: createLocalPayloadStore(`${tmp.dir}/messages-b`),
      broker: client(orgs.b),
      intake,
      verify: recording,
      newUuid: randomUUID,
    }
    return { poll: () => pollDpo(deps), handed }
  }

  it('accepts it with what was read as it came, and refuses a forged one the same way', async () => {
    const b = receiveAtB()
    await transfer(writeSbdZip(sbdJson(orgs.a, orgs.b), () => Readable.from([cmsOk])))
    await transfer(writeSbdZip(sbdJson(orgs.a, orgs.b), () => Readable.from([cmsForged])))
    expect(await b.poll()).toBe(2)
    expect(b.handed.map((h) => [h.scanned, h.verdict.ok])).toEqual([
      [true, true],
      [true, false],
    ])
    expect(b.handed[1]!.verdict).toMatchObject({
      kind: 'signature',
      reason: expect.stringMatching(/SHA-256 of a.pdf/),
    })
  })

  it('reads a deflated asic.zip, as the reference writes it, as it is copied out of the zip', async () => {
    const zip = new yazl.ZipFile()
    zip.addBuffer(Buffer.from(sbdJson(orgs.a, orgs.b)), 'sbd.json')
    zip.addBuffer(cmsOk, 'asic.zip', { compress: true })
    zip.end()
    const b = receiveAtB()
    await transfer(Readable.from([await buffer(zip.outputStream)]))
    expect(await b.poll()).toBe(1)
    expect(b.handed.map((h) => [h.scanned, h.verdict.ok])).toEqual([[true, true]])
  })

  it('checks the CMS the directory names, not the one the download began with', async () => {
    // an sbd.zip whose first asic.zip holds a good CMS, and whose directory names a second one, forged,
    // of the same length, further on: the file kept is that second one, copied out, and read as it is
    expect(cmsForged.length).toBe(cmsOk.length)
    const zip = new yazl.ZipFile()
    zip.addBuffer(Buffer.from(sbdJson(orgs.a, orgs.b)), 'sbd.json')
    zip.addBuffer(cmsOk, 'asic.zip', { compress: false })
    zip.addBuffer(cmsForged, 'asic.zip', { compress: false })
    zip.end()
    const b = receiveAtB()
    await transfer(Readable.from([dropDirectoryRecord(await buffer(zip.outputStream), 1)]))
    expect(await b.poll()).toBe(1)
    expect(b.handed.map((h) => [h.scanned, h.verdict.ok])).toEqual([[true, false]])
    expect(b.handed[0]!.verdict).toMatchObject({ reason: expect.stringMatching(/SHA-256 of a.pdf/) })
  })

  let cmsOk: Buffer
  let cmsForged: Buffer
  beforeAll(async () => {
    cmsOk = await encryptedAsic(big)
    cmsForged = await encryptedAsic(big, randomBytes(64))
  })
})

function configFor(org: Org) {
  return loadConfig({
    cwd: tmp.dir,
    env: {},
    overrides: {
      'difi.move.org.number': org.orgNumber,
      'difi.security.enable': 'false',
      'difi.ssl.enabled': 'false',
    },
  })
}
