import Fastify, { type FastifyInstance } from 'fastify'
import type { Arrivals } from './arrivals.js'
import { ServiceBusError, sendError } from './errors.js'
import { installFaults, type ServiceBusFaults } from './faults.js'
import { registerServiceBusApi, type ServiceBusDeps } from './routes.js'
import { registerSandbox } from './sandbox.js'

/**
 * A stand-in served by the same process and port as the Service Bus (eInnsyn's, which reads and writes
 * its queues). It registers its routes in a scope of its own, so its body parsers and hooks stay its
 * own, and may add a section to the `/sandbox` page.
 */
export interface ServiceBusExtension {
  name: string
  register(app: FastifyInstance, ctx: ExtensionContext): void | Promise<void>
  /** HTML for the `/sandbox` page, below the queues; the extension escapes what it shows */
  pageSection?(): string
}

/**
 * What an extension gets: the queues (store and arrivals), this stand-in's own URL once it listens, and
 * its data folder, where an extension keeps a database of its own so it survives a restart too.
 */
export interface ExtensionContext extends ServiceBusDeps {
  arrivals: Arrivals
  baseUrl(): string
  dataDir: string
}

/**
 * The stand-in's HTTP face: the Service Bus REST API (routes.ts) in a scope that reads every body as
 * bytes, the sandbox (sandbox.ts), `/health`, then the extensions; errors as Azure's XML.
 */
export function buildServiceBusApp(
  deps: ServiceBusDeps & {
    faults?: ServiceBusFaults
    extensions?: ServiceBusExtension[]
    baseUrl: () => string
    dataDir: string
  },
): FastifyInstance {
  const level = deps.logger.isLevelEnabled('debug') ? deps.logger.level : 'warn'
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'service-bus-http' }, { level }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    // close() must not wait for a client's kept-alive connection
    forceCloseConnections: true,
    frameworkErrors: (error, _req, reply) =>
      sendError(reply, new ServiceBusError(statusOf(error), error.message)),
  }) as unknown as FastifyInstance
  installFaults(app, deps.faults)
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (error instanceof ServiceBusError) return sendError(reply, error)
    // as Azure: a message over the entity's size limit is 403 (quota), not 413
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendError(
        reply,
        new ServiceBusError(403, `The message is larger than ${deps.settings.maxMessageBytes} bytes`),
      )
    const status = statusOf(error)
    if (status >= 500) deps.logger.error({ err: error, url: req.url }, 'service bus stand-in failed')
    return sendError(reply, new ServiceBusError(status, status >= 500 ? 'Internal error' : error.message))
  })
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new ServiceBusError(404, `No such endpoint: ${req.method} ${req.url.split('?')[0]}`)),
  )
  app.get('/health', async (_req, reply) =>
    reply.header('content-type', 'application/json').send('{"status":"UP"}'),
  )
  app.register(async (scope) => {
    // a message body is kept byte for byte whatever its Content-Type (the reference sends octet-stream)
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
    registerServiceBusApi(scope, deps)
  })
  const extensions = deps.extensions ?? []
  registerSandbox(app, deps, () => extensions.flatMap((x) => (x.pageSection ? [x.pageSection()] : [])))
  for (const extension of extensions)
    app.register(async (scope) =>
      extension.register(scope, { ...deps, baseUrl: deps.baseUrl, dataDir: deps.dataDir }),
    )
  return app
}

function statusOf(error: { statusCode?: number }): number {
  const status = error.statusCode ?? 500
  return status >= 400 && status < 600 ? status : 500
}
