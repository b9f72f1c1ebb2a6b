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
