import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestStore, STORES } from '../../../test/support/db.js'
import { loadConfig } from '../../config/load.js'
import type { Config } from '../../config/types.js'
import type { Db } from '../../db/open.js'
import { createLocalPayloadStore, type PayloadStore } from '../../files/payload-store.js'
import { intakeIncoming, isTransferReceived } from '../../messages/in/intake.js'
import { refuseIncoming } from '../../messages/in/refused-delivery.js'
import { makeIdentity, makeTempDir, type TestIdentity } from '../../packaging/test-support.js'
import { getMessageId } from '../../sbd/accessors.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import type { ServiceBusFaults } from '../../standins/service-bus/faults.js'
import { type Harness, harness } from '../../standins/service-bus/test-support.js'
import { systemClock } from '../../util/time.js'
import type { Intake } from '../ports.js'
import type { ServiceBusClient } from './client.js'
import { type DpeReceiverDeps, pollServiceBus } from './receiver.js'
import { sendDpe } from './sender.js'
import {
  AGENCY,
  clientOf,
  EINNSYN,
  einnsynSbd,
  type FakeRegistry,
  fakeRegistry,
  storedFiles,
} from './test-support.js'

// The agency's receiver against the Service Bus stand-in and the real intake on a real database; what it
// reads was put there by eInnsyn's sender (sender.ts), or by hand when it is to be poison.

const QUEUE = `nextbestqueue${AGENCY}innsyn`
const DEAD = `${QUEUE}/$DeadLetterQueue`
const ORDER = Buffer.from('<bestilling><dokument><journalpostId>77</journalpostId></dokument></bestilling>')
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })

let tmp: ReturnType<typeof makeTempDir>
let einnsyn: TestIdentity
let agency: TestIdentity
let stranger: TestIdentity
beforeAll(() => {
  tmp = makeTempDir('dpe-receiver-')
  einnsyn = makeIdentity(tmp.dir, 'einnsyn')
  agency = makeIdentity(tmp.dir, 'agency')
  stranger = makeIdentity(tmp.dir, 'stranger')
})
afterAll(() => tmp.cleanup())

describe.each(STORES)('pollServiceBus on %s', (kind) => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  interface World {
    h: Harness
    db: Db
    fake: FakeRegistry
    deps: DpeReceiverDeps
    /** what each take returned, in order */
    outcomes: string[]
    refused: string[]
    hooks: { beforeTake?: () => void; afterTake?: () => void }
    /** eInnsyn sends `sbd` (with an order when it is an innsynskrav) as its sender does; `signer` signs it */
    send(sbd: StandardBusinessDocument, signer?: TestIdentity): Promise<void>
    inMessages(): Promise<{ message_id: string; type: string; asic_key: string | null }[]>
  }

  async function world(o: { faults?: ServiceBusFaults } = {}): Promise<World> {
    const store = await createTestStore(kind)
    cleanups.push(() => store.cleanup())
    const db = await store.open()
    cleanups.push(() => db.close())
    const h = await harness({ faults: o.faults })
    cleanups.push(() => h.close())
    const client = clientOf(h)
    cleanups.push(() => client.close())
    const payloads: PayloadStore = createLocalPayloadStore(join(store.dir, 'messages'))
    const config: Config = loadConfig({
      cwd: store.dir,
      env: {},
      overrides: {
        'difi.move.org.number': AGENCY,
        'difi.security.enable': 'false',
        'difi.ssl.enabled': 'false',
      },
    })
    const fake = fakeRegistry({
      [AGENCY]: { endpointUrl: 'innsyn', certPem: agency.certPem },
      [EINNSYN]: { endpointUrl: 'data', certPem: einnsyn.certPem },
    })
    const intakeDeps = { db, clock: systemClock, payloads, config, logger, newUuid: randomUUID }
    const w = { outcomes: [] as string[], refused: [] as string[], hooks: {} as World['hooks'] }
    const intake: Intake = {
      async take(d) {
        w.hooks.beforeTake?.()
        const outcome = await intakeIncoming(intakeDeps, { ...d, serviceIdentifier: 'DPE' })
        w.outcomes.push(outcome)
        w.hooks.afterTake?.()
        return outcome
      },
      alreadyReceived: (ref) => isTransferReceived(db.kysely, ref),
      async refuse(d) {
        w.refused.push(d.transferRef)
        await refuseIncoming(intakeDeps, { ...d, sbd: null, serviceIdentifier: 'DPE', kind: 'container' })
      },
    }
    const keys = { keyPem: agency.keyPem, certPem: agency.certPem, chainPem: [] }
    const deps: DpeReceiverDeps = {
      config,
      clock: systemClock,
      logger,
      payloads,
      keys,
      registry: fake.registry,
      client,
      intake,
      newUuid: randomUUID,
    }
    const eInnsynConfig = { serviceBus: { mode: 'data', receiptQueue: null } } as unknown as Config
    return {
      ...w,
      h,
      db,
      fake,
      deps,
      async send(sbd, signer = einnsyn) {
        const files =
          sbd.type === 'innsynskrav'
            ? await storedFiles(payloads, [{ name: 'order.xml', type: 'application/xml', bytes: ORDER }])
            : []
        const sender = {
          config: eInnsynConfig,
          clock: systemClock,
          logger,
          payloads,
          registry: fake.registry,
          keys: { keyPem: signer.keyPem, certPem: signer.certPem, chainPem: [] },
          client,
        }
        const delivery = { purpose: `send:${getMessageId(sbd)}`, sbd, files }
        let outcome = await sendDpe(sender, delivery)
        // a lost answer: eInnsyn's integration point sends it again
        if (outcome.outcome === 'retry') outcome = await sendDpe(sender, delivery)
        expect(outcome).toEqual({ outcome: 'delivered' })
      },
      inMessages: () =>
        db.kysely.selectFrom('in_messages').select(['message_id', 'type', 'asic_key']).execute() as Promise<
          { message_id: string; type: string; asic_key: string | null }[]
        >,
    }
  }

  const innsynskrav = () =>
    einnsynSbd('innsynskrav', EINNSYN, AGENCY, { orgnr: AGENCY, epost: 'a@example.com' })

  async function queueEmpty(h: Harness, entity = QUEUE): Promise<boolean> {
    return (await h.head(entity)).status === 204
  }

  it('takes in an innsynskrav (its signature checked), an einnsyn_kvittering and a status, then deletes them', async () => {
    const w = await world()
    const krav = innsynskrav()
    const kvittering = einnsynSbd('einnsyn_kvittering', EINNSYN, AGENCY, {
      dokumentId: 'd1',
      status: '{"publisert":true}',
      referanseType: 'publisering',
    })
    // a status for a message we never sent: registered on nothing, and deleted all the same
    const status = einnsynSbd('status', EINNSYN, AGENCY, { status: 'MOTTATT' })
    await w.send(krav)
    await w.send(kvittering)
    await w.send(status)

    expect(await pollServiceBus(w.deps)).toBe(3)

    expect(w.outcomes).toEqual(['stored', 'stored', 'status'])
    expect(w.fake.certificates).toEqual([EINNSYN])
    const rows = await w.inMessages()
    expect(rows.map((r) => [r.message_id, r.type, r.asic_key !== null])).toEqual([
      [getMessageId(krav), 'innsynskrav', true],
      [getMessageId(kvittering), 'einnsyn_kvittering', false],
    ])
    expect(await w.deps.payloads.exists(rows[0]!.asic_key!)).toBe(true)
    expect(await queueEmpty(w.h)).toBe(true)
    expect(await queueEmpty(w.h, DEAD)).toBe(true)
  })

  it('takes two copies of one message (a send retried after a lost answer) in as one', async () => {
    let drops = 0
    const w = await world({
      faults: {
        dropResponseRate: 0.5,
        random: () => (drops++ === 0 ? 0 : 1),
        applies: (method, url) => method === 'POST' && url.endsWith('/messages'),
      },
    })
    const krav = innsynskrav()
    await w.send(krav)

    expect(await pollServiceBus(w.deps)).toBe(2)

    expect(w.outcomes).toEqual(['stored', 'duplicate'])
    expect((await w.inMessages()).map((r) => r.message_id)).toEqual([getMessageId(krav)])
    expect(await queueEmpty(w.h)).toBe(true)
  })

  it('refuses poison once and abandons it at each delivery until Service Bus dead-letters it', async () => {
    const w = await world()
    const notJson = await w.h.send(QUEUE, 'this is no JSON')
    expect(notJson.status).toBe(201)
    // signed by a stranger while the SBD names eInnsyn: the signature does not hold
    await w.send(innsynskrav(), stranger)

    // default MaxDeliveryCount 10: ten deliveries each, within one round of readMaxMessages (50)
    expect(await pollServiceBus(w.deps)).toBe(20)

    expect(w.refused).toHaveLength(1)
    expect(w.outcomes[0]).toBe('refused')
    expect(w.outcomes.slice(1)).toEqual(Array(9).fill('refused'))
    // the signature was checked at the first delivery only
    expect(w.fake.certificates).toEqual([EINNSYN])
    expect(await w.inMessages()).toEqual([])
    const received = await w.db.kysely.selectFrom('received').select('dedupe_key').execute()
    expect(received).toHaveLength(2)
    expect(received.every((r) => r.dedupe_key.startsWith('refused:servicebus:'))).toBe(true)
    expect(await queueEmpty(w.h)).toBe(true)
    const dead = [await w.h.head(DEAD), await w.h.head(DEAD)]
    expect(dead.map((r) => r.status)).toEqual([201, 201])
    expect(await dead[0]!.text()).toBe('this is no JSON')
  })

  it('completes a message whose lock expired while it was taken in when it comes again, taking it in once', async () => {
    const w = await world()
    const krav = innsynskrav()
    await w.send(krav)
    let first = true
    w.hooks.beforeTake = () => {
      // the intake is slower than the lock: Service Bus gives the message up (LockDuration 60 s)
      if (first) w.h.clock.advance(61_000)
      first = false
    }

    expect(await pollServiceBus(w.deps)).toBe(1)

    expect(w.outcomes).toEqual(['stored', 'duplicate'])
    expect((await w.inMessages()).map((r) => r.message_id)).toEqual([getMessageId(krav)])
    expect(await queueEmpty(w.h)).toBe(true)
    expect(await queueEmpty(w.h, DEAD)).toBe(true)
  })

  it('completes a message as already received after a crash between the commit and the delete', async () => {
    const w = await world()
    const krav = innsynskrav()
    await w.send(krav)
    // the process dies once the intake has committed: nothing more reaches Service Bus
    const dead = new Error('the process is gone')
    const crashed: ServiceBusClient = {
      ...w.deps.client,
      complete: async () => {
        throw dead
      },
      abandon: async () => {
        throw dead
      },
    }

    expect(await pollServiceBus({ ...w.deps, client: crashed })).toBe(0)
    expect(w.outcomes).toEqual(['stored'])
    // still locked; after LockDuration it is there again for the restarted integration point
    expect(await queueEmpty(w.h)).toBe(true)
    w.h.clock.advance(61_000)

    expect(await pollServiceBus(w.deps)).toBe(1)

    expect(w.outcomes).toEqual(['stored', 'duplicate'])
    expect(w.fake.certificates).toEqual([EINNSYN])
    expect((await w.inMessages()).map((r) => r.message_id)).toEqual([getMessageId(krav)])
    expect(await queueEmpty(w.h)).toBe(true)
  })

  it('leaves a message for the next round while the ServiceRegistry is down, refusing nothing', async () => {
    const w = await world()
    const krav = innsynskrav()
    await w.send(krav)
    await w.send(innsynskrav())
    w.fake.down = true

    // one delivery only: the round ends rather than spend the message's deliveries at once, and the
    // message stays locked, as the reference leaves it, until its lock expires
    expect(await pollServiceBus(w.deps)).toBe(0)
    expect(w.refused).toEqual([])
    expect(await w.inMessages()).toEqual([])
    w.fake.down = false
    expect(await pollServiceBus(w.deps)).toBe(1)
    w.h.clock.advance(61_000)
    expect(await pollServiceBus(w.deps)).toBe(1)
    expect(w.outcomes).toEqual(['stored', 'stored'])
    expect((await w.inMessages()).map((r) => r.message_id)).toContain(getMessageId(krav))
  })
})
