/**
 * JSON Schema for the answers whose JSON a mapper builds (`toApiConversation`, `toPage`, `errorBody`,
 * ...): the schema is read off the mapper's own output for a row with every value set (which members,
 * in which order, of which JSON type) and for a row with every nullable value null (which members are
 * always there). So a member added to a mapper shows up in the document without anyone writing it twice.
 */
import type { Components, JsonSchema } from './json-schema.js'

export interface ExampleContext {
  components: Components
  /** component names for nested objects, by `Component.field` (`Component.field[]` for array elements) */
  names?: Readonly<Record<string, string>>
  /** extra keywords by `Component.field` (a format, an enum) */
  keywords?: Readonly<Record<string, JsonSchema>>
  /** descriptions by `Component` or `Component.field` */
  notes?: Readonly<Record<string, string>>
  /** schemas used instead of the one read off the example, by `Component.field` */
  replace?: Readonly<Record<string, JsonSchema>>
}

/**
 * Defines component `name` from `full` (every member present) and `minimal` (only the members that are
 * always present) and returns a reference to it.
 */
export function exampleSchema(
  name: string,
  full: unknown,
  minimal: unknown,
  ctx: ExampleContext,
): JsonSchema {
  if (!isObject(full)) throw new Error(`${name}: the example must be an object`)
  const always = isObject(minimal) ? minimal : {}
  const properties: Record<string, JsonSchema> = {}
  for (const [field, value] of Object.entries(full)) {
    const key = `${name}.${field}`
    const note = ctx.notes?.[key]
    properties[field] = {
      ...(ctx.replace?.[key] ?? valueSchema(key, value, always[field], ctx)),
      ...ctx.keywords?.[key],
      ...(note ? { description: note } : {}),
    }
  }
  const required = Object.keys(always).filter((k) => k in properties)
  const note = ctx.notes?.[name]
  return ctx.components.define(name, {
    type: 'object',
    ...(note ? { description: note } : {}),
    properties,
    ...(required.length ? { required } : {}),
  })
}

function valueSchema(key: string, value: unknown, minimal: unknown, ctx: ExampleContext): JsonSchema {
  if (typeof value === 'string') return { type: 'string' }
  if (typeof value === 'boolean') return { type: 'boolean' }
  if (typeof value === 'number') return { type: Number.isInteger(value) ? 'integer' : 'number' }
  if (Array.isArray(value)) {
    if (value.length === 0) throw new Error(`${key}: the example needs an element to describe`)
    const element = Array.isArray(minimal) ? minimal[0] : undefined
    return { type: 'array', items: valueSchema(`${key}[]`, value[0], element, ctx) }
  }
  if (isObject(value)) {
    const name = ctx.names?.[key]
    if (!name) throw new Error(`${key}: a nested object needs a component name`)
    return exampleSchema(name, value, minimal, ctx)
  }
  throw new Error(`${key}: the example has no value (${String(value)}) to describe`)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
