// DPV as a channel (ports.ts): Altinn 3 Correspondence through Digdir's proxy, with an Altinn token for
// `eformidling:dpv` made from a Maskinporten grant signed with the business key; sending over the sender,
// one leased status poller, and the Altinn stand-in (the one DPO names) for the sandbox.

import { KeystoreError } from '../../packaging/keys.js'
import {
  EXCHANGE_PATH,
  HEALTH_PROBE_PATH,
  MASKINPORTEN_PATH,
  PROXY_CORRESPONDENCE_BASE,
} from '../../standins/altinn-broker/paths.js'
import { altinnStandIn } from '../altinn-standin.js'
import { createAltinnTokenSource } from '../altinn-token.js'
import type { Channel, ChannelContext, RunningChannel } from '../ports.js'
import { createCorrespondenceClient, type DPV_SCOPE } from './client.js'
import { sendDpv } from './sender.js'
import { pollDpvStatuses } from './status.js'

export const dpvChannel: Channel = {
  service: 'DPV',
  // the Maskinporten grant is signed with the business key
  needsBusinessKeys: true,
  // the files go to Altinn as they are, in a multipart body whose text fields and part headers stay far
  // below a megabyte, while Altinn's limits are per file; the configured limit is the files' total
  packagingHeadroom: 0,
  migrations: {},
  configErrors: (config) =>
    config.dpv.enableDueDate && config.dpv.daysToReply === 0
      ? [
          'difi.move.dpv.daysToReply is 0 while difi.move.dpv.enableDueDate is true: Altinn refuses a due date ' +
            'that is not after the publish time; set it to 1 or more, or set enableDueDate=false',
        ]
      : [],
  startupWarnings: () => [],
  reachable: (config) => ({ dpv: config.dpv.healthCheckUrl }),
  start: async (ctx) => startDpv(ctx),
  sandbox: {
    standIn: altinnStandIn,
    properties(url) {
      return {
        'difi.move.dpv.correspondenceServiceUrl': `${url}${PROXY_CORRESPONDENCE_BASE}`,
        'difi.move.dpv.altinnTokenExchangeUrl': `${url}${EXCHANGE_PATH}`,
        'difi.move.dpv.health-check-url': `${url}${HEALTH_PROBE_PATH}`,
        // the stand-in answers Maskinporten's token endpoint too
        'difi.move.oidc.url': `${url}${MASKINPORTEN_PATH}`,
        // a person trying the sandbox sees LEVERT and LEST within seconds, not the production minute
        'difi.move.dpv.status-pollingrate': '3000',
      }
    },
  },
}

async function startDpv(ctx: ChannelContext): Promise<RunningChannel> {
  const { config } = ctx
  if (!ctx.keys) throw new KeystoreError('no business certificate was loaded')
  const logger = ctx.logger.child({ channel: 'DPV' })
  const org = config.org.number
  const tokens = createAltinnTokenSource<typeof DPV_SCOPE>({
    org,
    keyPem: ctx.keys.keyPem,
    certPem: ctx.keys.certPem,
    maskinportenAudience: config.dpv.maskinportenAudience,
    exchangeUrl: config.dpv.exchangeUrl,
    maskinportenUrl: config.dpv.maskinportenUrl,
    clock: ctx.clock,
    timeoutMs: config.dpv.requestTimeoutMs,
  })
  const client = createCorrespondenceClient({
    baseUrl: config.dpv.correspondenceUrl,
    tokens,
    timeoutMs: config.dpv.requestTimeoutMs,
  })
  const deps = { ...ctx, logger, client }
  return {
    send: (delivery) => sendDpv(deps, delivery),
    pollers: [
      {
        name: `poll:DPV:status:${org}`,
        kind: 'status',
        intervalMs: config.dpv.statusPollingRateMs,
        tick: () => pollDpvStatuses(deps),
      },
    ],
    close: () => client.close(),
  }
}
