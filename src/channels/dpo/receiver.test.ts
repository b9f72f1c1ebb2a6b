import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../config/load.js'
import { createLocalPayloadStore } from '../../files/payload-store.js'
import type { AsicVerdict } from '../../packaging/asic-verify.js'
import { makeTempDir } from '../../packaging/test-support.js'
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

function sbdJson(from: Org, to: Org): string {
  return JSON.stringify(arkivmeldingDocument(`0192:${from.orgNumber}`, `0192:${to.orgNumber}`, 'a.pdf'))
}

describe('pollDpo when the ServiceRegistry cannot be asked', () => {
  it('leaves the transfer unconfirmed and takes it in at the next poll', async () => {
    const [a, b] = [client(orgs.a), client(orgs.b)]
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
    await a.upload(
      id,
      writeSbdZip(sbdJson(orgs.a, orgs.b), () => Readable.from([Buffer.from('cms')])),
    )

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
