import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { toSandboxMessage } from './mapper.js'
import { renderPage } from './page.js'
import type { ServiceBusDeps } from './routes.js'

/**
 * For people and scripts, with no credentials (docs/service-bus-standin.md, "Sandbox"): the queues with
 * their counts, a queue's messages, and the page. `sections` gives the HTML the stand-ins served beside
 * this one add to the page.
 */
export const SANDBOX_API = '/sandbox/api'

export function registerSandbox(app: FastifyInstance, deps: ServiceBusDeps, sections: () => string[]): void {
  const now = () => deps.clock.now().getTime()
  app.get(`${SANDBOX_API}/queues`, async (_req, reply) => json(reply, deps.store.queues(now())))
  app.get(
    `${SANDBOX_API}/queues/:queue/messages`,
    async (req: FastifyRequest<{ Params: { queue: string } }>, reply) => {
      const { queue } = req.params
      if (!deps.store.queueExists(queue))
        return json(reply.code(404), { error: `No queue ${queue}: a queue is made by its first use` })
      const at = now()
      return json(
        reply,
        deps.store.messages(queue, at).map((row) => toSandboxMessage(row, at)),
      )
    },
  )
  app.get('/sandbox', async (_req, reply) => {
    const at = now()
    const queues = deps.store.queues(at).map((counts) => ({
      counts,
      messages: deps.store.messages(counts.name, at).map((row) => toSandboxMessage(row, at)),
    }))
    return reply.header('content-type', 'text/html; charset=utf-8').send(renderPage(queues, sections()))
  })
}

function json(reply: FastifyReply, value: unknown) {
  return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(value))
}
