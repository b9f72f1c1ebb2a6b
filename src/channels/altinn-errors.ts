// Errors of calls to Altinn (the Broker for DPO, Correspondence for DPV, the token exchange, Maskinporten),
// shared by the channels that talk to it.

/**
 * RFC 7807 ProblemDetails, as the Altinn 3 APIs and the Altinn token exchange answer every 4xx and
 * 5xx. `errors` is ASP.NET's field-by-field validation detail on a 400.
 */
export interface ProblemDetails {
  type?: string
  title?: string
  status?: number
  detail?: string
  instance?: string
  errors?: Record<string, string[]>
  [extension: string]: unknown
}

export interface BrokerErrorOptions {
  /** HTTP status of the answer; undefined when there was no answer (network error, timeout) */
  status?: number
  problem?: ProblemDetails
  retryable: boolean
  cause?: unknown
}

/**
 * A failed call to the Altinn token exchange or an Altinn API (the name is DPO's, which came first).
 * `retryable` tells the send and receive jobs whether to try again later (network errors, timeouts,
 * 5xx, 429) or to give up (other 4xx: Altinn's reason, from `problem`, then goes into the FEIL status
 * description).
 */
export class BrokerError extends Error {
  override name = 'BrokerError'
  readonly status: number | undefined
  readonly problem: ProblemDetails | undefined
  readonly retryable: boolean

  constructor(message: string, options: BrokerErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.status = options.status
    this.problem = options.problem
    this.retryable = options.retryable
  }
}

/** Pure retry rule for an HTTP answer: 5xx and 429 may pass; any other 4xx will not. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429
}

/** Bodies of error answers are read for their ProblemDetails only; more than this is not one. */
export const MAX_PROBLEM_BYTES = 64 * 1024

/** The ProblemDetails in an error answer's body, when the body is one. */
export function parseProblem(text: string): ProblemDetails | undefined {
  if (text.trim() === '') return undefined
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as ProblemDetails)
      : undefined
  } catch {
    return undefined
  }
}

/** A BrokerError for a non-2xx answer, with the broker's own reason in the message. */
export function httpError(what: string, status: number, text: string): BrokerError {
  const problem = parseProblem(text)
  const reason = problem?.detail ?? problem?.title ?? (text.trim().slice(0, 300) || 'no reason given')
  return new BrokerError(`${what} answered ${status}: ${reason}`, {
    status,
    problem,
    retryable: isRetryableStatus(status),
  })
}

/** A BrokerError for a call that got no answer: always retryable. */
export function networkError(
  what: string,
  timeoutMs: number,
  timedOut: boolean,
  cause: unknown,
): BrokerError {
  const reason = timedOut ? `timed out after ${timeoutMs} ms` : `failed: ${describe(cause)}`
  return new BrokerError(`${what} ${reason}`, { retryable: true, cause })
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | null
  const code = e?.code ?? e?.cause?.code
  const message = String(e?.cause?.message ?? e?.message ?? err)
  if (code === 'ECONNREFUSED')
    return 'connection refused (ECONNREFUSED): is Altinn (or its stand-in) running there?'
  if (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  )
    return `no answer in time (${code})`
  return typeof code === 'string' ? `${message} (${code})` : message
}

/** Whether undici gave up waiting (connect, headers or body), as opposed to the peer failing. */
export function isTimeout(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  )
}

/** An answer's body, at most `max` bytes (the rest is not read): only ids and problem details are wanted. */
export async function readCapped(
  body: AsyncIterable<unknown> & { destroy(): unknown },
  max: number,
): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    chunks.push(chunk as Buffer)
    size += (chunk as Buffer).length
    if (size >= max) {
      body.destroy()
      break
    }
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, max)
}
