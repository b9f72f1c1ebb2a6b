/**
 * `GET /v3/api-docs` (the OpenAPI document, at springdoc's path) and Swagger UI at `/swagger-ui`, served
 * from this server's own files (no CDN), so it works offline. Both are open without credentials, as
 * `/manage`: the document holds no data, only the API's shape, which Digdir publishes too; the API
 * calls made from the UI still need them (docs/compatibility.md, "OpenAPI").
 */
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../http/app-deps.js'
import { sendJson } from '../http/reply.js'
import { buildOpenApiDocument } from './document.js'

export const API_DOCS_PATH = '/v3/api-docs'
export const SWAGGER_UI_PATH = '/swagger-ui'

export async function registerOpenApi(app: FastifyInstance, deps: Pick<AppDeps, 'config'>): Promise<void> {
  const document = buildOpenApiDocument({ security: deps.config.security.enable })
  // the plugin types the document as its OpenAPI 3.0 type; ours is 3.1, built as plain JSON
  await app.register(fastifySwagger, { mode: 'static', specification: { document: document as never } })
  await app.register(fastifySwaggerUi, {
    routePrefix: SWAGGER_UI_PATH,
    // `urls` wins over the plugin's own `./json`, so the UI reads the one document at /v3/api-docs
    uiConfig: { urls: [{ url: API_DOCS_PATH, name: 'NextMove API' }], deepLinking: true },
  })
  app.get(API_DOCS_PATH, async (_req, reply) => sendJson(reply, document))
}
