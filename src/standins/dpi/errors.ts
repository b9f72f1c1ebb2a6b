import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * The access point's error answer: RFC 7807 `application/problem+json` `{type, title, status, detail,
 * instance}`, as the C2 OpenAPI specifies. `type` is the stand-in's own URN per kind of failure
 * (docs/dpi-standin.md lists them); clients read `status` and `detail`.
 */
export class DpiProblem extends Error {
  override name = 'DpiProblem'
  constructor(
    readonly status: number,
    /** the last part of `type`: `urn:dpi-stand-in:problem:<kind>` */
    readonly kind: string,
    message: string,
  ) {
    super(message)
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
}

export const badRequest = (kind: string, message: string) => new DpiProblem(400, kind, message)
export const unauthorized = (message: string) => new DpiProblem(401, 'unauthorized', message)
export const forbidden = (message: string) => new DpiProblem(403, 'forbidden', message)
export const notFound = (message: string) => new DpiProblem(404, 'not-found', message)
export const conflict = (kind: string, message: string) => new DpiProblem(409, kind, message)

export function problemBody(problem: DpiProblem, instance: string) {
  return {
    type: `urn:dpi-stand-in:problem:${problem.kind}`,
    title: TITLES[problem.status] ?? (problem.status >= 500 ? 'Internal Server Error' : 'Bad Request'),
    status: problem.status,
    detail: problem.message,
    instance,
  }
}

export function sendProblem(reply: FastifyReply, req: FastifyRequest, problem: DpiProblem) {
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer')
  return (
    reply
      .code(problem.status)
      .header('content-type', 'application/problem+json')
      // as bytes, so the content type goes out as given (Fastify adds a charset to strings)
      .send(Buffer.from(JSON.stringify(problemBody(problem, req.url.split('?')[0] ?? ''))))
  )
}
