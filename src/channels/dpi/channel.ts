// DPI as a channel (ports.ts): letters to citizens' digital mailboxes and to the print service through the
// sender's access point ("DPI v2": a JWS business message and a CMS-encrypted ASiC-E, posted to
// `difi.move.dpi.uri`), with a Maskinporten token (scope digitalpostinnbygger:send). One leased poller asks the
// access point about the statuses of what we sent; one leased poller per channel (`kanal`) reads the
// receipts. The sandbox runs the access point stand-in, which plays the mailbox and the printer too.

import { KeystoreError } from '../../packaging/keys.js'
import type { Channel, ChannelContext, RunningChannel, StandIn } from '../ports.js'
import { createC2Client } from './c2-client.js'
import { createKanalRoundRobin, dpiChannels, dpiConfigErrors } from './config.js'
import { createKrrPrintClient } from './krr-print.js'
import { pollDpiReceipts } from './receipts.js'
import { sendDpi } from './sender.js'
import { pollDpiStatuses } from './status.js'
import { DPI_MIGRATION } from './store.js'
import { createDpiTokenSource } from './token.js'

/** The access point stand-in, which is also the mailbox, the printer and KRR's print-certificate endpoint. */
export const dpiStandIn: StandIn = {
  name: 'dpi',
  label: 'DPI access point stand-in',
  port: 9096,
  async start(opts) {
    const { startDpi } = await import('../../standins/dpi/server.js')
    const s = await startDpi({
      port: opts.port,
      host: opts.host,
      dataDir: opts.dataDir,
      // the providers' keys are the ServiceRegistry stand-in's generated credentials, and the business
      // certificates it trusts are the registry's `/virksert`
      registryDataDir: opts.serviceRegistry.dataDir,
      logger: opts.logger,
      settings: { serviceRegistryUrl: opts.serviceRegistry.url },
      // a receipt waits for an organisation's poll: its integration point reads its receipts at once
      onReceipt: (orgs) => opts.onPublished(orgs),
    })
    return { url: s.url, close: () => s.close() }
  },
}

export const dpiChannel: Channel = {
  service: 'DPI',
  needsBusinessKeys: true,
  // the access point's limit (50 MB) is on the encrypted package: the manifest, the signature and the CMS
  // around the documents take a few kilobytes
  packagingHeadroom: 64 * 1024,
  migrations: { 'DPI-0001-sent-and-receipts': DPI_MIGRATION },
  configErrors: dpiConfigErrors,
  startupWarnings: () => [],
  reachable: (config) => ({ dpi: config.dpi.uri }),
  start: async (ctx) => startDpi(ctx),
  sandbox: {
    standIn: dpiStandIn,
    properties(url) {
      return {
        'difi.move.dpi.uri': `${url}/api/v2/dpi`,
        'difi.move.dpi.krr-print-url': `${url}/rest/v2/printSertifikat`,
        // a person trying the sandbox sees receipts within seconds; a queued receipt nudges the poller anyway
        'difi.move.dpi.pollingrate': '5000',
        'difi.move.dpi.status-pollingrate': '3000',
      }
    },
  },
}

async function startDpi(ctx: ChannelContext): Promise<RunningChannel> {
  const { config } = ctx
  if (!ctx.keys) throw new KeystoreError('no business certificate was loaded')
  const dpi = config.dpi
  const logger = ctx.logger.child({ channel: 'DPI' })
  const org = config.org.number
  const tokens = createDpiTokenSource({
    org,
    keyPem: ctx.keys.keyPem,
    certPem: ctx.keys.certPem,
    maskinportenAudience: dpi.maskinportenAudience,
    // configErrors stopped the start without one
    maskinportenUrl: dpi.maskinportenUrl!,
    scopes: dpi.scopes,
    clock: ctx.clock,
    timeoutMs: Math.min(dpi.timeouts.readMs, 30_000),
  })
  const client = createC2Client({ baseUrl: dpi.uri, tokens, timeouts: dpi.timeouts })
  const krr = createKrrPrintClient({ url: dpi.krrPrintUrl, timeoutMs: dpi.timeouts.readMs })
  const kanaler = dpiChannels(dpi)
  const nextKanal = createKanalRoundRobin(kanaler.send)
  const avsenderidentifikatorer = [
    ...(dpi.pollWithoutAvsenderidentifikator ? [null] : []),
    ...dpi.avsenderidentifikatorListe,
  ]
  const deps = { ...ctx, logger, client }
  return {
    send: (delivery) => sendDpi({ ...deps, keys: ctx.keys!, krr, tokens, nextKanal }, delivery),
    pollers: [
      {
        name: `poll:DPI:status:${org}`,
        kind: 'status',
        intervalMs: dpi.statusPollingRateMs,
        tick: () => pollDpiStatuses(deps),
      },
      ...kanaler.poll.map((kanal) => ({
        name: `poll:DPI:receipts:${kanal}`,
        kind: 'status' as const,
        intervalMs: dpi.pollingRateMs,
        tick: () => pollDpiReceipts(deps, { kanal, avsenderidentifikatorer, pageSize: dpi.pageSize }),
      })),
    ],
    close: async () => {
      await client.close?.()
    },
  }
}
