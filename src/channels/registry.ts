import type { ServiceIdentifier } from '../sbd/types.js'

/**
 * The services this integration point has a channel for. A service enabled in the configuration but not
 * listed here cannot be delivered: messages to it are refused at create (ServiceNotEnabledException),
 * and the configuration page, `/manage/info` and the start-up log say so.
 */
export const CHANNEL_SERVICES: readonly ServiceIdentifier[] = ['DPO']

/** The services a message can be sent by here: enabled, and with a channel. */
export function deliverableServices(enabled: Readonly<Record<string, boolean>>): Set<ServiceIdentifier> {
  return new Set(CHANNEL_SERVICES.filter((s) => enabled[s]))
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
