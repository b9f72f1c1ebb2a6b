// The DPO channel as the integration point runs it: the token source and broker client from the
// configuration, the sending port for the send jobs, and the receiving poller.

import type { Logger } from 'pino'
import type { Config } from '../../config/types.js'
import type { Db } from '../../db/open.js'
import type { PayloadStore } from '../../files/payload-store.js'
import { createLoop, type Loop } from '../../jobs/loop.js'
import type { OutgoingChannel } from '../../messages/out/dispatch.js'
import type { BusinessKeys } from '../../packaging/keys.js'
import type { ServiceRegistry } from '../../registry/client.js'
import type { Clock } from '../../util/time.js'
import { createBrokerClient } from './broker-client.js'
import { type DpoIntake, pollDpo } from './receiver.js'
import { ship } from './sender.js'
import { createDpoTokenSource } from './token.js'

export interface DpoChannel {
  outgoing: OutgoingChannel
  /** the receiving poller; nudge it when the broker says a transfer is published */
  poller: Loop
  close(): Promise<void>
}

export function createDpoChannel(deps: {
  config: Config
  db: Db
  clock: Clock
  logger: Logger
  payloads: PayloadStore
  registry: ServiceRegistry
  keys: BusinessKeys
  intake: DpoIntake
  newUuid: () => string
}): DpoChannel {
  const { config } = deps
  const logger = deps.logger.child({ channel: 'DPO' })
  const tokens = createDpoTokenSource({
    orgNumber: config.dpo.systemUserOrgId,
    systemUserName: config.dpo.systemUserName,
    keyPem: deps.keys.keyPem,
    certPem: deps.keys.certPem,
    maskinportenAudience: config.dpo.maskinportenAudience,
    exchangeUrl: config.dpo.exchangeUrl,
    maskinportenUrl: config.dpo.maskinportenUrl,
    clock: deps.clock,
    timeoutMs: config.dpo.requestTimeoutMs,
  })
  const broker = createBrokerClient({
    baseUrl: config.dpo.brokerUrl,
    tokens,
    timeoutMs: config.dpo.requestTimeoutMs,
  })
  const senderDeps = { ...deps, logger, broker }
  const poller = createLoop({
    name: 'dpo-poll',
    intervalMs: config.dpo.pollingRateMs,
    tick: () =>
      pollDpo({
        config,
        logger,
        payloads: deps.payloads,
        broker,
        intake: deps.intake,
        newUuid: deps.newUuid,
      }),
    onError: (err) =>
      logger.warn({ err }, `polling the Altinn broker failed; trying again: ${(err as Error).message}`),
  })
  return {
    outgoing: {
      async send(purpose, sbd, files) {
        await ship(senderDeps, { purpose, sbd, files })
      },
    },
    poller,
    close: () => broker.close(),
  }
}
