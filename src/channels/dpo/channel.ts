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
import { type BrokerClient, createBrokerClient } from './broker-client.js'
import { type DpoIntake, pollDpo } from './receiver.js'
import { ship } from './sender.js'
import { createDpoTokenSource } from './token.js'
import { createDpoVerifier } from './verify.js'

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
  // our own system user and one per reportee (on-behalf-of organisations), each with its own tokens
  const systemUsers = [
    { orgId: config.dpo.systemUserOrgId, name: config.dpo.systemUserName },
    ...config.dpo.reportees,
  ]
  const brokers = new Map<string, BrokerClient>()
  for (const user of systemUsers) {
    const tokens = createDpoTokenSource({
      orgNumber: user.orgId,
      systemUserName: user.name,
      keyPem: deps.keys.keyPem,
      certPem: deps.keys.certPem,
      maskinportenAudience: config.dpo.maskinportenAudience,
      exchangeUrl: config.dpo.exchangeUrl,
      maskinportenUrl: config.dpo.maskinportenUrl,
      clock: deps.clock,
      timeoutMs: config.dpo.requestTimeoutMs,
    })
    brokers.set(
      user.orgId.replace(/^0192:/, ''),
      createBrokerClient({ baseUrl: config.dpo.brokerUrl, tokens, timeoutMs: config.dpo.requestTimeoutMs }),
    )
  }
  const senderDeps = { ...deps, logger, brokers }
  const verify = createDpoVerifier(deps)
  const poller = createLoop({
    name: 'dpo-poll',
    intervalMs: config.dpo.pollingRateMs,
    tick: async () => {
      let done = 0
      for (const [org, broker] of brokers) {
        try {
          done += await pollDpo({
            config,
            logger,
            payloads: deps.payloads,
            broker,
            intake: deps.intake,
            verify,
            newUuid: deps.newUuid,
          })
        } catch (err) {
          // one system user's failure (a missing delegation, say) does not stop the others'
          logger.warn(
            { err, org },
            `polling the Altinn broker for ${org} failed; trying again: ${(err as Error).message}`,
          )
        }
      }
      return done
    },
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
    close: async () => {
      await Promise.all([...brokers.values()].map((b) => b.close()))
    },
  }
}
