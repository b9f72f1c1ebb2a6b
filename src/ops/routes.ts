import type { FastifyInstance, FastifyReply } from 'fastify'
import { ApiError } from '../errors/api-error.js'
import { sendJson } from '../http/reply.js'
import { type Health, httpStatusOf } from './health.js'
import { PROMETHEUS_CONTENT_TYPE } from './metrics.js'
import type { Ops } from './ops.js'

/** The actuator's base path in the reference (`management.endpoints.web.base-path=/manage`). */
export const MANAGE = '/manage'

/** Requests the onRequest draining guard lets through: probes must say DOWN themselves, with a body. */
export function isHealthPath(path: string): boolean {
  return path === `${MANAGE}/health` || path.startsWith(`${MANAGE}/health/`)
}

/**
 * `/manage/health[/liveness|/readiness|/{component}]`, `/manage/info` and `/manage/prometheus`, open
 * without authentication as in the reference; and the HTTP metrics of every request. Register it before
 * the API's plugins, so their requests are measured too.
 */
export function registerOpsRoutes(app: FastifyInstance, ops: Ops): void {
  app.addHook('onResponse', async (req, reply) => {
    ops.metrics.http({
      method: req.method,
      // the pattern keeps the series bounded; a request no route matched is counted as one
      route: req.routeOptions.url ?? 'UNMATCHED',
      status: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
    })
  })

  const health = (reply: FastifyReply, h: Health) => sendJson(reply, h, 'application/json', httpStatusOf(h))
  app.get(`${MANAGE}/health`, async (_req, reply) => health(reply, await ops.health()))
  app.get(`${MANAGE}/health/liveness`, async (_req, reply) => health(reply, await ops.liveness()))
  app.get(`${MANAGE}/health/readiness`, async (_req, reply) => health(reply, await ops.readiness()))
  app.get<{ Params: { component: string } }>(`${MANAGE}/health/:component`, async (req, reply) => {
    const h = await ops.component(req.params.component)
    if (!h) throw new ApiError('NoResourceFound', [req.url.replace(/^\//, '').split('?')[0] ?? ''])
    return health(reply, h)
  })
  app.get(`${MANAGE}/info`, async (_req, reply) => sendJson(reply, ops.info()))
  app.get(`${MANAGE}/prometheus`, async (_req, reply) =>
    reply
      .code(200)
      .header('content-type', PROMETHEUS_CONTENT_TYPE)
      .send(await ops.prometheus()),
  )
}
