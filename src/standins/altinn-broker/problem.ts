import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * RFC 7807 `ProblemDetails`, as Altinn's ASP.NET services answer every 4xx and 5xx: `{type, title, status,
 * detail, instance}`, plus `errors` for a failed validation, served as `application/problem+json`.
 */
export class BrokerProblem extends Error {
  override name = 'BrokerProblem'
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors?: Record<string, string[]>,
  ) {
    super(detail)
  }
}

const TITLES: Record<number, [title: string, section: string]> = {
  400: ['Bad Request', '15.5.1'],
  401: ['Unauthorized', '15.5.2'],
  403: ['Forbidden', '15.5.4'],
  404: ['Not Found', '15.5.5'],
  405: ['Method Not Allowed', '15.5.6'],
  406: ['Not Acceptable', '15.5.7'],
  409: ['Conflict', '15.5.10'],
  411: ['Length Required', '15.5.12'],
  413: ['Content Too Large', '15.5.14'],
  414: ['URI Too Long', '15.5.15'],
  415: ['Unsupported Media Type', '15.5.16'],
  500: ['Internal Server Error', '15.6.1'],
  503: ['Service Unavailable', '15.6.4'],
}

export const badRequest = (detail: string, errors?: Record<string, string[]>) =>
  new BrokerProblem(400, detail, errors)
export const unauthorized = (detail: string) => new BrokerProblem(401, detail)
export const forbidden = (detail: string) => new BrokerProblem(403, detail)
export const notFound = (detail: string) => new BrokerProblem(404, detail)
export const conflict = (detail: string) => new BrokerProblem(409, detail)

/** The body of a problem answer; the title and type follow ASP.NET's defaults for the status. */
export function problemBody(problem: BrokerProblem, instance: string): Record<string, unknown> {
  const [title, section] = TITLES[problem.status] ?? ['Error', problem.status < 500 ? '15.5' : '15.6']
  const body: Record<string, unknown> = {
    type: `https://tools.ietf.org/html/rfc9110#section-${section}`,
    title: problem.errors ? 'One or more validation errors occurred.' : title,
    status: problem.status,
    detail: problem.detail,
    instance,
  }
  if (problem.errors) body.errors = problem.errors
  return body
}

export function sendProblem(reply: FastifyReply, req: FastifyRequest, problem: BrokerProblem): FastifyReply {
  const instance = req.url.split('?')[0] ?? ''
  return reply
    .code(problem.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send(JSON.stringify(problemBody(problem, instance)))
}
