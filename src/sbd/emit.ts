/**
 * Writes bound data back as the reference's Jackson setup does (`NON_NULL`): fields in the classes'
 * order, nulls left out, `@JsonInclude(NON_EMPTY)` collections left out when empty, collections whose
 * getter creates them written as `[]`, and `Manifest.numberOfItems` computed when missing (`Field.whenMissing`).
 */
import { copyJson, isPlainObject, setOwn } from './bind.js'
import type { ObjectShape, Shape } from './schema.js'

export function emit(shape: Shape, value: unknown): unknown {
  if (value === null || value === undefined) return undefined
  switch (shape.k) {
    case 'object':
      return isPlainObject(value) ? emitObject(shape, value) : undefined
    case 'array':
      return Array.isArray(value) ? value.map((v) => emit(shape.of, v) ?? null) : undefined
    case 'map': {
      if (!isPlainObject(value)) return undefined
      const out: Record<string, unknown> = {}
      for (const key of Object.keys(value)) setOwn(out, key, emit(shape.of, value[key]) ?? null)
      return out
    }
    case 'any':
      return copyJson(value, '')
    default:
      return value
  }
}

export function emitObject(shape: ObjectShape, value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, field] of Object.entries(shape.fields)) {
    let v = emit(field.shape, Object.hasOwn(value, name) ? value[name] : undefined)
    if (v === undefined && field.whenMissing) v = field.whenMissing(value)
    if (field.nonEmpty && Array.isArray(v) && v.length === 0) continue
    if (v !== undefined) out[name] = v
  }
  return out
}
