/**
 * JSON Schema (draft 2020-12, as OpenAPI 3.1 takes it) from the `Shape`s that `bind.ts` reads request
 * bodies through and `emit.ts` writes answers with, so the document describes what the code binds.
 * Every object shape becomes one named component (its Java class's simple name); `required` comes from
 * the validator itself (see `probeRequired`), never from a second list.
 */
import type { ObjectShape, Shape } from '../sbd/schema.js'

export type JsonSchema = { [key: string]: unknown }

/** The `components.schemas` being built; a name given twice must describe the same thing. */
export class Components {
  readonly schemas: Record<string, JsonSchema> = {}

  define(name: string, schema: JsonSchema): JsonSchema {
    const known = this.schemas[name]
    if (known && JSON.stringify(known) !== JSON.stringify(schema)) {
      throw new Error(`OpenAPI component ${name} is defined twice, differently`)
    }
    this.schemas[name] = schema
    return ref(name)
  }
}

export function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` }
}

/** `no.difi.….DialogmeldingMessage$Pasient` → `DialogmeldingMessage.Pasient` (a valid component name). */
export function componentName(java: string): string {
  return java.slice(java.lastIndexOf('.') + 1).replace(/\$/g, '.')
}

export interface ShapeContext {
  components: Components
  /** paths (as the validator prints them: `a.b[].c`) whose value must be present */
  required: ReadonlySet<string>
  /** descriptions by `Component.field` or `Component` */
  notes: Readonly<Record<string, string>>
  /** extra keywords by `Component.field` (e.g. `maxItems`), or by `Component` for the object itself */
  keywords?: Readonly<Record<string, JsonSchema>>
  /** component names to use instead of the Java name, by Java class name */
  names?: Readonly<Record<string, string>>
}

/** The schema of `shape` found at `path`. */
export function shapeSchema(shape: Shape, path: string, ctx: ShapeContext): JsonSchema {
  switch (shape.k) {
    case 'string':
      return { type: 'string' }
    case 'int':
      return { type: 'integer', format: 'int32' }
    case 'long':
      return { type: 'integer', format: 'int64' }
    case 'bool':
      return { type: 'boolean' }
    case 'offsetDateTime':
    case 'instant':
      return { type: 'string', format: 'date-time' }
    case 'localDate':
      return { type: 'string', format: 'date' }
    case 'enum':
      return { type: 'string', enum: [...shape.values] }
    case 'any':
      return {}
    case 'array':
      return { type: 'array', items: shapeSchema(shape.of, `${path}[]`, ctx) }
    case 'map':
      return { type: 'object', additionalProperties: shapeSchema(shape.of, `${path}[]`, ctx) }
    case 'object':
      return objectSchema(shape, path, ctx)
  }
}

function objectSchema(shape: ObjectShape, path: string, ctx: ShapeContext): JsonSchema {
  const name = ctx.names?.[shape.java] ?? componentName(shape.java)
  const properties: Record<string, JsonSchema> = {}
  const required: string[] = []
  for (const [field, { shape: fieldShape }] of Object.entries(shape.fields)) {
    const at = path === '' ? field : `${path}.${field}`
    const note = ctx.notes[`${name}.${field}`]
    properties[field] = {
      ...shapeSchema(fieldShape, at, ctx),
      ...ctx.keywords?.[`${name}.${field}`],
      ...(note ? { description: note } : {}),
    }
    if (ctx.required.has(at)) required.push(field)
  }
  const note = ctx.notes[name]
  return ctx.components.define(name, {
    type: 'object',
    ...(note ? { description: note } : {}),
    properties,
    ...(required.length ? { required } : {}),
    ...ctx.keywords?.[name],
  })
}

/** A value with every object present (arrays of objects with one element) and no scalar, leaving out `omit`. */
export function skeleton(shape: Shape, path: string, omit?: string): unknown {
  if (shape.k === 'array' && shape.of.k === 'object') return [skeleton(shape.of, `${path}[]`, omit)]
  if (shape.k !== 'object') return undefined
  const out: Record<string, unknown> = {}
  for (const [name, field] of Object.entries(shape.fields)) {
    const at = path === '' ? name : `${path}.${name}`
    if (at === omit) continue
    const value = skeleton(field.shape, at, omit)
    if (value !== undefined) out[name] = value
  }
  return out
}

/** The paths of every object and array-of-objects field under `shape`. */
function containers(shape: Shape, path: string): string[] {
  if (shape.k === 'array' && shape.of.k === 'object') return containers(shape.of, `${path}[]`)
  if (shape.k !== 'object') return []
  return Object.entries(shape.fields).flatMap(([name, field]) => {
    const at = path === '' ? name : `${path}.${name}`
    const kind = field.shape.k
    const isContainer = kind === 'object' || (kind === 'array' && field.shape.of.k === 'object')
    return isContainer ? [at, ...containers(field.shape, at)] : []
  })
}

export interface Finding {
  path: string
  constraint: string
}

/**
 * Which fields the validator requires, asked of the validator itself: it checks a skeleton (every
 * object present, no scalar) and then the skeleton without each object in turn; a `NotNull` or
 * `NotEmpty` at a path means that field is required. `check` runs the validator on a value of `shape`.
 */
export function probeRequired(shape: ObjectShape, root: string, check: (value: unknown) => Finding[]) {
  const required = new Set<string>()
  const take = (value: unknown, only?: string) => {
    for (const f of check(value)) {
      if (
        (f.constraint === 'NotNull' || f.constraint === 'NotEmpty') &&
        (only === undefined || f.path === only)
      )
        required.add(f.path)
    }
  }
  take(skeleton(shape, root))
  for (const path of containers(shape, root)) take(skeleton(shape, root, path), path)
  return required
}
