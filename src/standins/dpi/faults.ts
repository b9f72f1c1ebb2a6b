import type { FastifyInstance } from 'fastify'
import { healthAndSandbox, installFaults as install, type StandInFaults } from '../faults.js'
import { DpiProblem, sendProblem } from './errors.js'

/**
 * Injected faults on the access point's calls (src/standins/faults.ts: a 503, an answer dropped after
 * the work is done, latency), plus `feilet`: while set, letters handed over get the C2 status FEILET
 * with it as beskrivelse. The sandbox's `PUT /sandbox/api/faults` changes them while the stand-in runs;
 * `/health`, the sandbox and KRR's print certificate are spared.
 */
export interface DpiFaults extends StandInFaults {
  feilet?: string | null
}

export function installFaults(app: FastifyInstance, faults: DpiFaults): void {
  install(app, faults, {
    spared: (url) => healthAndSandbox(url) || url.startsWith('/rest/'),
    unavailable: (req, reply) =>
      sendProblem(
        reply,
        req,
        new DpiProblem(503, 'unavailable', 'Injected fault: the access point is unavailable'),
      ),
  })
}
