// The Altinn stand-in (Broker for DPO, Correspondence for DPV, Maskinporten, the token exchange): one
// stand-in that several channels name, so the sandbox runs it once.

import type { StandIn } from './ports.js'

export const altinnStandIn: StandIn = {
  name: 'altinn-broker',
  label: 'Altinn stand-in',
  port: 9098,
  async start(opts) {
    const { startAltinnBroker } = await import('../standins/altinn-broker/server.js')
    return startAltinnBroker({
      port: opts.port,
      host: opts.host,
      dataDir: opts.dataDir,
      logger: opts.logger,
      // as Altinn's events: the receiver hears of a new transfer at once instead of at its next poll
      onPublished: ({ recipients }) => opts.onPublished(recipients.map((r) => r.replace(/^0192:/, ''))),
    })
  },
}
