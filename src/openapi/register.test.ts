import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { buildOpenApiDocument } from './document.js'
import {
  API_DOCS_PATH,
  registerOpenApi,
  SWAGGER_UI_PATH,
  SWAGGER_UI_ROUTES,
  startSwaggerUi,
} from './register.js'

const config = { security: { enable: false } } as Parameters<typeof registerOpenApi>[1]['config']

describe('Swagger UI on an instance of its own', () => {
  const closing: FastifyInstance[] = []
  afterAll(async () => {
    for (const app of closing) await app.close()
  })

  it('routes exactly the paths the plugin registers, so none is left to the not-found handler', async () => {
    const seen = new Set<string>()
    const inner = await startSwaggerUi(buildOpenApiDocument({ security: false }), (method, url) => {
      if ([method].flat().includes('GET')) seen.add(url)
    })
    closing.push(inner)
    expect([...seen].sort()).toEqual(SWAGGER_UI_ROUTES.map((p) => `${SWAGGER_UI_PATH}${p}`).sort())
  })

  it('answers the page, its files and the document through the outer server, and unknown files with its 404', async () => {
    // the integration point's routing (src/http/app.ts): `/swagger-ui/` is `/swagger-ui`
    const app = Fastify({ routerOptions: { ignoreTrailingSlash: true } })
    closing.push(app)
    app.setNotFoundHandler((_req, reply) => reply.code(404).send({ outer: true }))
    await registerOpenApi(app, { config })
    const page = await app.inject(`${SWAGGER_UI_PATH}/`)
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    const css = await app.inject(`${SWAGGER_UI_PATH}/static/swagger-ui.css`)
    expect(css.statusCode).toBe(200)
    expect(css.headers['content-type']).toMatch(/^text\/css/)
    expect(css.rawPayload.length).toBe(Number(css.headers['content-length']))
    const head = await app.inject({ method: 'HEAD', url: `${SWAGGER_UI_PATH}/static/swagger-ui.css` })
    expect(head.statusCode).toBe(200)
    expect(head.rawPayload.length).toBe(0)
    // a cached copy is still answered 304 with its validator
    const etag = css.headers.etag as string
    expect(etag).toBeTruthy()
    const again = await app.inject({
      url: `${SWAGGER_UI_PATH}/static/swagger-ui.css`,
      headers: { 'if-none-match': etag },
    })
    expect(again.statusCode).toBe(304)
    const json = await app.inject(`${SWAGGER_UI_PATH}/json`)
    const docs = await app.inject(API_DOCS_PATH)
    expect(json.json()).toEqual(docs.json())
    expect(docs.json()).toEqual(buildOpenApiDocument({ security: false }))
    const missing = await app.inject(`${SWAGGER_UI_PATH}/static/no-such-file.js`)
    expect(missing.statusCode).toBe(404)
    expect(missing.json()).toEqual({ outer: true })
  })
})
