import Fastify, { type FastifyInstance } from 'fastify'
import { DpiProblem, sendProblem } from './errors.js'
import { type DpiFaults, installFaults } from './faults.js'
import { type RouteDeps, registerAccessPoint } from './routes.js'
import { registerSandbox, type SandboxDeps } from './sandbox.js'

/**
 * The stand-in's HTTP face: the access point's API (routes.ts) under `/api/v2/dpi` and at the root,
 * KRR's print certificate, the sandbox (sandbox.ts) and `/health`; every error as problem+json.
 */
export function buildDpiApp(deps: RouteDeps & SandboxDeps & { faults: DpiFaults }): FastifyInstance {
  const level = deps.logger.isLevelEnabled('debug') ? deps.logger.level : 'warn'
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'dpi-http' }, { level }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    // close() must not wait for a client's kept-alive connection (or a half-read upload) to go
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
    frameworkErrors: (error, req, reply) =>
      sendProblem(reply, req, new DpiProblem(statusOf(error), 'request', error.message)),
  }) as unknown as FastifyInstance
  // the send's body is read as a stream by the route; sandbox bodies are JSON (or nothing)
  app.addContentTypeParser('multipart/form-data', (_req, _payload, done) => done(null, undefined))
  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, text, done) => {
    if (String(text).trim() === '') return done(null, undefined)
    try {
      done(null, JSON.parse(String(text)))
    } catch (error) {
      done(new DpiProblem(400, 'request', `The body is not JSON: ${(error as Error).message}`), undefined)
    }
  })
  installFaults(app, deps.faults)
  app.setErrorHandler((error: Error & { statusCode?: number }, req, reply) => {
    if (error instanceof DpiProblem) return sendProblem(reply, req, error)
    const status = statusOf(error)
    if (status >= 500) deps.logger.error({ err: error, url: req.url }, 'dpi stand-in failed')
    return sendProblem(
      reply,
      req,
      new DpiProblem(
        status,
        status >= 500 ? 'internal' : 'request',
        status >= 500 ? 'Internal error' : error.message,
      ),
    )
  })
  app.setNotFoundHandler((req, reply) =>
    sendProblem(
      reply,
      req,
      new DpiProblem(404, 'not-found', `No such endpoint: ${req.method} ${req.url.split('?')[0]}`),
    ),
  )
  app.get('/health', async (_req, reply) =>
    reply.header('content-type', 'application/json').send('{"status":"UP"}'),
  )
  registerAccessPoint(app, deps)
  registerSandbox(app, deps)
  return app
}

function statusOf(error: { statusCode?: number }): number {
  const status = error.statusCode ?? 500
  return status >= 400 && status < 600 ? status : 500
}
