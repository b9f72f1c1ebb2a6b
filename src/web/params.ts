import { first } from '../http/paging.js'
import { osloDayEdge } from '../util/time.js'

/** An answer the pages give as an error page with this status (bad parameters 400, unknown message 404). */
export class WebError extends Error {
  override name = 'WebError'
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export type Query = Record<string, unknown>

/** The first value of a parameter, trimmed; empty is absent (an empty form field). */
export function param(query: Query, name: string, maxLength = 200): string | undefined {
  const value = first(query[name])?.trim()
  if (value === undefined || value === '') return undefined
  if (value.length > maxLength) throw new WebError(400, `${name} is longer than ${maxLength} characters`)
  return value
}

export function oneOfParam<T extends string>(
  query: Query,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const value = param(query, name)
  if (value === undefined) return undefined
  if (!(allowed as readonly string[]).includes(value))
    throw new WebError(400, `${name} must be one of ${allowed.join(', ')}, not “${value}”`)
  return value as T
}

export function intParam(query: Query, name: string, min: number, max: number, fallback: number): number {
  const value = param(query, name)
  if (value === undefined) return fallback
  if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max)
    throw new WebError(400, `${name} must be a whole number from ${min} to ${max}, not “${value}”`)
  return Number(value)
}

/** A `yyyy-MM-dd` day (what a date input sends) as the first or last millisecond of that Oslo day. */
export function dayParam(query: Query, name: string, edge: 'start' | 'end'): number | undefined {
  const value = param(query, name)
  if (value === undefined) return undefined
  const at = osloDayEdge(value, edge)
  if (at === undefined) throw new WebError(400, `${name} must be a day as yyyy-MM-dd, not “${value}”`)
  return at
}
