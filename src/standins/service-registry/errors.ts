/**
 * The registry's error answers (docs/service-registry-standin.md, "API"): most are the
 * `ErrorResponse` body `{"error_code": "", "error_description": "..."}`; a failed conversion of a
 * path or query value is Spring Boot's error page; a citizen nobody knows has its own small body,
 * and `/info` answers an unknown identifier with an empty 404.
 */
export type ErrorBody =
  | { kind: 'error'; code: string; description: string }
  | { kind: 'spring' }
  | { kind: 'text'; text: string }
  | { kind: 'empty' }

export class SrError extends Error {
  override name = 'SrError'
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    message?: string,
  ) {
    super(message ?? (body.kind === 'error' ? body.description : `HTTP ${status}`))
  }
}

function errorResponse(status: number, description: string, code = ''): SrError {
  return new SrError(status, { kind: 'error', code, description })
}

/** `EntityNotFoundException` */
export function entityNotFound(identifier: string): SrError {
  return errorResponse(404, `Entity with identifier '${identifier}' not found.`)
}

/** `ReceiverProcessNotFoundException` */
export function receiverProcessNotFound(identifier: string, process: string): SrError {
  return errorResponse(404, `Process ${process} not found for receiver ${identifier}`)
}

/**
 * `SecurityLevelNotFoundException`. The reference prints the whole Java `OrganizationInfo` object
 * where the organisation belongs; we print its identifier, which is what the text means.
 */
export function securityLevelNotFound(identifier: string, level: number): SrError {
  return errorResponse(
    400,
    `Organization '${identifier}' can not receive messages with security level '${level}'`,
  )
}

/** `CertificateNotFoundException` from the Virksert lookup */
export function certificateNotFound(identifier: string, service: 'DPO' | 'DPE' = 'DPO'): SrError {
  return errorResponse(404, `Unable to find ${service} certificate for: ${identifier}`)
}

/** `BrregNotFoundException`: the organisation whose address is a print record's return address */
export function senderNotFound(sender: string | null): SrError {
  return errorResponse(
    404,
    `Sender with identifier=${sender === null ? 'null' : `0192:${sender}`} not found in BRREG`,
  )
}

/** The body the reference writes by hand when the citizen lookup fails (`/identifier/{fnr}`). */
export function citizenNotFound(fnr: string): SrError {
  return new SrError(404, {
    kind: 'text',
    text: `{"message": "No service record found for citizen: ${fnr}"}`,
  })
}

/** `/info/{id}` for an unknown identifier: 404 and no body. */
export function infoNotFound(identifier: string): SrError {
  return new SrError(404, { kind: 'empty' }, `Entity with identifier '${identifier}' not found.`)
}

/** A value Spring cannot convert (identifier, securityLevel, print, ...), or a URL its firewall refuses. */
export function badRequest(why: string): SrError {
  return new SrError(400, { kind: 'spring' }, why)
}

export const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
}

/** Spring Boot's default error page as JSON (`DefaultErrorAttributes`, no message). */
export function springErrorBody(status: number, path: string, now: Date): string {
  const timestamp = now.toISOString().replace('Z', '+00:00')
  return JSON.stringify({ timestamp, status, error: STATUS_TEXT[status] ?? 'Error', path })
}
