import Fastify, { type FastifyInstance } from 'fastify'
import { badRequest, SvarUtError, sendError } from './errors.js'
import { installFaults, type SvarUtFaults } from './faults.js'
import { registerSvarUtApi } from './routes.js'
import { registerSandbox } from './sandbox.js'
import type { SvarUtDeps } from './send.js'
import { registerSvarInn } from './svarinn.js'

/**
 * The stand-in's HTTP face: SvarUt's REST API (routes.ts), SvarInn (svarinn.ts), the sandbox
 * (sandbox.ts) and `/health`; every error as SvarUt's ErrorMessage.
 */
export function buildSvarUtApp(
  deps: SvarUtDeps & { faults?: SvarUtFaults; baseUrl: () => string },
): FastifyInstance {
  const level = deps.logger.isLevelEnabled('debug') ? deps.logger.level : 'warn'
  const now = () => deps.clock.now()
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'svarut-http' }, { level }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    // close() must not wait for a client's kept-alive connection (or a half-read upload) to go
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
    frameworkErrors: (error, req, reply) =>
      sendError(reply, req, new SvarUtError(statusOf(error), error.message), now()),
  }) as unknown as FastifyInstance
  installParsers(app)
  installFaults(app, deps.faults, now)
  app.setErrorHandler((error: Error & { statusCode?: number }, req, reply) => {
    if (error instanceof SvarUtError) return sendError(reply, req, error, now())
    const status = statusOf(error)
    if (status >= 500) deps.logger.error({ err: error, url: req.url }, 'svarut stand-in failed')
    return sendError(
      reply,
      req,
      new SvarUtError(status, status >= 500 ? 'Internal error' : error.message),
      now(),
    )
  })
  app.setNotFoundHandler((req, reply) =>
    sendError(
      reply,
      req,
      new SvarUtError(404, `No such endpoint: ${req.method} ${req.url.split('?')[0]}`, null),
      now(),
    ),
  )
  app.get('/health', async (_req, reply) =>
    reply.header('content-type', 'application/json').send('{"status":"UP"}'),
  )
  registerSvarUtApi(app, deps)
  registerSvarInn(app, deps, deps.baseUrl)
  registerSandbox(app, deps)
  return app
}

/**
 * Multipart bodies stay unread for the send to stream; any other body is JSON whatever its
 * Content-Type says (the status search takes `*` in SvarUt's spec), an empty one none.
 */
function installParsers(app: FastifyInstance): void {
  app.addContentTypeParser('multipart/form-data', (_req, _payload, done) => done(null, undefined))
  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, text, done) => {
    if (String(text).trim() === '') return done(null, undefined)
    try {
      done(null, JSON.parse(String(text)))
    } catch (error) {
      done(badRequest(`Body er ikke gyldig JSON: ${(error as Error).message}`), undefined)
    }
  })
}

function statusOf(error: { statusCode?: number }): number {
  const status = error.statusCode ?? 500
  return status >= 400 && status < 600 ? status : 500
}
