// DPF as a channel (ports.ts): KS FIKS SvarUt REST v3 for sending, with a Maskinporten token (scope
// ks:fiks, made from a grant signed with the business key, taken by SvarUt as it is) and the Fiks
// integration's id and password; a leased status poller; SvarInn, polled with the mottakersystem's Basic
// credentials, for receiving. The sandbox runs the SvarUt stand-in (src/standins/svarut/).

import { KeystoreError } from '../../packaging/keys.js'
import { SANDBOX_PASSWORD, sandboxIntegrasjonId, sandboxKontoId } from '../../standins/svarut/settings.js'
import { createAltinnTokenSource } from '../altinn-token.js'
import type { Channel, ChannelContext, RunningChannel, StandIn } from '../ports.js'
import { fiksConfigErrors } from './config.js'
import { dpfCreateCheck } from './create-checks.js'
import { pollSvarInn } from './receiver.js'
import { sendDpf } from './sender.js'
import { pollDpfStatuses } from './status.js'
import { createSvarInnClient } from './svarinn-client.js'
import { createSvarUtClient } from './svarut-client.js'

/** The KS SvarUt and SvarInn stand-in, its keys the ServiceRegistry stand-in's generated `svarut` pair. */
export const svarUtStandIn: StandIn = {
  name: 'svarut',
  label: 'KS SvarUt stand-in',
  port: 9097,
  async start(opts) {
    const { startSvarUt } = await import('../../standins/svarut/server.js')
    const svarut = await startSvarUt({
      port: opts.port,
      host: opts.host,
      dataDir: opts.dataDir,
      logger: opts.logger,
      // the registry publishes this certificate in its DPF records, and gives each receiver's for SvarInn
      keysDir: opts.serviceRegistry.dataDir,
      settings: { serviceRegistryUrl: opts.serviceRegistry.url },
      // as SvarUt's notice to a mottakersystem: the receiving integration point polls SvarInn at once
      onArrived: (f) => opts.onPublished([f.mottaker]),
    })
    return { url: svarut.url, close: () => svarut.close() }
  },
}

export const dpfChannel: Channel = {
  service: 'DPF',
  // the Maskinporten grant is signed, and SvarInn's downloads decrypted, with the business key
  needsBusinessKeys: true,
  // each document becomes CMS (a header of about a kilobyte, at most 16 bytes of padding and a few bytes
  // per chunk) in a multipart body with the forsendelse JSON: far below a megabyte for any message
  packagingHeadroom: 1024 * 1024,
  migrations: {},
  configErrors: (config) => {
    const errors = fiksConfigErrors(config)
    if (config.fiks.type === 'rest' && config.fiks.ut.maskinportenUrl === null)
      errors.push(
        "DPF is enabled but difi.move.oidc.enable is false: SvarUt's REST API takes only a Maskinporten " +
          'token (scope ks:fiks); set difi.move.oidc.enable=true (difi.move.fiks.ut.rest.maskinporten.token-uri ' +
          'says where), or disable DPF',
      )
    return errors
  },
  startupWarnings: () => [],
  reachable: (config) => ({
    svarut: config.fiks.ut.endpointUrl,
    ...(config.fiks.inn.enable ? { svarinn: config.fiks.inn.baseUrl } : {}),
  }),
  start: async (ctx) => startDpf(ctx),
  sandbox: {
    standIn: svarUtStandIn,
    properties(url, org) {
      // the stand-in's accounts for the sandbox's organisations (src/standins/svarut/settings.ts); the
      // Maskinporten token comes from difi.move.oidc.url, the Altinn stand-in's, which DPO's and DPV's set
      return {
        'difi.move.fiks.ut.type': 'rest',
        'difi.move.fiks.ut.endpointUrl': url,
        'difi.move.fiks.ut.rest.kontoid': sandboxKontoId(org),
        'difi.move.fiks.ut.rest.integrasjon-id': sandboxIntegrasjonId(org),
        'difi.move.fiks.ut.rest.integrasjon-passord': SANDBOX_PASSWORD,
        'difi.move.fiks.inn.baseUrl': `${url}/tjenester/svarinn`,
        'difi.move.fiks.inn.username': org,
        'difi.move.fiks.inn.password': SANDBOX_PASSWORD,
        // a person trying the sandbox sees LEST within seconds; arrivals are nudged at once anyway
        'difi.move.fiks.ut.status-pollingrate': '3000',
        'difi.move.fiks.pollingrate': '15000',
      }
    },
  },
}

async function startDpf(ctx: ChannelContext): Promise<RunningChannel> {
  const { config } = ctx
  if (!ctx.keys) throw new KeystoreError('no business certificate was loaded')
  const { ut, inn } = config.fiks
  const logger = ctx.logger.child({ channel: 'DPF' })
  const org = config.org.number
  const maskinporten = createAltinnTokenSource<string>({
    org,
    keyPem: ctx.keys.keyPem,
    certPem: ctx.keys.certPem,
    maskinportenAudience: ut.maskinportenAudience,
    // KS Fiks takes the Maskinporten token itself: no Altinn exchange
    exchangeUrl: null,
    maskinportenUrl: ut.maskinportenUrl,
    clock: ctx.clock,
    timeoutMs: Math.min(ut.requestTimeoutMs, 30_000),
  })
  const svarut = createSvarUtClient({
    baseUrl: ut.endpointUrl,
    // configErrors stopped the start unless these are set
    kontoId: ut.kontoId!,
    integrasjonId: ut.integrasjonId!,
    integrasjonPassord: ut.integrasjonPassord!,
    // the scope as configured (difi.move.fiks.ut.rest.maskinporten.scopes, ks:fiks by default)
    tokens: { token: () => maskinporten.token(ut.scopes) },
    timeoutMs: ut.requestTimeoutMs,
  })
  const svarinn = inn.enable
    ? createSvarInnClient({
        baseUrl: inn.baseUrl,
        username: inn.username!,
        password: inn.password!,
        connectTimeoutMs: inn.connectTimeoutMs,
        readTimeoutMs: inn.readTimeoutMs,
      })
    : null
  const deps = { ...ctx, logger }
  return {
    send: (delivery) => sendDpf({ ...deps, client: svarut }, delivery),
    checkOutgoing: dpfCreateCheck({ ownOrg: org, client: svarut, clock: ctx.clock, logger }),
    pollers: [
      {
        name: `poll:DPF:status:${org}`,
        kind: 'status',
        intervalMs: ut.statusPollingRateMs,
        tick: () => pollDpfStatuses({ ...deps, client: svarut }),
      },
      ...(svarinn
        ? [
            {
              name: `poll:DPF:incoming:${inn.orgnr}`,
              kind: 'incoming' as const,
              intervalMs: inn.pollingRateMs,
              tick: () => pollSvarInn({ ...deps, keys: ctx.keys!, client: svarinn }),
            },
          ]
        : []),
    ],
    close: async () => {
      await Promise.all([svarut.close(), svarinn?.close()])
    },
  }
}
