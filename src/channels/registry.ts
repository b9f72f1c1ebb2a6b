// Which service is delivered by which channel. Adding a service is its folder, one line in CHANNELS and
// its configuration keys; generic code asks this module, never a service's folder.

import type { Config } from '../config/types.js'
import type { Migration } from '../db/migrations.js'
import type { ServiceIdentifier } from '../sbd/types.js'
import { dpeChannel } from './dpe/channel.js'
import { dpfChannel } from './dpf/channel.js'
import { dpiChannel } from './dpi/channel.js'
import { dpoChannel } from './dpo/channel.js'
import { dpvChannel } from './dpv/channel.js'
import type { Channel, StandIn } from './ports.js'

const CHANNELS: Readonly<Partial<Record<ServiceIdentifier, Channel>>> = {
  DPO: dpoChannel,
  DPV: dpvChannel,
  DPI: dpiChannel,
  DPF: dpfChannel,
  DPE: dpeChannel,
}

/**
 * The services this integration point has a channel for. A service enabled in the configuration but not
 * listed here cannot be delivered: messages to it are refused at create (ServiceNotEnabledException),
 * and the configuration page, `/manage/info` and the start-up log say so.
 */
export const CHANNEL_SERVICES: readonly ServiceIdentifier[] = Object.keys(CHANNELS) as ServiceIdentifier[]

export function channelOf(service: string): Channel | undefined {
  return Object.hasOwn(CHANNELS, service) ? CHANNELS[service as ServiceIdentifier] : undefined
}

/** The channels of the enabled services, in the registry's order. */
export function enabledChannels(enabled: Readonly<Record<string, boolean>>): Channel[] {
  return CHANNEL_SERVICES.filter((s) => enabled[s]).map((s) => CHANNELS[s]!)
}

/** The services a message can be sent by here: enabled, and with a channel. */
export function deliverableServices(enabled: Readonly<Record<string, boolean>>): Set<ServiceIdentifier> {
  return new Set(enabledChannels(enabled).map((c) => c.service))
}

/** Every channel's own migrations, enabled or not: instances with other services share the database. */
export function channelMigrations(): Record<string, Migration> {
  return Object.assign({}, ...Object.values(CHANNELS).map((c) => c.migrations))
}

/** The stand-ins the sandbox runs, each once even when it serves several channels, with its channels. */
export function standIns(): { standIn: StandIn; channels: Channel[] }[] {
  const byStandIn = new Map<StandIn, Channel[]>()
  for (const channel of Object.values(CHANNELS)) {
    byStandIn.set(channel.sandbox.standIn, [...(byStandIn.get(channel.sandbox.standIn) ?? []), channel])
  }
  return [...byStandIn].map(([standIn, channels]) => ({ standIn, channels }))
}

/**
 * What the API accepts for a message by `service`: the configured upload-size-limit less what the
 * channel's packing adds (the service's own limit is on the packed message).
 */
export function uploadLimitOf(config: Config, service: ServiceIdentifier): number {
  if (service === 'UNKNOWN') return 0
  const limit = config.uploadSizeLimit[service]
  return Math.max(0, limit - (channelOf(service)?.packagingHeadroom ?? 0))
}

/** What becomes of a message by `service` here: off, on but without a channel (refused), or deliverable. */
export type ServiceState = 'off' | 'no-transport' | 'deliverable'

export function serviceState(
  service: string,
  enabled: Readonly<Record<string, boolean>>,
  transports: ReadonlySet<string>,
): ServiceState {
  if (!enabled[service]) return 'off'
  return transports.has(service) ? 'deliverable' : 'no-transport'
}

/** Enabled services that have no channel, for warnings, `/manage/info` and pages. */
export function enabledWithoutChannel(
  enabled: Readonly<Record<string, boolean>>,
  transports: ReadonlySet<string> = deliverableServices(enabled),
): string[] {
  return Object.keys(enabled).filter((s) => serviceState(s, enabled, transports) === 'no-transport')
}
