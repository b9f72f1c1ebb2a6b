import type { FastifyInstance } from 'fastify'
import { healthAndSandbox, installFaults as install, type StandInFaults } from '../faults.js'
import { ServiceBusError, sendError } from './errors.js'

/**
 * Injected faults (src/standins/faults.ts) on every Service Bus call: a send that was stored, a lock that
 * was taken, a delete that was done, all unknown to the caller when the answer is dropped. `/health` and
 * the sandbox are spared.
 */
export type ServiceBusFaults = StandInFaults

export function installFaults(app: FastifyInstance, faults: ServiceBusFaults | undefined): void {
  install(app, faults, {
    spared: healthAndSandbox,
    unavailable: (_req, reply) =>
      sendError(reply, new ServiceBusError(503, 'Injected fault: Service Bus is unavailable')),
  })
}
