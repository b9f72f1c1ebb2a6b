import type { FastifyInstance } from 'fastify'
import { installFaults as install, type StandInFaults } from '../faults.js'
import { BrokerProblem, sendProblem } from './problem.js'

/** Injected faults (src/standins/faults.ts) on every Broker and Correspondence call but the health probes. */
export type BrokerFaults = StandInFaults

export function installFaults(app: FastifyInstance, faults: BrokerFaults | undefined): void {
  install(app, faults, {
    // the sandbox API reports on the faults; it is not one of the calls that suffer them
    spared: (url) => url === '/health' || url === '/health-probe' || url.startsWith('/sandbox/'),
    unavailable: (req, reply) =>
      sendProblem(reply, req, new BrokerProblem(503, 'Injected fault: the broker is unavailable')),
  })
}
