// The eInnsyn stand-in (organisation 910076787), served by the Service Bus stand-in's process and port:
// it reads eInnsyn's queues and answers each publisering as eInnsyn does, and sends innsynskrav to
// agencies for people and scripts at `/sandbox/api/innsynskrav` (docs/einnsyn-standin.md).

import { tmpdir } from 'node:os'
import type pino from 'pino'
import type { Clock } from '../../util/time.js'
import type { ServiceBusExtension } from '../service-bus/server.js'
import { createConsumer, EINNSYN_QUEUES } from './consumer.js'
import { buildInnsynskrav, type InnsynskravRequest } from './innsynskrav.js'
import { type EinnsynKeys, einnsynKeys, virksert } from './keys.js'
import { einnsynSection, registerEinnsynSandbox } from './sandbox.js'
import { type EinnsynStore, openEinnsynStore } from './store.js'

export { EINNSYN_QUEUES } from './consumer.js'
export { EINNSYN_ORGNR } from './messages.js'

export interface EinnsynOptions {
  /** the ServiceRegistry stand-in's data folder: eInnsyn's key pair is its generated credential `910076787` */
  registryDataDir: string
  /** the ServiceRegistry stand-in, for the certificates of agencies (`/virksert/{orgnr}`) */
  registryUrl: string
  /** stamps the SBDs eInnsyn writes; default the Service Bus stand-in's clock */
  clock?: Clock
  logger: pino.Logger
}

export interface EinnsynExtension extends ServiceBusExtension {
  /** reads eInnsyn's queues once now (after a round under way); the number of messages taken */
  tick(): Promise<number>
}

export function einnsynExtension(opts: EinnsynOptions): EinnsynExtension {
  let store: EinnsynStore | undefined
  let tick: () => Promise<number> = async () => 0
  let baseUrl = () => ''
  return {
    name: 'einnsyn',
    tick: () => tick(),
    async register(app, ctx) {
      const clock = opts.clock ?? ctx.clock
      const db = openEinnsynStore(ctx.dataDir)
      store = db
      baseUrl = ctx.baseUrl
      let keys: Promise<EinnsynKeys> | undefined
      const loadKeys = () => {
        // made or read once; a failure is not kept, the next message tries again
        keys ??= einnsynKeys(opts.registryDataDir, clock).catch((error) => {
          keys = undefined
          throw error
        })
        return keys
      }
      const consumer = createConsumer({
        bus: ctx,
        store: db,
        keys: loadKeys,
        registryUrl: opts.registryUrl,
        clock,
        logger: opts.logger,
        tempDir: tmpdir(),
      })
      tick = consumer.tick
      const unsubscribe = ctx.arrivals.subscribe((queue) => {
        if (EINNSYN_QUEUES.includes(queue)) consumer.nudge()
      })
      registerEinnsynSandbox(app, db, async (request: InnsynskravRequest) => {
        const built = await buildInnsynskrav(
          request,
          await loadKeys(),
          await virksert(opts.registryUrl, request.to.replace(/^0192:/, '')),
          clock.now(),
        )
        const at = ctx.clock.now().getTime()
        ctx.store.send(
          built.queue,
          {
            messageId: undefined,
            body: built.body,
            contentType: 'application/octet-stream',
            properties: {},
            timeToLiveMs: ctx.settings.defaultTimeToLiveMs,
          },
          at,
        )
        db.addInnsynskrav({
          message_id: built.messageId,
          conversation_id: built.conversationId,
          orgnr: built.orgnr,
          email: request.email,
          name: request.name ?? null,
          documents: JSON.stringify(request.documents),
          queue: built.queue,
          sent: clock.now().getTime(),
        })
        ctx.arrivals.arrived(built.queue)
        opts.logger.info(
          { messageId: built.messageId, queue: built.queue },
          'eInnsyn stand-in: innsynskrav sent',
        )
        return { messageId: built.messageId, conversationId: built.conversationId, queue: built.queue }
      })
      app.addHook('onReady', async () => consumer.start())
      app.addHook('onClose', async () => {
        unsubscribe()
        await consumer.stop()
        db.close()
      })
    },
    pageSection: () => (store ? einnsynSection(store, baseUrl()) : ''),
  }
}
