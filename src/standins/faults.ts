// Injected faults for the stand-ins' reliability tests and benchmarks: every call a stand-in does not
// spare may wait `latencyMs`, fail with a 503 before doing anything (`errorRate`), or do its work and
// then lose the answer, the socket closed without a byte (`dropResponseRate`). Rates are 0..1; `random`
// makes the draws reproducible; `applies` narrows them to some calls.

import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

export interface StandInFaults {
  errorRate?: number
  latencyMs?: number
  dropResponseRate?: number
  random?: () => number
  /** which calls the faults touch, by method and URL (default: all but the spared ones) */
  applies?: (method: string, url: string) => boolean
}

/** `/health` and the sandbox page and API report on the faults; they are not among the calls that suffer them. */
export const healthAndSandbox = (url: string): boolean =>
  url === '/health' || url === '/sandbox' || url.startsWith('/sandbox/') || url.startsWith('/sandbox?')

export function installFaults(
  app: FastifyInstance,
  faults: StandInFaults | undefined,
  o: {
    spared: (url: string) => boolean
    /** answers the injected 503 in the stand-in's own error form */
    unavailable: (req: FastifyRequest, reply: FastifyReply) => unknown
  },
): void {
  if (!faults) return
  // read at each call, so a stand-in may change its faults while it runs (the DPI sandbox's PUT)
  const random = () => (faults.random ?? Math.random)()
  const spared = (req: { method: string; url: string }) =>
    o.spared(req.url) || (faults.applies !== undefined && !faults.applies(req.method, req.url))
  app.addHook('onRequest', async (req, reply) => {
    if (spared(req)) return
    const { errorRate = 0, latencyMs = 0 } = faults
    if (latencyMs > 0) await sleep(latencyMs)
    if (errorRate > 0 && random() < errorRate) return o.unavailable(req, reply)
  })
  app.addHook('onSend', (req, reply, payload, done) => {
    const { dropResponseRate = 0 } = faults
    if (spared(req) || dropResponseRate <= 0 || reply.statusCode === 503) return done(null, payload)
    if (random() >= dropResponseRate) return done(null, payload)
    req.log.info({ url: req.url }, 'injected fault: the answer is dropped')
    const stream = payload as { destroy?: () => void } | null
    if (stream && typeof stream.destroy === 'function') stream.destroy()
    req.raw.socket?.destroy()
    done(null, payload)
  })
}
