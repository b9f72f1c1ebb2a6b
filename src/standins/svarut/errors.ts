import { randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * SvarUt's error answer, the `ErrorMessage` most Fiks REST APIs give: `{timestamp, status, error, errorId,
 * path, originalPath, message, errorCode, errorJson}`. KS's client reads `message` into its exception
 * and `errorJson` as a string map, so errorJson is an object or absent, never a string. The `errorCode`
 * values are the stand-in's own (SvarUt's are not published): docs/svarut-standin.md lists them.
 */
export class SvarUtError extends Error {
  override name = 'SvarUtError'
  constructor(
    readonly status: number,
    message: string,
    readonly errorCode: string | null = null,
    readonly errorJson?: Record<string, string>,
  ) {
    super(message)
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

export const badRequest = (message: string, code = 'VALIDERINGSFEIL', json?: Record<string, string>) =>
  new SvarUtError(400, message, code, json)
export const unauthorized = (message: string) => new SvarUtError(401, message, 'IKKE_AUTENTISERT')
export const forbidden = (message: string) => new SvarUtError(403, message, 'IKKE_TILGANG')
export const notFound = (message: string) => new SvarUtError(404, message, 'IKKE_FUNNET')

export function errorBody(error: SvarUtError, path: string, now: Date): Record<string, unknown> {
  return {
    timestamp: now.getTime(),
    status: error.status,
    error: REASONS[error.status] ?? (error.status >= 500 ? 'Internal Server Error' : 'Bad Request'),
    errorId: randomUUID(),
    path,
    originalPath: null,
    message: error.message,
    errorCode: error.errorCode,
    ...(error.errorJson ? { errorJson: error.errorJson } : {}),
  }
}

export function sendError(reply: FastifyReply, req: FastifyRequest, error: SvarUtError, now: Date) {
  if (error.status === 401 && req.url.startsWith('/tjenester/svarinn'))
    reply.header('www-authenticate', 'Basic realm="SvarInn"')
  return reply
    .code(error.status)
    .header('content-type', 'application/json')
    .send(JSON.stringify(errorBody(error, req.url.split('?')[0] ?? '', now)))
}
