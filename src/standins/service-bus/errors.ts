import type { FastifyReply } from 'fastify'
import { esc } from '../page-text.js'

/**
 * A Service Bus REST error: Azure answers with a small XML document, `<Error><Code>…</Code><Detail>…</Detail></Error>`.
 * Clients switch on the status alone (the reference's RestTemplate error handler).
 */
export class ServiceBusError extends Error {
  override name = 'ServiceBusError'
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export const badRequest = (detail: string) => new ServiceBusError(400, detail)
export const unauthorized = (detail: string) => new ServiceBusError(401, detail)
export const notFound = (detail: string) => new ServiceBusError(404, detail)

export function sendError(reply: FastifyReply, error: ServiceBusError) {
  return reply
    .code(error.status)
    .header('content-type', 'application/xml; charset=utf-8')
    .send(`<Error><Code>${error.status}</Code><Detail>${esc(error.message)}</Detail></Error>`)
}
