// Failed calls to SvarUt and SvarInn, and the pure rule that says which may pass on a later try.

/** Fiks's ErrorMessage, as most of its REST APIs answer an error. */
export interface FiksErrorMessage {
  status?: number
  error?: string
  errorId?: string
  message?: string
  errorCode?: string
}

export class FiksError extends Error {
  override name = 'FiksError'
  /** HTTP status of the answer; undefined when there was none */
  readonly status: number | undefined
  readonly errorCode: string | undefined
  /** false: the same call would fail the same way (FEIL, or mottakFeilet); true: try again later */
  readonly retryable: boolean

  constructor(
    message: string,
    o: { status?: number; errorCode?: string; retryable: boolean; cause?: unknown },
  ) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause })
    this.status = o.status
    this.errorCode = o.errorCode
    this.retryable = o.retryable
  }
}

/**
 * The reasons the reference's SOAP client stops retrying on (its fault interceptor); SvarUt's REST API
 * gives the same reasons in its error messages, whatever the status.
 */
export const PERMANENT_REASONS = [
  'Duplikat',
  'Forsendelse med samme mottaker',
  'Ugyldig innhold',
  'Feil under lesing av',
  'Kan ikke lagre tomt dokument',
] as const

/**
 * Whether an error answer may pass on a later try. 5xx may, unless it gives one of the permanent reasons;
 * 408 and 429 may; so may 401, 403 and 404, which say that the integration, its access to the konto or
 * the URL is wrong, something the operator fixes without the message changing. Any other 4xx is
 * SvarUt refusing this message.
 */
export function isRetryableAnswer(status: number, message: string): boolean {
  if (PERMANENT_REASONS.some((reason) => message.includes(reason))) return false
  if (status >= 500) return true
  return [401, 403, 404, 408, 429].includes(status)
}

/** An error for a non-2xx answer, with Fiks's own message when the body is an ErrorMessage. */
export function answerError(what: string, status: number, text: string): FiksError {
  const body = parseErrorMessage(text)
  const reason = body?.message || body?.error || text.trim().slice(0, 300) || 'no reason given'
  return new FiksError(`${what} answered ${status}: ${reason}`, {
    status,
    errorCode: body?.errorCode,
    retryable: isRetryableAnswer(status, reason),
  })
}

function parseErrorMessage(text: string): FiksErrorMessage | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as FiksErrorMessage)
      : undefined
  } catch {
    return undefined
  }
}
