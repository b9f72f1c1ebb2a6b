/**
 * Typed errors. An HTTP answer that is not a success becomes an ApiError (a subclass by status) that
 * keeps the reference's error JSON, `exception` included: clients switch on `exceptionName`
 * (`MessageNotFoundException`, …). A request that got no answer becomes a NetworkError.
 */

export class IntegrasjonspunktError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/**
 * A received message the client will not write: an entry name that would land outside the folder, a
 * container that cannot be read or whose entries are not what they declare, a messageId that is no
 * safe folder name. The message is at fault, not this machine: taking it again fails the same way.
 */
export class UnsafePackageError extends IntegrasjonspunktError {}

/** One entry of the error JSON's `errors[]` (constraint and binding failures). */
export interface ApiFieldError {
  codes?: string[]
  defaultMessage?: string
  objectName?: string
  field?: string
  rejectedValue?: unknown
  bindingFailure?: boolean
  code?: string
}

/** The reference's error JSON. */
export interface ErrorBody {
  timestamp?: string
  status?: number
  error?: string
  exception?: string
  message?: string
  path?: string
  description?: string
  errors?: ApiFieldError[]
}

export class ApiError extends IntegrasjonspunktError {
  /** the HTTP status */
  readonly status: number
  /** the HTTP reason phrase the body gives (`Bad Request`), or the status line's */
  readonly error: string
  /** the full Java class name, e.g. `no.difi.meldingsutveksling.exceptions.MessageNotFoundException` */
  readonly exception: string | undefined
  /** the simple class name, e.g. `MessageNotFoundException` */
  readonly exceptionName: string | undefined
  readonly path: string | undefined
  readonly timestamp: string | undefined
  readonly description: string | undefined
  readonly errors: ApiFieldError[] | undefined
  /** the response body as received */
  readonly body: string

  constructor(init: { status: number; statusText?: string; body: string; path?: string }) {
    const json = parseErrorBody(init.body)
    const text = init.body.trim()
    super(
      json?.message ?? (text ? text.slice(0, 2000) : `HTTP ${init.status} ${init.statusText ?? ''}`.trim()),
    )
    this.status = init.status
    this.error = json?.error ?? init.statusText ?? ''
    this.exception = json?.exception
    this.exceptionName = json?.exception?.split('.').pop()
    this.path = json?.path ?? init.path
    this.timestamp = json?.timestamp
    this.description = json?.description
    this.errors = json?.errors
    this.body = init.body
  }
}

export class BadRequestError extends ApiError {}
export class UnauthorizedError extends ApiError {}
export class ForbiddenError extends ApiError {}
export class NotFoundError extends ApiError {}
export class ConflictError extends ApiError {}
export class ServerError extends ApiError {}

/** No answer: the connection was refused, reset or timed out. `cause` holds what Node reported. */
export class NetworkError extends IntegrasjonspunktError {
  /** the system or undici error code when there is one (`ECONNREFUSED`, `UND_ERR_SOCKET`, …) */
  readonly code: string | undefined
  readonly url: string

  constructor(url: string, cause: unknown, code?: string) {
    const why = code ?? (cause instanceof Error ? cause.message : String(cause))
    super(`No answer from ${url} (${why}): check the URL and that the integration point runs`, { cause })
    this.url = url
    this.code = code
  }
}

/** Maps a non-success answer to the ApiError subclass of its status. */
export function apiErrorFor(init: {
  status: number
  statusText?: string
  body: string
  path?: string
}): ApiError {
  const { status } = init
  if (status === 400) return new BadRequestError(init)
  if (status === 401) return new UnauthorizedError(init)
  if (status === 403) return new ForbiddenError(init)
  if (status === 404) return new NotFoundError(init)
  if (status === 409) return new ConflictError(init)
  if (status >= 500) return new ServerError(init)
  return new ApiError(init)
}

function parseErrorBody(body: string): ErrorBody | undefined {
  const text = body.trim()
  if (!text.startsWith('{')) return undefined
  try {
    const parsed: unknown = JSON.parse(text)
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined
    const o = parsed as Record<string, unknown>
    const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined)
    return {
      timestamp: str('timestamp'),
      status: typeof o.status === 'number' ? o.status : undefined,
      error: str('error'),
      exception: str('exception'),
      message: str('message'),
      path: str('path'),
      description: str('description'),
      errors: Array.isArray(o.errors) ? (o.errors as ApiFieldError[]) : undefined,
    }
  } catch {
    return undefined
  }
}

/** Whether `error` is an ApiError whose exception has this simple name. */
export function isApiException(error: unknown, exceptionName: string): error is ApiError {
  return error instanceof ApiError && error.exceptionName === exceptionName
}
