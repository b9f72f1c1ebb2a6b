import { altinnStandIn } from '../../src/channels/altinn-standin.js'
import type { StandIn } from '../../src/channels/ports.js'

/**
 * For sandboxProperties in a test that runs only the Altinn stand-in (at `url`): DPO and DPV use it, the
 * channels of every other stand-in stay off.
 */
export const altinnOnly =
  (url: string) =>
  (standIn: StandIn): string | undefined =>
    standIn === altinnStandIn ? url : undefined
