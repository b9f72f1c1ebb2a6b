import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import { registerCapabilityRoutes } from '../capabilities/routes.js'
import { registerConversationRoutes } from '../conversations/routes.js'
import { registerStatusQueueRoutes } from '../conversations/status-queue.js'
import { ApiError } from '../errors/api-error.js'
import { registerMessageInRoutes } from '../messages/in/routes.js'
import { registerMessageOutRoutes } from '../messages/out/routes.js'
import { registerOpenApi } from '../openapi/register.js'
import { createOps } from '../ops/ops.js'
import { correlateRequestLogs } from '../ops/request-log.js'
import { isHealthPath, registerOpsRoutes } from '../ops/routes.js'
import { registerWebRoutes } from '../web/routes.js'
import { registerWebhookRoutes } from '../webhooks/routes.js'
import type { AppDeps } from './app-deps.js'
import { basicAuthMatches, isOpenRoute, isOriginForm, LoginThrottle } from './auth.js'
import { clientErrorHandler, unrouted } from './client-errors.js'
import { errorBody } from './error-body.js'
import { sendJson } from './reply.js'
import { closeIdleConnections, serverTimeoutOptions } from './server-limits.js'

const JSON_BODY_LIMIT = 20 * 1024 * 1024

/** Builds the NextMove API without listening (style rule 10). */
export async function buildApp(
  deps: AppDeps,
  opts: { https?: { pfx: Buffer; passphrase?: string | undefined } } = {},
): Promise<FastifyInstance & { draining: () => void; routeList: () => RegisteredRoute[] }> {
  const routes = new RouteTable()
  const app = Fastify({
    // slow and idle clients are closed, without a cap on an upload's total time (server-limits.ts)
    ...serverTimeoutOptions(deps.config.server, opts.https),
    clientErrorHandler: clientErrorHandler({ ...deps, methodsFor: (path) => routes.methodsFor(path) }),
    frameworkErrors: (error, req, reply) => sendError(reply, req, deps, error),
    loggerInstance: deps.logger,
    // older clients call `/api/messages/in/peek/`; the reference 404s them unless configured
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    bodyLimit: JSON_BODY_LIMIT,
    return503OnClosing: true,
  }) as unknown as FastifyInstance
  closeIdleConnections(app.server)
  let draining = false
  app.addHook('onRoute', (r) => routes.add(r.method, r.url))

  installBodyParsers(app)

  const throttle = new LoginThrottle()
  // the probes answer while draining: readiness says DOWN with its reason, as a probe expects
  app.addHook('onRequest', async (req, reply) => {
    if (!isOriginForm(req.url)) return sendError(reply, req, deps, new ApiError('BadRequestTarget'))
    // decided on the pattern the router matched, never on the raw target (see isOpenRoute)
    const route = req.routeOptions.url
    if (draining && !isHealthPath(route ?? '')) {
      reply.header('connection', 'close')
      return sendError(
        reply,
        req,
        deps,
        new ApiError('ServiceUnavailable', ['The integration point is shutting down']),
      )
    }
    if (deps.config.security.enable && !isOpenRoute(route)) return authenticate(req, reply)
  })

  const authenticate = (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization
    const now = deps.clock.now().getTime()
    const wait = header ? throttle.waitMs(req.ip, now) : 0
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000)
      reply.header('retry-after', String(seconds))
      return sendError(reply, req, deps, new ApiError('TooManyLoginAttempts', [seconds]))
    }
    const { username, password } = deps.config.security
    if (basicAuthMatches(header, username, password ?? '')) return
    if (header) {
      throttle.failed(req.ip, now)
      req.log.warn({ ip: req.ip, path: pathOf(req.url) }, 'failed login')
    }
    reply.header('www-authenticate', 'Basic realm="Realm"')
    return sendError(reply, req, deps, new ApiError('Unauthorized'))
  }

  app.setErrorHandler((error: FastifyError | ApiError, req, reply) => sendError(reply, req, deps, error))
  app.setNotFoundHandler((req, reply) => {
    const path = pathOf(req.url)
    const { error, headers } = unrouted(req.method, path, routes.methodsFor(path))
    if (headers) reply.headers(headers)
    return sendError(reply, req, deps, error)
  })

  correlateRequestLogs(app)
  const ops = deps.ops ?? createOps(deps)
  if (!deps.ops) app.addHook('onReady', async () => ops.lifecycle.ready())
  // before the API's plugins, so its request metrics hook covers them
  registerOpsRoutes(app, ops)
  registerCapabilityRoutes(app, deps)
  registerConversationRoutes(app, deps)
  registerStatusQueueRoutes(app, deps)
  registerWebhookRoutes(app, deps)
  await app.register(async (scope) => registerMessageOutRoutes(scope, deps))
  await app.register(async (scope) => registerMessageInRoutes(scope, deps))
  // the OpenAPI document at /v3/api-docs and Swagger UI at /swagger-ui (open, as /manage)
  await registerOpenApi(app, deps)
  await app.register(async (scope) => registerWebRoutes(scope, deps, ops))

  return Object.assign(app, {
    /** every route as registered, for tests that walk them all */
    routeList: () => routes.list(),
    draining: () => {
      draining = true
      ops.lifecycle.draining()
    },
  })
}

function installBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  const parseJson = (
    _req: unknown,
    body: string | Buffer,
    done: (err: Error | null, body?: unknown) => void,
  ) => {
    const text = String(body)
    if (!text.trim()) return done(new ApiError('MessageNotReadable', ['Required request body is missing']))
    try {
      done(null, JSON.parse(text))
    } catch (error) {
      done(new ApiError('MessageNotReadable', [`JSON parse error: ${(error as Error).message}`]))
    }
  }
  const options = { parseAs: 'string' as const, bodyLimit: JSON_BODY_LIMIT }
  app.addContentTypeParser('application/json', options, parseJson)
  app.addContentTypeParser(/^application\/[\w.+-]+\+json$/, options, parseJson)
  // Every other body (uploads, multipart) stays an unread stream; the route reads it while streaming.
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload))
}

export function pathOf(url: string): string {
  const q = url.indexOf('?')
  return q < 0 ? url : url.slice(0, q)
}

/** The one place errors become HTTP answers: the reference's error JSON, 204 without a body. */
export function sendError(
  reply: FastifyReply,
  req: FastifyRequest,
  deps: AppDeps,
  error: unknown,
): FastifyReply {
  const api = toApiError(error)
  if (api.status >= 500 && api.code !== 'ServiceUnavailable') {
    req.log.error({ err: error, path: pathOf(req.url) }, 'request failed')
  }
  if (api.status === 204) return reply.code(204).send()
  const body = errorBody({
    now: deps.clock.now(),
    status: api.status,
    exception: api.exception,
    message: api.message,
    path: pathOf(req.url),
    errors: api.errors,
    description: api.description,
  })
  return sendJson(reply, body, 'application/json', api.status)
}

/** Turns anything thrown into an ApiError once, at the boundary, keeping the cause. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error.code === 'Internal' ? internalError(error) : error
  const e = error as FastifyError
  switch (e?.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError('UriTooLong', [], { cause: error })
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('UploadTooLarge', [], { cause: error })
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('UnsupportedMediaType', [''], { cause: error })
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('MessageNotReadable', ['Required request body is missing'], { cause: error })
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError('IllegalArgument', [e.message], { cause: error })
  }
  return internalError(error)
}

/**
 * An unexpected failure: the log has it whole (sendError logs the original); the client gets no text of
 * a database driver, file system or library, which can tell an attacker what runs inside.
 */
function internalError(error: unknown): ApiError {
  return new ApiError('Internal', ['Internal error: the integration point could not complete the request'], {
    cause: error,
  })
}

export interface RegisteredRoute {
  method: string
  url: string
}

/** Which methods serve a path, so a wrong method gets 405 instead of 404. */
class RouteTable {
  readonly #routes: { method: string; pattern: RegExp; url: string }[] = []
  list(): RegisteredRoute[] {
    return this.#routes.map(({ method, url }) => ({ method, url }))
  }
  add(method: string | string[], url: string): void {
    const pattern = new RegExp(
      `^${url
        .replace(/\/$/, '')
        .split('/')
        .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/')}/?$`,
    )
    for (const m of Array.isArray(method) ? method : [method]) this.#routes.push({ method: m, pattern, url })
  }
  methodsFor(path: string): string[] {
    return [...new Set(this.#routes.filter((r) => r.pattern.test(path)).map((r) => r.method))].filter(
      (m) => m !== 'HEAD',
    )
  }
}
