import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { ServiceBusError, sendError } from './errors.js'

/**
 * Injected faults for reliability tests, as the other stand-ins': every Service Bus call may wait
 * `latencyMs`, fail with a 503 before doing anything (`errorRate`), or do its work and then lose the
 * answer, the socket closed without a byte (`dropResponseRate`): a send that was stored, a lock that was
 * taken, a delete that was done, all unknown to the caller. Rates are 0..1; `random` makes the draws
 * reproducible. `/health` and the sandbox are spared.
 */
export interface ServiceBusFaults {
  errorRate?: number
  latencyMs?: number
  dropResponseRate?: number
  random?: () => number
  /** which calls the faults touch, by method and URL (default: all but the spared ones) */
  applies?: (method: string, url: string) => boolean
}

export function installFaults(app: FastifyInstance, faults: ServiceBusFaults | undefined): void {
  if (!faults) return
  const random = faults.random ?? Math.random
  const { errorRate = 0, latencyMs = 0, dropResponseRate = 0 } = faults
  const never = (url: string) =>
    url === '/health' || url === '/sandbox' || url.startsWith('/sandbox/') || url.startsWith('/sandbox?')
  const spared = (req: { method: string; url: string }) =>
    never(req.url) || (faults.applies !== undefined && !faults.applies(req.method, req.url))
  app.addHook('onRequest', async (req, reply) => {
    if (spared(req)) return
    if (latencyMs > 0) await sleep(latencyMs)
    if (errorRate > 0 && random() < errorRate)
      return sendError(reply, new ServiceBusError(503, 'Injected fault: Service Bus is unavailable'))
  })
  app.addHook('onSend', (req, reply, payload, done) => {
    if (spared(req) || dropResponseRate <= 0 || reply.statusCode === 503) return done(null, payload)
    if (random() >= dropResponseRate) return done(null, payload)
    req.log.info({ url: req.url }, 'injected fault: the answer is dropped')
    const stream = payload as { destroy?: () => void } | null
    if (stream && typeof stream.destroy === 'function') stream.destroy()
    req.raw.socket?.destroy()
    done(null, payload)
  })
}
