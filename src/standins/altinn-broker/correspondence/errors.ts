import { randomBytes } from 'node:crypto'
import type { FastifyReply } from 'fastify'

/**
 * Altinn Correspondence's business errors (docs/altinn-broker-standin.md, "Correspondence (DPV)"): the
 * number a client may branch on, the HTTP status, and the text, kept together so a code is never
 * answered with another code's words. Texts as the published API lists them where it does.
 */
const CATALOGUE = {
  1001: [404, 'The requested correspondence was not found'],
  1002: [400, 'Message title must be plain text'],
  1005: [400, 'Mismatch between uploaded files and attachment metadata'],
  1006: [400, 'Recipients must be unique'],
  1008: [400, 'DueDateTime cannot be prior to today'],
  1009: [400, 'DueDateTime cannot be prior to RequestedPublishTime'],
  1016: [400, 'DueDateTime is required when confirmation is needed'],
  1019: [400, 'The Content field must be provided for the correspondence'],
  1020: [400, 'Message title cannot be empty'],
  1021: [400, 'Message body cannot be empty'],
  1022: [400, 'Message body cannot be longer than 30 000 characters'],
  1023: [
    400,
    'Invalid language chosen. Supported languages is Norsk bokmål (nb), Nynorsk (nn) and English (en)',
  ],
  1024: [400, 'Correspondence must be fetched before it can be marked as read'],
  1029: [404, 'Could not find partyId for the following recipients: {recipients}'],
  1030: [
    422,
    "Recipient {recipientId} has reserved themselves from public correspondences. Can be overridden using the 'IgnoreReservation' flag",
  ],
  1034: [409, 'A correspondence with the same idempotent key already exists'],
  1037: [400, 'Message title cannot be longer than 255 characters'],
  1038: [400, 'A correspondence can have at most 100 attachments'],
  1039: [400, 'Message sender must be plain text'],
  1040: [400, 'The correspondence has already been marked as read'],
  1042: [400, 'Message summary cannot be longer than 255 characters'],
  1047: [400, 'An idempotent key can only be used with a single recipient'],
  1060: [400, 'The resource requires confidential correspondences: IsConfidential must be true'],
  1061: [400, 'The resource does not allow confidential correspondences: IsConfidential must be false'],
  2004: [400, 'File must have content and has a max file size of 2GB'],
  2010: [400, 'Filename is missing'],
  2011: [400, 'Filename is too long'],
  2012: [400, 'Filename contains invalid characters'],
  2013: [400, 'Filetype not allowed'],
  2021: [400, 'Filename is a reserved Windows name'],
  3002: [400, 'Email body and subject must be provided when sending email notifications'],
  3003: [400, 'Reminder email body and subject must be provided when sending reminder email notifications'],
  3004: [400, 'SMS body must be provided when sending SMS notifications'],
  3005: [400, 'Reminder SMS body must be provided when sending reminder SMS notifications'],
  3006: [400, 'Email body, subject and SMS body must be provided when sending preferred notifications'],
  3007: [
    400,
    'Reminder email body, subject and SMS body must be provided when sending reminder preferred notifications',
  ],
  3024: [400, 'Email body, subject and SMS body must be provided when sending EmailAndSms notifications'],
  3025: [
    400,
    'Reminder email body, subject and SMS body must be provided when sending reminder EmailAndSms notifications',
  ],
  4001: [
    401,
    'You must use an Altinn token, DialogToken or log in to IDPorten as someone with access to the resource and orgaization in Altinn Authorization',
  ],
} as const satisfies Record<number, readonly [number, string]>

export type ErrorCode = keyof typeof CATALOGUE

/** A business error as Altinn answers it: problem details with `errorCode` and `code` (docs/altinn-broker-standin.md, "Checks"). */
export class CorrespondenceError extends Error {
  override name = 'CorrespondenceError'
  readonly status: number
  constructor(
    readonly errorCode: ErrorCode,
    /** values for the `{placeholders}` of the text */
    values: Record<string, string> = {},
  ) {
    const [status, text] = CATALOGUE[errorCode]
    super(text.replace(/\{(\w+)\}/g, (_, key: string) => values[key] ?? `{${key}}`))
    this.status = status
  }
}

/** A request the model binder refused: 400 with `errors` per field, as ASP.NET's validation problem. */
export class ValidationProblem extends Error {
  override name = 'ValidationProblem'
  constructor(readonly errors: Record<string, string[]>) {
    super(`One or more validation errors occurred: ${Object.keys(errors).join(', ')}`)
  }
}

/** The proxy's own refusals (401 AuthN, 403 AuthZ), in its Spring format rather than Altinn's. */
export class ProxyRefusal extends Error {
  override name = 'ProxyRefusal'
  constructor(
    readonly status: 401 | 403,
    detail: string,
  ) {
    super(detail)
  }
}

const TITLES: Record<number, [string, string]> = {
  400: ['Bad Request', '15.5.1'],
  401: ['Unauthorized', '15.5.2'],
  403: ['Forbidden', '15.5.4'],
  404: ['Not Found', '15.5.5'],
  409: ['Conflict', '15.5.10'],
  422: ['Unprocessable Entity', '15.5.21'],
  500: ['Internal Server Error', '15.6.1'],
}

/** W3C trace context, as ASP.NET writes `traceId` */
const traceId = () => `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`

export function problemOf(error: CorrespondenceError | ValidationProblem): Record<string, unknown> {
  if (error instanceof ValidationProblem) {
    return {
      type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
      title: 'One or more validation errors occurred.',
      status: 400,
      errors: error.errors,
      validationErrors: Object.entries(error.errors).map(([path, messages]) => ({
        detail: messages.join(' '),
        paths: [path],
      })),
      traceId: traceId(),
    }
  }
  const [title, section] = TITLES[error.status] ?? ['Error', '15.5']
  return {
    type: `https://tools.ietf.org/html/rfc9110#section-${section}`,
    title,
    status: error.status,
    detail: error.message,
    code: `CORR-${String(error.errorCode).padStart(5, '0')}`,
    traceId: traceId(),
    errorCode: error.errorCode,
  }
}

export function proxyProblemOf(error: ProxyRefusal): Record<string, unknown> {
  const authN = error.status === 401
  return {
    type: 'https://tools.ietf.org/html/rfc7807',
    title: authN ? 'UNAUTHORIZED' : 'FORBIDDEN',
    status: error.status,
    detail: `${authN ? 'Proxy AuthN error' : 'Proxy AuthZ error'} : ${error.message}`,
  }
}

/** Answers a correspondence error; false when `error` is none of them (the app's handler takes it). */
export function sendCorrespondenceError(reply: FastifyReply, error: unknown): boolean {
  let status: number
  let body: Record<string, unknown>
  if (error instanceof CorrespondenceError || error instanceof ValidationProblem) {
    body = problemOf(error)
    status = body.status as number
  } else if (error instanceof ProxyRefusal) {
    body = proxyProblemOf(error)
    status = error.status
  } else return false
  void reply
    .code(status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send(JSON.stringify(body))
  return true
}
