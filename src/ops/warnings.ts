import { X509Certificate } from 'node:crypto'
import type { Logger } from 'pino'
import type { StartupWarning } from '../channels/ports.js'
import { enabledChannels, enabledWithoutChannel } from '../channels/registry.js'
import type { Config } from '../config/types.js'
import type { Datasource } from '../db/datasource.js'
import type { BusinessKeys } from '../packaging/keys.js'

/** A certificate this close to its end is warned about at every start (Digdir's alerts come at 30 days too). */
export const CERTIFICATE_WARNING_DAYS = 30

export type { StartupWarning }

/**
 * What stops the start before anything is opened, each naming its property: a service the operator
 * enabled that has no channel here (a profile's default only warns, below), and each enabled channel's
 * own configuration errors.
 */
export function startupErrors(config: Config): string[] {
  const errors: string[] = []
  for (const service of enabledWithoutChannel(config.features.enabled)) {
    const key = `difi.move.feature.enable${service}`
    if (config.features.explicit[service as keyof typeof config.features.explicit])
      errors.push(
        `${key}=true, but this integration point has no channel for ${service} yet: set ${key}=false ` +
          `(or remove it), and keep the reference running for ${service}`,
      )
  }
  for (const channel of enabledChannels(config.features.enabled)) errors.push(...channel.configErrors(config))
  return errors
}

/**
 * The settings that work but should not be used in production, as the reference's SecureDefaultsLogger
 * warns about them at start: authentication off, TLS off, an embedded database under the production
 * profile, and a business certificate about to expire. Each says what to set.
 */
export function startupWarnings(opts: {
  config: Config
  datasource: Datasource
  keys: BusinessKeys | null
  now: Date
}): StartupWarning[] {
  const { config } = opts
  const warnings: StartupWarning[] = []
  if (!config.security.enable)
    warnings.push({
      setting: 'difi.security.enable',
      message:
        'authentication is off (difi.security.enable=false): anyone who can reach the port can send and ' +
        'take messages; set difi.security.enable=true and difi.security.user.password',
    })
  if (!config.ssl.enabled)
    warnings.push({
      setting: 'difi.ssl.enabled',
      message:
        'TLS is off (difi.ssl.enabled=false): credentials and messages cross the network in clear text; ' +
        'set difi.ssl.enabled=true with difi.ssl.key-store (PKCS#12), or keep the port behind a TLS proxy',
    })
  if (opts.datasource.kind === 'sqlite' && profiles(config).includes('production'))
    warnings.push({
      setting: 'difi.datasource.url',
      message:
        `the database is an embedded SQLite file (${opts.datasource.path}) under the production profile: ` +
        'back it up with the payload folder (docs/operations.md), or set difi.datasource.url to a PostgreSQL ' +
        'database to run several instances',
    })
  // an operator's own enableX without a channel stopped the start (startupErrors); a profile's default warns
  for (const service of enabledWithoutChannel(config.features.enabled))
    warnings.push({
      setting: `difi.move.feature.enable${service}`,
      message:
        `${service} is enabled (difi.move.feature.enable${service}) but this integration point has no transport ` +
        `for it yet: messages to ${service} are refused at create (ServiceNotEnabledException); set ` +
        `difi.move.feature.enable${service}=false, or keep the reference running for ${service}`,
    })
  const channels = enabledChannels(config.features.enabled)
  for (const channel of channels) warnings.push(...channel.startupWarnings(config, opts.keys, opts.now))
  const expiry = opts.keys ? certificateExpiry(opts.keys.certPem) : null
  const signing = channels.filter((c) => c.needsBusinessKeys).map((c) => c.service)
  if (expiry) {
    const days = Math.floor((expiry.getTime() - opts.now.getTime()) / 86_400_000)
    if (days < CERTIFICATE_WARNING_DAYS)
      warnings.push({
        setting: 'difi.move.org.keystore.path',
        message:
          `the business certificate (difi.move.org.keystore.path) expires in ${days} days, on ` +
          `${expiry.toISOString()}: sending and receiving${signing.length ? ` by ${signing.join(', ')}` : ''} stop ` +
          'then; renew it, register the new one ' +
          'with Digdir, and point difi.move.org.keystore.* at it',
      })
  }
  return warnings
}

/** One warning line each, so a log search for `setting` finds them. */
export function logStartupWarnings(logger: Logger, warnings: readonly StartupWarning[]): void {
  for (const w of warnings) logger.warn({ setting: w.setting }, w.message)
}

function profiles(config: Config): string[] {
  return (config.properties.get('spring.profiles.active') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
}

function certificateExpiry(pem: string): Date | null {
  try {
    return new Date(new X509Certificate(pem).validTo)
  } catch {
    return null
  }
}
