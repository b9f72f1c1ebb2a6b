import { describe, expect, it } from 'vitest'
import { buildOpenApiDocument, OPERATIONS } from './document.js'
import type { JsonSchema } from './json-schema.js'
import { refsOf, resolvePointer, schemasIn, schemaValidator } from './test-support.js'

const JSON_TYPES = ['null', 'boolean', 'object', 'array', 'number', 'string', 'integer']
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

describe('the OpenAPI document', () => {
  const doc = buildOpenApiDocument({ security: true }) as Record<string, any>
  const schemas = doc.components.schemas as Record<string, JsonSchema>
  const operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(
    ([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })),
  )

  it('is OpenAPI 3.1 with info, paths, webhooks and components', () => {
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info).toMatchObject({
      title: expect.any(String),
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    })
    expect(Object.keys(doc.paths).length).toBeGreaterThan(20)
    expect(Object.keys(doc.webhooks)).toEqual(['status', 'ping'])
    expect(doc.security).toEqual([{ basicAuth: [] }])
    expect(doc.components.securitySchemes.basicAuth).toMatchObject({ type: 'http', scheme: 'basic' })
    expect(buildOpenApiDocument({ security: false }).security).toBeUndefined()
  })

  it('resolves every $ref, and uses every component', () => {
    const refs = refsOf(doc)
    expect(refs.length).toBeGreaterThan(100)
    for (const { at, ref } of refs) expect(resolvePointer(doc, ref), `${ref} at ${at}`).toBeDefined()
    const used = new Set(refs.map((r) => r.ref))
    for (const name of Object.keys(schemas)) expect(used, name).toContain(`#/components/schemas/${name}`)
  })

  it('declares each path parameter of a template, once, and nothing twice', () => {
    const ids = new Set<string>()
    for (const { path, method, op } of operations) {
      const where = `${method} ${path}`
      expect(METHODS, where).toContain(method)
      expect(ids.has(op.operationId), `operationId ${op.operationId}`).toBe(false)
      ids.add(op.operationId)
      const params = (op.parameters ?? []) as Record<string, any>[]
      const keys = params.map((p) => `${p.in}:${p.name}`)
      expect(new Set(keys).size, where).toBe(keys.length)
      const template = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])
      const inPath = params.filter((p) => p.in === 'path')
      expect(inPath.map((p) => p.name).sort(), where).toEqual([...template].sort())
      for (const p of params) {
        expect(['query', 'header', 'path', 'cookie'], where).toContain(p.in)
        expect(p.schema, `${where} ${p.name}`).toBeTypeOf('object')
        if (p.in === 'path') expect(p.required, `${where} ${p.name}`).toBe(true)
      }
      expect(Object.keys(op.responses).length, where).toBeGreaterThan(0)
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        expect(status, where).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/)
        expect(response.description, `${where} ${status}`).toBeTypeOf('string')
      }
      expect(op.responses['401'], where).toBeDefined()
      for (const tag of op.tags)
        expect(
          doc.tags.map((t: any) => t.name),
          where,
        ).toContain(tag)
    }
    // one template per path shape: `/a/{x}` and `/a/{y}` would be the same path to a client
    const shapes = Object.keys(doc.paths).map((p) => p.replace(/\{[^}]+\}/g, '{}'))
    expect(new Set(shapes).size).toBe(shapes.length)
  })

  it('has JSON Schemas that are valid draft 2020-12 and consistent', () => {
    // Ajv checks them against the 2020-12 meta-schema and compiles each (strict: no unknown keyword)
    const { ajv } = schemaValidator(doc)
    for (const name of Object.keys(schemas))
      expect(ajv.getSchema(`https://integrasjonspunkt.invalid/openapi.json#/$defs/${name}`), name).toBeTypeOf(
        'function',
      )
    for (const [name, schema] of Object.entries(schemas)) {
      for (const { at, schema: s } of schemasIn(schema, name)) {
        const types = s.type === undefined ? [] : [s.type].flat()
        for (const t of types) expect(JSON_TYPES, at).toContain(t)
        for (const field of (s.required as string[] | undefined) ?? []) {
          expect(
            Object.keys((s.properties as object | undefined) ?? {}),
            `${at} requires ${field}`,
          ).toContain(field)
        }
        if (s.enum !== undefined) expect((s.enum as unknown[]).length, at).toBeGreaterThan(0)
        if (typeof s.pattern === 'string')
          expect(() => new RegExp(s.pattern as string, 'u'), at).not.toThrow()
      }
    }
  })

  it('lists the operations of its path table, and marks our additions', () => {
    expect(operations).toHaveLength(OPERATIONS.length)
    const ours = operations.filter(({ op }) =>
      /\*\*Ours, not in the reference:\*\*/.test(op.description ?? ''),
    )
    expect(ours.map(({ method, path }) => `${method} ${path}`).sort()).toEqual([
      'delete /api/in/messages/{messageId}',
      'get /api/messages/status/{messageId}',
      'get /api/prototype/{capability}',
      'post /api/messages',
      'post /api/messages/in/reject/{messageId}',
      'post /api/messages/in/unlock',
      'post /api/messages/in/unlock/{messageId}',
    ])
    for (const field of [schemas.Subscription!.properties, schemas.SubscriptionInput!.properties]) {
      expect(JSON.stringify(field)).toMatch(/Ours, not in the reference/)
    }
    expect((schemas.StatusEvent!.properties as any).id.description).toMatch(/^Ours/)
    expect((schemas.Subscription!.properties as any).delivery.description).toMatch(/^Ours/)
    expect((schemas.SubscriptionInput!.properties as any).secret.description).toMatch(/^Ours/)
  })
})
