/**
 * Checking the OpenAPI document in tests: its JSON Schemas compiled by Ajv (draft 2020-12, the dialect
 * of OpenAPI 3.1; Ajv comes with Fastify), every `$ref` resolved, and Fastify's route tree read back.
 */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js'
import { isJavaUuid } from '../sbd/java.js'
import { parseDateTime } from '../util/time.js'
import type { JsonSchema } from './json-schema.js'

const COMPONENTS = '#/components/schemas/'

/**
 * `strict` also refuses members a schema does not declare (`unevaluatedProperties: false` on every
 * object schema without `additionalProperties`), so an answer with a member the document lacks fails.
 */
export function schemaValidator(document: JsonSchema, opts: { strict?: boolean } = {}) {
  const schemas = (document.components as { schemas: Record<string, JsonSchema> }).schemas
  let defs = rewrite(schemas, (s) => s.replaceAll(COMPONENTS, '#/$defs/')) as Record<string, JsonSchema>
  if (opts.strict) defs = closeObjects(defs) as Record<string, JsonSchema>
  const ajv = new Ajv2020({ strict: true, allErrors: true, strictTypes: false })
  // what the formats mean in this API (the validator is lenient where Java is)
  ajv.addFormat('uuid', isJavaUuid)
  ajv.addFormat('date-time', (s: string) => parseDateTime(s) !== undefined)
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/)
  ajv.addFormat('uri', (s: string) => URL.canParse(s))
  ajv.addFormat('binary', true)
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Math.abs(n) <= 2 ** 31 })
  ajv.addFormat('int64', { type: 'number', validate: Number.isSafeInteger })
  const root = { $id: 'https://integrasjonspunkt.invalid/openapi.json', $defs: defs }
  if (!ajv.validateSchema(root)) throw new Error(`not draft 2020-12: ${ajv.errorsText(ajv.errors)}`)
  ajv.addSchema(root)
  return {
    ajv,
    /** errors of `value` against component `name` (or a schema using `#/components/schemas/` refs) */
    errors(schema: string | JsonSchema, value: unknown): ErrorObject[] {
      const s =
        typeof schema === 'string'
          ? { $ref: `https://integrasjonspunkt.invalid/openapi.json#/$defs/${schema}` }
          : rewrite(schema, (x) =>
              x.replaceAll(COMPONENTS, 'https://integrasjonspunkt.invalid/openapi.json#/$defs/'),
            )
      const validate = ajv.compile(s as object)
      return validate(value) ? [] : [...(validate.errors ?? [])]
    },
  }
}

/** A deep copy with every `$ref` string passed through `f`. */
function rewrite(value: unknown, f: (ref: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => rewrite(v, f))
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? f(v) : rewrite(v, f)]),
  )
}

function closeObjects(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(closeObjects)
  if (value === null || typeof value !== 'object') return value
  const out = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, closeObjects(v)]))
  if (out.type === 'object' && out.properties && !('additionalProperties' in out))
    out.unevaluatedProperties = false
  return out
}

/** Every `$ref` in the document, with the JSON path it sits at. */
export function refsOf(value: unknown, at = '#'): { at: string; ref: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => refsOf(v, `${at}/${i}`))
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([k, v]) =>
    k === '$ref' && typeof v === 'string' ? [{ at, ref: v }] : refsOf(v, `${at}/${k}`),
  )
}

/** The value a local JSON pointer (`#/a/b`) names, or undefined. */
export function resolvePointer(document: unknown, pointer: string): unknown {
  if (!pointer.startsWith('#/')) return undefined
  let node: unknown = document
  for (const raw of pointer.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}

/** Every schema object in a schema (itself, properties, items, combinators, ...), with its path. */
export function schemasIn(schema: unknown, at: string): { at: string; schema: JsonSchema }[] {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return []
  const s = schema as JsonSchema
  const out = [{ at, schema: s }]
  for (const key of ['properties', 'patternProperties', '$defs']) {
    for (const [name, sub] of Object.entries((s[key] as object | undefined) ?? {}))
      out.push(...schemasIn(sub, `${at}/${key}/${name}`))
  }
  for (const key of ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains'])
    out.push(...schemasIn(s[key], `${at}/${key}`))
  for (const key of ['allOf', 'anyOf', 'oneOf', 'prefixItems']) {
    const list = (s[key] as unknown[] | undefined) ?? []
    for (const [i, sub] of list.entries()) out.push(...schemasIn(sub, `${at}/${key}/${i}`))
  }
  return out
}

/**
 * Routes as `METHOD /path` from Fastify's `printRoutes({ commonPrefix: false })` tree, path
 * parameters written `{}` (the tree merges `:messageId|:id` of one position) and HEAD left out.
 */
export function routesOfTree(tree: string): string[] {
  const stack: string[] = []
  const out: string[] = []
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line)
    if (!m) continue
    const depth = m[1]!.length / 4
    stack.length = depth
    stack.push(m[2]!)
    const path = stack.join('').replace(/:[^/]+/g, '{}')
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD'))
      out.push(`${method} ${path}`)
  }
  return out
}

/** `/api/statuses/{id}` and `/api/statuses/:messageId` alike → `/api/statuses/{}`. */
export function normalisePath(path: string): string {
  return path.replace(/\{[^}]+\}|:[^/]+/g, '{}')
}
