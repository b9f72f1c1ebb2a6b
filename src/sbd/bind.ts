/**
 * Reads a JSON value through a `Shape` as Jackson binds it into the reference's Java classes: scalars
 * are coerced into String fields, numeric strings into Integer fields, `"true"`/`1` into Boolean,
 * enum constants by name or index; a wrong shape (an object for a string, an array where a single value is
 * declared, a non-array for a collection) is an error. Unknown members are dropped. Values come back as
 * plain JSON data: dates as ISO-8601 text, enums as their wire names, maps and `any` as safe plain objects.
 */
import { DateTime } from 'luxon'
import { parseDateTime } from '../util/time.js'
import { parseJavaInt } from './java.js'
import type { ObjectShape, Shape } from './schema.js'

/** A binding failure: Jackson's text and the JSON path of the member. */
export class BindError extends Error {
  constructor(
    readonly detail: string,
    readonly path: string,
  ) {
    super(path === '' ? detail : `${detail} (at ${path})`)
    this.name = 'BindError'
  }
}

type Json = null | string | number | boolean | Json[] | { [key: string]: Json }

/** Jackson's token names, used in its error texts. */
export function tokenOf(value: unknown): string {
  if (value === null || value === undefined) return 'VALUE_NULL'
  if (typeof value === 'string') return 'VALUE_STRING'
  if (typeof value === 'number') return Number.isInteger(value) ? 'VALUE_NUMBER_INT' : 'VALUE_NUMBER_FLOAT'
  if (value === true) return 'VALUE_TRUE'
  if (value === false) return 'VALUE_FALSE'
  if (Array.isArray(value)) return 'START_ARRAY'
  return 'START_OBJECT'
}

const TOKEN_KIND: Record<string, string> = {
  VALUE_STRING: 'String value',
  VALUE_NUMBER_INT: 'Integer value',
  VALUE_NUMBER_FLOAT: 'Floating-point value',
  VALUE_TRUE: 'Boolean value',
  VALUE_FALSE: 'Boolean value',
  START_ARRAY: 'Array value',
  START_OBJECT: 'Object value',
}

function mismatch(java: string, value: unknown, path: string): BindError {
  const token = tokenOf(value)
  return new BindError(
    `Cannot deserialize value of type \`${java}\` from ${TOKEN_KIND[token]} (token \`JsonToken.${token}\`)`,
    path,
  )
}

function weird(java: string, text: string, why: string, path: string): BindError {
  return new BindError(
    `Cannot deserialize value of type \`${java}\` from String ${JSON.stringify(text)}: ${why}`,
    path,
  )
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Sets a member as an own property, also for keys like `__proto__` that plain assignment would misread. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

function isJsonScalar(value: unknown): value is string | number | boolean {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  )
}

function bindString(value: unknown, path: string): string {
  if (typeof value === 'string') return value
  if (isJsonScalar(value)) return String(value)
  throw mismatch('java.lang.String', value, path)
}

function bindInteger(value: unknown, path: string, java: string, min: number, max: number): number | null {
  let n: number | undefined
  if (typeof value === 'number' && Number.isFinite(value)) n = Math.trunc(value)
  else if (typeof value === 'string') {
    const text = value.trim()
    if (text === '' || text === 'null') return null
    n = java === 'java.lang.Integer' ? parseJavaInt(text) : /^[+-]?\d+$/.test(text) ? Number(text) : undefined
    if (n === undefined) throw weird(java, value, `not a valid \`${java}\` value`, path)
  } else throw mismatch(java, value, path)
  if (n < min || n > max) throw new BindError(`Numeric value (${value}) out of range of \`${java}\``, path)
  return n === 0 ? 0 : n
}

function bindBoolean(value: unknown, path: string): boolean | null {
  if (typeof value === 'boolean') return value
  if (typeof value === 'number' && Number.isInteger(value)) return value !== 0
  if (typeof value === 'string') {
    const text = value.trim()
    if (text === 'true' || text === 'True' || text === 'TRUE') return true
    if (text === 'false' || text === 'False' || text === 'FALSE') return false
    if (text === '' || text === 'null') return null
    throw weird('java.lang.Boolean', value, 'only "true" or "false" recognized', path)
  }
  throw mismatch('java.lang.Boolean', value, path)
}

function bindOffsetDateTime(value: unknown, path: string): string | null {
  if (typeof value === 'string' && value.trim() === '') return null
  if (typeof value !== 'string' && typeof value !== 'number')
    throw mismatch('java.time.OffsetDateTime', value, path)
  const parsed = parseDateTime(value)
  // a time we could not write back exactly (years beyond 9999, local mean time offsets) is refused
  if (parsed === undefined || parseDateTime(parsed.iso)?.instant !== parsed.instant) {
    throw weird(
      'java.time.OffsetDateTime',
      String(value),
      'Failed to deserialize java.time.OffsetDateTime',
      path,
    )
  }
  return parsed.iso
}

/** ISO_INSTANT output: UTC, seconds always, fractions only when non-zero. */
export function formatInstantUtc(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z')
}

function bindInstant(value: unknown, path: string): string | null {
  // Jackson's InstantDeserializer: numbers and numeric strings are epoch seconds (with a fraction)
  const seconds =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim())
        ? Number(value)
        : undefined
  let ms: number | undefined
  if (seconds !== undefined && Number.isFinite(seconds)) ms = Math.floor(seconds * 1000)
  else if (typeof value !== 'string') throw mismatch('java.time.Instant', value, path)
  else {
    const text = value.trim()
    if (text === '') return null
    const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}(:\d{2})?)$/i.test(text)
    const dt = iso ? DateTime.fromISO(text, { setZone: true }) : undefined
    ms = dt?.isValid ? dt.toMillis() : undefined
  }
  // only years 0000-9999, which our text reads back
  if (ms === undefined || ms < -62167219200000 || ms >= 253402300800000) {
    throw weird('java.time.Instant', String(value), 'Failed to deserialize java.time.Instant', path)
  }
  return formatInstantUtc(ms)
}

function bindLocalDate(value: unknown, path: string): string | null {
  let dt: DateTime | undefined
  if (typeof value === 'number' && Number.isInteger(value)) {
    dt = DateTime.fromMillis(value * 86_400_000, { zone: 'UTC' }) // LocalDate.ofEpochDay
  } else if (Array.isArray(value) && value.length === 3 && value.every((v) => Number.isInteger(v))) {
    dt = DateTime.fromObject({ year: value[0], month: value[1], day: value[2] }, { zone: 'UTC' })
  } else if (typeof value === 'string') {
    const text = value.trim()
    if (text === '') return null
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) dt = DateTime.fromISO(text, { zone: 'UTC' })
    else if (/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/i.test(text)) dt = DateTime.fromISO(text, { zone: 'UTC' })
    else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/.test(text))
      dt = DateTime.fromISO(text, { zone: 'UTC' })
  } else throw mismatch('java.time.LocalDate', value, path)
  const date = dt?.isValid ? dt.toFormat('yyyy-MM-dd') : ''
  // only years 0000-9999, which our text reads back
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) {
    throw weird('java.time.LocalDate', String(value), 'Failed to deserialize java.time.LocalDate', path)
  }
  return date
}

function bindEnum(shape: Shape & { k: 'enum' }, value: unknown, path: string): string | null {
  if (typeof value === 'number' && Number.isInteger(value)) {
    // EnumDeserializer accepts the constant's index unless FAIL_ON_NUMBERS_FOR_ENUMS
    const byIndex = shape.values[value]
    if (byIndex !== undefined) return byIndex
    throw new BindError(
      `Cannot deserialize value of type \`${shape.java}\` from number ${value}: index value outside legal index range [0..${shape.values.length - 1}]`,
      path,
    )
  }
  if (typeof value !== 'string') throw mismatch(shape.java, value, path)
  const text = value.trim()
  if (shape.values.includes(text)) return text
  if (/^(0|[1-9]\d*)$/.test(text) && shape.values[Number(text)] !== undefined)
    return shape.values[Number(text)]!
  const why =
    text === ''
      ? 'Cannot coerce empty String to an enum'
      : `not one of the values accepted for Enum class: [${shape.values.join(', ')}]`
  throw weird(shape.java, value, why, path)
}

/** A copy of any JSON value (`Object content`), refusing what JSON cannot hold. */
export function copyJson(value: unknown, path: string): Json {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value
  } else if (Array.isArray(value)) {
    return value.map((v, i) => copyJson(v, `${path}[${i}]`))
  } else if (isPlainObject(value)) {
    const out: Record<string, Json> = {}
    for (const key of Object.keys(value)) setOwn(out, key, copyJson(value[key], `${path}.${key}`))
    return out
  }
  throw new BindError(`Unsupported value (${typeof value})`, path)
}

/** Binds `value` through `shape`; null means absent. */
export function bind(shape: Shape, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return null
  switch (shape.k) {
    case 'string':
      return bindString(value, path)
    case 'int':
      return bindInteger(value, path, 'java.lang.Integer', -2147483648, 2147483647)
    case 'long':
      return bindInteger(value, path, 'java.lang.Long', -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
    case 'bool':
      return bindBoolean(value, path)
    case 'offsetDateTime':
      return bindOffsetDateTime(value, path)
    case 'instant':
      return bindInstant(value, path)
    case 'localDate':
      return bindLocalDate(value, path)
    case 'enum':
      return bindEnum(shape, value, path)
    case 'any':
      return copyJson(value, path)
    case 'object':
      return bindObject(shape, value, path)
    case 'array':
      return bindArray(shape, value, path)
    case 'map':
      return bindMap(shape, value, path)
  }
}

export function bindObject(shape: ObjectShape, value: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(value)) {
    if (typeof value === 'string') {
      throw new BindError(
        `Cannot construct instance of \`${shape.java}\`: no String-argument constructor/factory method to deserialize from String value (${JSON.stringify(value)})`,
        path,
      )
    }
    throw mismatch(shape.java, value, path)
  }
  const out: Record<string, unknown> = {}
  for (const [name, field] of Object.entries(shape.fields)) {
    const raw = Object.hasOwn(value, name) ? value[name] : undefined
    const bound = bind(field.shape, raw, path === '' ? name : `${path}.${name}`)
    const result = bound ?? field.fallback?.() ?? null
    if (result !== null) out[name] = result
  }
  return out
}

function bindArray(shape: Shape & { k: 'array' }, value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw mismatch(shape.java, value, path)
  const out: unknown[] = []
  const seen = new Set<string>()
  value.forEach((element, i) => {
    const at = `${path}[${i}]`
    // the reference would keep a null element and fail later with a NullPointerException (500)
    if (element === null || element === undefined)
      throw new BindError('Null element in a collection is not allowed', at)
    const bound = bind(shape.of, element, at)
    if (shape.dedupe) {
      // a Java Set of @Data objects keeps one of equal elements
      const key = JSON.stringify(bound)
      if (seen.has(key)) return
      seen.add(key)
    }
    out.push(bound)
  })
  return out
}

function bindMap(shape: Shape & { k: 'map' }, value: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw mismatch(shape.java, value, path)
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value))
    setOwn(out, key, bind(shape.of, value[key], `${path}[${JSON.stringify(key)}]`))
  return out
}
