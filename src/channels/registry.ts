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

/** Enabled services that have no channel, for warnings and pages. */
export function enabledWithoutChannel(enabled: Readonly<Record<string, boolean>>): string[] {
  return Object.entries(enabled)
    .filter(([s, on]) => on && !(CHANNEL_SERVICES as readonly string[]).includes(s))
    .map(([s]) => s)
}
