import { STATUS_CODES } from 'node:http'
import type { FieldError } from '../errors/api-error.js'
import { formatOslo } from '../util/time.js'

/**
 * The reference's error JSON (its IntegrasjonspunktErrorAttributes): timestamp in Europe/Oslo, status,
 * reason, exception, message, path.
 */
export interface ErrorBody {
  timestamp: string
  status: number
  error: string
  exception?: string
  message: string
  path: string
  errors?: FieldError[]
  description?: string
}

export function errorBody(input: {
  now: Date
  status: number
  exception: string | null
  message: string | undefined
  path: string
  errors?: FieldError[] | undefined
  description?: string | undefined
}): ErrorBody {
  const body: ErrorBody = {
    timestamp: formatOslo(input.now),
    status: input.status,
    error: STATUS_CODES[input.status] ?? 'Error',
    ...(input.exception ? { exception: input.exception } : {}),
    message: input.message || 'No message available',
    path: input.path,
  }
  if (input.errors?.length) body.errors = input.errors
  if (input.description) body.description = input.description
  return body
}
