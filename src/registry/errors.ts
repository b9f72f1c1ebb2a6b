/**
 * The errors a ServiceRegistry lookup ends in. The names follow the reference's exceptions
 * (`NotFoundInServiceRegistryException` extends `ServiceRegistryLookupException`); the
 * "unavailable" kind is ours, because the reference lets 5xx and I/O failures escape as runtime
 * exceptions, while callers here must tell "the receiver cannot get this" from "ask again later".
 */

export interface ServiceRegistryErrorOptions {
  /** the URL that was called, when a call was made */
  url?: string
  cause?: unknown
  /** HTTP status of the answer, when there was one */
  status?: number
}

export abstract class ServiceRegistryError extends Error {
  readonly url: string | undefined
  readonly status: number | undefined

  constructor(message: string, options: ServiceRegistryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.url = options.url
    this.status = options.status
  }
}

/**
 * The registry answered, but not with a usable record: a 4xx other than 404 (its
 * `error_description` is in the message), a bad or missing signature, an answer that is not the
 * expected JSON, or no record with the wanted document type.
 */
export class ServiceRegistryLookupError extends ServiceRegistryError {
  override name = 'ServiceRegistryLookupError'
}

/**
 * The registry answered 404. The message is the reference's text exactly, since the capabilities
 * endpoint passes it on to clients; the URL is in `url`.
 */
export class NotFoundInServiceRegistryError extends ServiceRegistryLookupError {
  override name = 'NotFoundInServiceRegistryError'
}

/** The registry could not be reached or failed itself: refused, reset, timed out, or 5xx. */
export class ServiceRegistryUnavailableError extends ServiceRegistryError {
  override name = 'ServiceRegistryUnavailableError'
}
