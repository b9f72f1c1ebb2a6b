// DPE as a channel (ports.ts): eInnsyn's messages through Azure Service Bus queues over REST. Each request
// carries a SAS signed with the key the ServiceRegistry hands out at `/sastoken` (or
// difi.move.nextmove.serviceBus.sasToken without it); sending puts a message on the receiver's queue;
// one leased poller reads our own queue. Statuses come back as `status` messages, as DPO's. The sandbox
// runs the Service Bus stand-in with the eInnsyn stand-in on the same port.

import { KeystoreError } from '../../packaging/keys.js'
import { createAltinnTokenSource } from '../altinn-token.js'
import type { Channel, ChannelContext, RunningChannel, StandIn } from '../ports.js'
import { maxBodyBytes } from './body.js'
import { createServiceBusClient, type SasKeySource } from './client.js'
import { serviceBusConfigErrors, serviceBusStartupWarnings } from './config.js'
import { ownQueue } from './queues.js'
import { pollServiceBus } from './receiver.js'
import { persistedSasKeySource, SAS_KEY_MIGRATION } from './sas-store.js'
import { sendDpe } from './sender.js'

/** the scope Digdir's ServiceRegistry wants for `/sastoken` */
const SASTOKEN_SCOPE = 'eformidling:dpe'

/** `nextbestqueue910075918innsyn` → `910075918`: whom a message on a queue is for */
const QUEUE_ORG = /^nextbestqueue(\d{9})[a-z]+$/i

/** The Service Bus stand-in with eInnsyn on its port, its key the ServiceRegistry stand-in's `/sastoken` key. */
export const serviceBusStandIn: StandIn = {
  name: 'service-bus',
  label: 'Service Bus + eInnsyn stand-in',
  port: 9095,
  async start(opts) {
    const [{ startServiceBus }, { registrySasKey }, { einnsynExtension }] = await Promise.all([
      import('../../standins/service-bus/server.js'),
      import('../../standins/service-registry/sas-key.js'),
      import('../../standins/einnsyn/extension.js'),
    ])
    // the key integration points are given by the registry is the one the stand-in accepts
    const sas = await registrySasKey({ dataDir: opts.serviceRegistry.dataDir })
    const bus = await startServiceBus({
      port: opts.port,
      host: opts.host,
      dataDir: opts.dataDir,
      logger: opts.logger,
      ...(sas ? { settings: { keys: { [sas.keyName]: sas.key } } } : {}),
      // as a Service Bus receiver is woken by a message: the integration point reads its queue at once
      onArrived: (queue) => {
        const org = QUEUE_ORG.exec(queue)?.[1]
        if (org) opts.onPublished([org])
      },
      extensions: [
        einnsynExtension({
          registryDataDir: opts.serviceRegistry.dataDir,
          registryUrl: opts.serviceRegistry.url,
          logger: opts.logger.child({ name: 'einnsyn' }),
        }),
      ],
    })
    return { url: bus.url, close: () => bus.close() }
  },
}

export const dpeChannel: Channel = {
  service: 'DPE',
  // the ASiC-E is signed, and what arrives decrypted, with the business key
  needsBusinessKeys: true,
  // DPE's limit (difi.move.nextmove.service-bus.upload-size-limit, 2 MB) is on the files, as the reference
  // checks it; the queue's own limit is on the double-base64 body, which the namespace is sized for
  packagingHeadroom: 0,
  migrations: { 'DPE-0001-sas-key': SAS_KEY_MIGRATION },
  configErrors: serviceBusConfigErrors,
  startupWarnings: (config) => serviceBusStartupWarnings(config),
  reachable: (config) => ({
    serviceBus: `${config.serviceBus.useHttps ? 'https' : 'http'}://${config.serviceBus.baseUrl}`,
  }),
  start: async (ctx) => startDpe(ctx),
  sandbox: {
    standIn: serviceBusStandIn,
    properties(url) {
      return {
        // the reference's form: host, port and path without the scheme, which useHttps chooses
        'difi.move.nextmove.serviceBus.baseUrl': url.replace(/^https?:\/\//, ''),
        'difi.move.nextmove.serviceBus.useHttps': String(url.startsWith('https:')),
        // arrivals are nudged at once; the poll is only the fallback
        'difi.move.nextmove.serviceBus.pollingrate': '5000',
      }
    },
  },
}

async function startDpe(ctx: ChannelContext): Promise<RunningChannel> {
  const { config } = ctx
  if (!ctx.keys) throw new KeystoreError('no business certificate was loaded')
  const sb = config.serviceBus
  const logger = ctx.logger.child({ channel: 'DPE' })
  // the registry hands out the key only with a Maskinporten token for eformidling:dpe, taken as it is
  const maskinporten = sb.maskinportenUrl
    ? createAltinnTokenSource<typeof SASTOKEN_SCOPE>({
        org: config.org.number,
        keyPem: ctx.keys.keyPem,
        certPem: ctx.keys.certPem,
        maskinportenAudience: sb.maskinportenAudience,
        exchangeUrl: null,
        maskinportenUrl: sb.maskinportenUrl,
        clock: ctx.clock,
        timeoutMs: sb.connectTimeoutMs,
      })
    : null
  const auth = maskinporten ? { bearer: () => maskinporten.token(SASTOKEN_SCOPE) } : undefined
  const keys: SasKeySource = sb.keyFromServiceRegistry
    ? persistedSasKeySource({
        db: ctx.db,
        registry: { key: () => ctx.registry.sasKey(auth), invalidate: () => ctx.registry.invalidateSasKey() },
        keyName: sb.sasKeyName,
        clock: ctx.clock,
        logger,
      })
    : // configErrors stopped the start unless the key is set
      { key: async () => sb.sasToken!, invalidate: () => {} }
  const client = createServiceBusClient({
    baseUrl: sb.baseUrl,
    useHttps: sb.useHttps,
    sasKeyName: sb.sasKeyName,
    keys,
    timeoutMs: sb.connectTimeoutMs,
    maxBodyBytes: maxBodyBytes(config.uploadSizeLimit.DPE),
  })
  const deps = { ...ctx, logger, keys: ctx.keys, client }
  const queue = ownQueue(config.org.number, sb.mode)
  return {
    send: (delivery) => sendDpe(deps, delivery),
    pollers: [
      {
        name: `poll:DPE:incoming:${queue}`,
        kind: 'incoming',
        intervalMs: sb.pollingRateMs,
        tick: () => pollServiceBus(deps),
      },
    ],
    close: () => client.close(),
  }
}
