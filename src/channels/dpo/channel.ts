// DPO as a channel (ports.ts): Altinn 3 Broker with a token per system user (ours and each reportee's),
// the send port over the sender, one leased incoming poller per broker account, and the Altinn stand-in
// for the sandbox.

import { KeystoreError } from '../../packaging/keys.js'
import { BROKER_BASE, EXCHANGE_PATH, MASKINPORTEN_PATH } from '../../standins/altinn-broker/paths.js'
import { altinnStandIn } from '../altinn-standin.js'
import type { Channel, ChannelContext, RunningChannel, SendOutcome } from '../ports.js'
import { type BrokerClient, createBrokerClient } from './broker-client.js'
import { pollDpo } from './receiver.js'
import { ship } from './sender.js'
import { createDpoTokenSource } from './token.js'
import { createDpoVerifier } from './verify.js'

/**
 * What packing adds around DPO's files on the way to the Broker (sbd.json, zip headers, the ASiC-E's
 * manifests and signature, the CMS envelope): the Broker's limit is on `sbd.zip`.
 */
export const DPO_PACKAGING_HEADROOM = 1024 * 1024

export const dpoChannel: Channel = {
  service: 'DPO',
  needsBusinessKeys: true,
  packagingHeadroom: DPO_PACKAGING_HEADROOM,
  migrations: {},
  configErrors: () => [],
  startupWarnings: () => [],
  reachable: (config) => ({ dpo: config.dpo.brokerUrl }),
  start: async (ctx) => startDpo(ctx),
  sandbox: {
    standIn: altinnStandIn,
    properties(url) {
      return {
        'difi.move.dpo.brokerserviceUrl': `${url}${BROKER_BASE}`,
        'difi.move.dpo.altinnTokenExchangeUrl': `${url}${EXCHANGE_PATH}`,
        // the stand-in answers Maskinporten's token endpoint too
        'difi.move.oidc.url': `${url}${MASKINPORTEN_PATH}`,
        // the stand-in nudges on publish; this only catches what a nudge missed
        'difi.move.dpo.pollingrate': '5000',
      }
    },
  },
}

async function startDpo(ctx: ChannelContext): Promise<RunningChannel> {
  const { config } = ctx
  if (!ctx.keys) throw new KeystoreError('no business certificate was loaded')
  const keys = ctx.keys
  const logger = ctx.logger.child({ channel: 'DPO' })
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
      keyPem: keys.keyPem,
      certPem: keys.certPem,
      maskinportenAudience: config.dpo.maskinportenAudience,
      exchangeUrl: config.dpo.exchangeUrl,
      maskinportenUrl: config.dpo.maskinportenUrl,
      clock: ctx.clock,
      timeoutMs: config.dpo.requestTimeoutMs,
    })
    brokers.set(
      user.orgId.replace(/^0192:/, ''),
      createBrokerClient({ baseUrl: config.dpo.brokerUrl, tokens, timeoutMs: config.dpo.requestTimeoutMs }),
    )
  }
  const senderDeps = { ...ctx, keys, logger, brokers }
  const verify = createDpoVerifier({ ...ctx, keys })
  return {
    async send(delivery): Promise<SendOutcome> {
      try {
        await ship(senderDeps, delivery)
        return { outcome: 'delivered' }
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        const retryable = (error as { retryable?: unknown })?.retryable
        return retryable === false ? { outcome: 'failed', reason } : { outcome: 'retry', reason }
      }
    },
    // one poller per broker account: several instances never poll one account at once
    pollers: [...brokers].map(([org, broker]) => ({
      name: `poll:DPO:incoming:${org}`,
      kind: 'incoming' as const,
      intervalMs: config.dpo.pollingRateMs,
      tick: () =>
        pollDpo({
          config,
          logger,
          payloads: ctx.payloads,
          broker,
          intake: ctx.intake,
          verify,
          newUuid: ctx.newUuid,
        }).catch((err: unknown) => {
          // one system user's failure (a missing delegation, say) does not stop the others'
          throw new Error(`polling the Altinn broker for ${org} failed: ${(err as Error).message}`, {
            cause: err,
          })
        }),
    })),
    close: async () => {
      await Promise.all([...brokers.values()].map((b) => b.close()))
    },
  }
}
