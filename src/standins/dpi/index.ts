import type { StandIn } from '../../channels/ports.js'

export { type DpiOptions, type DpiStandInServer, startDpi } from './server.js'

/**
 * The DPI access point stand-in as the sandbox runs it: the providers' keys are the ServiceRegistry
 * stand-in's generated credentials, the business certificates it trusts the registry's `/virksert`.
 */
export const dpiStandIn: StandIn = {
  name: 'dpi',
  label: 'DPI access point stand-in',
  port: 9096,
  async start(opts) {
    const { startDpi } = await import('./server.js')
    const dpi = await startDpi({
      port: opts.port,
      host: opts.host,
      dataDir: opts.dataDir,
      registryDataDir: opts.serviceRegistry.dataDir,
      logger: opts.logger,
      settings: { serviceRegistryUrl: opts.serviceRegistry.url },
      // as the access point's receipts wait for a poll: the sending integration point polls at once
      onReceipt: (orgs) => opts.onPublished(orgs),
    })
    return { url: dpi.url, close: () => dpi.close() }
  },
}
