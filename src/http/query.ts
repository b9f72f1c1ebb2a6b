import { ApiError, fieldError } from '../errors/api-error.js'
import { first } from './paging.js'

/**
 * Query-parameter binding with Spring's errors: a value that does not convert is a 400
 * `BindException` with one `errors[]` entry naming the parameter, never a 500.
 */
export type Query = Record<string, unknown>

export function str(query: Query, name: string): string | undefined {
  const v = first(query[name])
  return v === undefined || v === '' ? undefined : v
}

export function bool(query: Query, name: string): boolean | undefined {
  const v = str(query, name)
  if (v === undefined) return undefined
  const lower = v.toLowerCase()
  if (['true', 'on', 'yes', '1'].includes(lower)) return true
  if (['false', 'off', 'no', '0'].includes(lower)) return false
  throw bindError(name, v, 'java.lang.Boolean')
}

export function int(query: Query, name: string): number | undefined {
  const v = str(query, name)
  if (v === undefined) return undefined
  if (!/^-?\d{1,15}$/.test(v)) throw bindError(name, v, 'java.lang.Long')
  return Number(v)
}

export function oneOf<T extends string>(
  query: Query,
  name: string,
  allowed: readonly T[],
  javaType: string,
): T | undefined {
  const v = str(query, name)
  if (v === undefined) return undefined
  if (!(allowed as readonly string[]).includes(v)) throw bindError(name, v, javaType)
  return v as T
}

export function bindError(name: string, value: string, javaType: string): ApiError {
  const defaultMessage = `Failed to convert property value of type 'java.lang.String' to required type '${javaType}' for property '${name}'`
  const error = { ...fieldError(name, 'typeMismatch', defaultMessage, value), bindingFailure: true }
  error.codes = [`typeMismatch.${name}`, `typeMismatch.${javaType}`, 'typeMismatch']
  return new ApiError('BindFailed', [], {
    message: `Validation failed for argument; field '${name}': rejected value [${value}]`,
    errors: [error],
  })
}

/**
 * A query parameter as a route reads it, declared once: the route binds it with `bindQuery` and the
 * OpenAPI document (src/openapi) describes it from the same declaration. `kind` picks the binding and so
 * the error a bad value gets: `long` is a field of a bound filter object (BindException, as `int`),
 * `int` a method parameter `Integer` (MethodArgumentTypeMismatchException); `date` and `date-time` come
 * back as text for the route to parse.
 */
export type QueryParam = { name: string; doc: string } & (
  | { kind: 'string' | 'date' | 'date-time' | 'boolean' | 'long' | 'int' }
  | { kind: 'enum'; values: readonly string[]; javaType: string }
)

export type ParamValue<P extends QueryParam> = P extends { kind: 'boolean' }
  ? boolean
  : P extends { kind: 'long' | 'int' }
    ? number
    : P extends { values: readonly (infer V)[] }
      ? V
      : string

export function readParam<P extends QueryParam>(query: Query, p: P): ParamValue<P> | undefined {
  switch (p.kind) {
    case 'boolean':
      return bool(query, p.name) as ParamValue<P> | undefined
    case 'long':
      return int(query, p.name) as ParamValue<P> | undefined
    case 'int':
      return integer(query, p.name) as ParamValue<P> | undefined
    case 'enum':
      return oneOf(query, p.name, p.values, p.javaType) as ParamValue<P> | undefined
    default:
      return str(query, p.name) as ParamValue<P> | undefined
  }
}

/** Every declared parameter, bound in declaration order (so the first bad one is the error). */
export function bindQuery<const P extends readonly QueryParam[]>(
  query: Query,
  params: P,
): { [K in P[number] as K['name']]: ParamValue<K> | undefined } {
  const out: Record<string, unknown> = {}
  for (const p of params) out[p.name] = readParam(query, p)
  return out as { [K in P[number] as K['name']]: ParamValue<K> | undefined }
}

/** An `Integer` method parameter: anything else is the reference's 400 type mismatch. */
export function integer(query: Query, name: string): number | undefined {
  const v = str(query, name)
  if (v === undefined) return undefined
  if (!/^-?\d{1,9}$/.test(v)) {
    throw new ApiError('ArgumentTypeMismatch', [
      `Method parameter '${name}': Failed to convert value of type 'java.lang.String' to required type 'java.lang.Integer'; For input string: "${v}"`,
    ])
  }
  return Number(v)
}
