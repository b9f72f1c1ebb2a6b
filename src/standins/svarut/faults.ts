import type { FastifyInstance } from 'fastify'
import { healthAndSandbox, installFaults as install, type StandInFaults } from '../faults.js'
import { SvarUtError, sendError } from './errors.js'

/** Injected faults (src/standins/faults.ts) on every SvarUt and SvarInn call; `/health` and the sandbox are spared. */
export type SvarUtFaults = StandInFaults

export function installFaults(app: FastifyInstance, faults: SvarUtFaults | undefined, now: () => Date): void {
  install(app, faults, {
    spared: healthAndSandbox,
    unavailable: (req, reply) =>
      sendError(reply, req, new SvarUtError(503, 'Injected fault: SvarUt is unavailable', null), now()),
  })
}
