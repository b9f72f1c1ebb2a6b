/**
 * `GET /v3/api-docs` (the OpenAPI document, at springdoc's path) and Swagger UI at `/swagger-ui`, served
 * from this server's own files (no CDN), so it works offline. Both are open without credentials, as
 * `/manage`: the document holds no data, only the API's shape, which Digdir publishes too; the API
 * calls made from the UI still need them (docs/compatibility.md, "OpenAPI").
 *
 * Neither costs anything at start (bench/README.md, "Start-up, issue 20": about 80 ms of the start went
 * to loading the two Swagger plugins, registering them and building the document): the document is built
 * on the first request that needs it, and Swagger UI is a Fastify instance of its own, built on the first
 * request under `/swagger-ui` and asked with `inject` from then on, so the API's hooks (the open-route
 * check, the request log, the metrics) see those requests as before.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { AppDeps } from '../http/app-deps.js'
import { sendJson } from '../http/reply.js'
import { buildOpenApiDocument } from './document.js'
import type { JsonSchema } from './json-schema.js'

export const API_DOCS_PATH = '/v3/api-docs'
export const SWAGGER_UI_PATH = '/swagger-ui'

// answered by the outer server itself (Node.js's HTTP server), not copied from the inner answer
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date'])

export async function registerOpenApi(app: FastifyInstance, deps: Pick<AppDeps, 'config'>): Promise<void> {
  let document: JsonSchema | undefined
  const theDocument = () => {
    document ??= buildOpenApiDocument({ security: deps.config.security.enable })
    return document
  }
  app.get(API_DOCS_PATH, async (_req, reply) => sendJson(reply, theDocument()))

  let ui: Promise<FastifyInstance> | undefined
  const swaggerUi = async (req: FastifyRequest, reply: FastifyReply) => {
    ui ??= startSwaggerUi(theDocument()).catch((error: unknown) => {
      ui = undefined
      throw error
    })
    const inner = await ui
    const res = await inner.inject({ method: 'GET', url: req.url, headers: req.headers })
    // an unknown file is answered as every unknown path is, in the API's error format
    if (res.statusCode === 404) return reply.callNotFound()
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) reply.header(name, value)
    }
    return reply.code(res.statusCode).send(res.rawPayload)
  }
  for (const path of SWAGGER_UI_ROUTES) app.get(`${SWAGGER_UI_PATH}${path}`, swaggerUi)
  app.addHook('onClose', async () => {
    const started = ui
    ui = undefined
    await started?.then((inner) => inner.close()).catch(() => {})
  })
}

/**
 * The paths @fastify/swagger-ui registers (5.x, no theme), each registered here by itself rather than one
 * `/swagger-ui/*`: a path no route matches stays protected when the password is on (src/http/auth.ts),
 * as it was with the plugin on this server. A path the plugin adds later answers 404 until it is added here.
 */
export const SWAGGER_UI_ROUTES = [
  '',
  '/static/index.html',
  '/static/swagger-initializer.js',
  '/json',
  '/yaml',
  '/static/*',
]

/**
 * Swagger UI with its static files, reading the one document at /v3/api-docs, on an instance of its own;
 * `onRoute` sees each path it registers (for the test that keeps SWAGGER_UI_ROUTES in step).
 */
export async function startSwaggerUi(
  document: JsonSchema,
  onRoute?: (method: string | string[], url: string) => void,
): Promise<FastifyInstance> {
  const [{ default: fastifySwagger }, { default: fastifySwaggerUi }] = await Promise.all([
    import('@fastify/swagger'),
    import('@fastify/swagger-ui'),
  ])
  // the outer server's routing, so a path reaches the same file as it did when the plugins were registered there
  const inner = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 } })
  if (onRoute) inner.addHook('onRoute', (r) => onRoute(r.method, r.url))
  // the plugin types the document as its OpenAPI 3.0 type; ours is 3.1, built as plain JSON
  await inner.register(fastifySwagger, { mode: 'static', specification: { document: document as never } })
  await inner.register(fastifySwaggerUi, {
    routePrefix: SWAGGER_UI_PATH,
    // `urls` wins over the plugin's own `./json`, so the UI reads the one document at /v3/api-docs
    uiConfig: { urls: [{ url: API_DOCS_PATH, name: 'NextMove API' }], deepLinking: true },
  })
  await inner.ready()
  return inner as unknown as FastifyInstance
}
