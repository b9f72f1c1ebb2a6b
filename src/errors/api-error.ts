import { ERRORS, type ErrorCode, formatMessage } from './catalogue.js'

/** One failed constraint, in the shape Spring writes into `errors[]`. */
export interface FieldError {
  codes: string[]
  defaultMessage: string
  objectName: string
  field: string
  rejectedValue: unknown
  bindingFailure: boolean
  code: string
}

export interface ApiErrorOptions {
  /** exact message text, when it is not built from the catalogue template */
  message?: string
  description?: string
  errors?: FieldError[]
  cause?: unknown
}

/** An error that reaches the client as the reference's error JSON. */
export class ApiError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly exception: string | null
  readonly description: string | undefined
  readonly errors: FieldError[] | undefined

  constructor(code: ErrorCode, args: readonly unknown[] = [], options: ApiErrorOptions = {}) {
    super(
      options.message ?? formatMessage(code, args),
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.name = 'ApiError'
    this.code = code
    this.status = ERRORS[code].status
    this.exception = ERRORS[code].exception
    this.description = options.description
    this.errors = options.errors
  }
}

export function fieldError(
  path: string,
  code: string,
  defaultMessage: string,
  rejectedValue: unknown,
): FieldError {
  return {
    codes: [code],
    defaultMessage,
    objectName: path,
    field: path,
    rejectedValue,
    bindingFailure: false,
    code,
  }
}

/** `jakarta.validation.ConstraintViolationException` with one entry per violation. */
export function constraintViolation(errors: FieldError[], prefix = ''): ApiError {
  const message = errors.map((e) => `${prefix}${e.field}: ${e.defaultMessage}`).join(', ')
  return new ApiError('ConstraintViolation', [], { message, errors })
}
