import type { FastifyInstance, HTTPMethods } from 'fastify'
import { CORRELATION_ID } from '../util/log.js'

/**
 * Requests about one message (`/api/messages/out/{messageId}`, `/api/messages/in/pop/{messageId}`,
 * `/api/statuses/{messageId}`, ..., and the operator's `/messages/{messageId}` pages) log with its `correlation_id`, from "incoming request" to "request
 * completed". Fastify logs the first line before any hook runs, so the id is bound where Fastify makes
 * the request's logger; the route is looked up again for its parameters (microseconds, /api and /messages only).
 * Fastify's request lines carry method, URL, status and time, never headers or bodies, so neither the
 * Authorization header nor a payload reaches the log. Call this before the routes are registered.
 */
export function correlateRequestLogs(app: FastifyInstance): void {
  app.setChildLoggerFactory(function (this: FastifyInstance, logger, bindings, opts, raw) {
    const id = messageIdOf(this, raw.method, raw.url)
    return logger.child(id ? { ...bindings, [CORRELATION_ID]: id } : bindings, opts)
  })
}

function messageIdOf(
  app: FastifyInstance,
  method: string | undefined,
  url: string | undefined,
): string | null {
  if (!method || !url || !(url.startsWith('/api/') || url.startsWith('/messages/'))) return null
  const q = url.indexOf('?')
  const route = app.findRoute({ method: method as HTTPMethods, url: q < 0 ? url : url.slice(0, q) })
  const id = (route?.params as Record<string, string> | undefined)?.messageId
  return id || null
}
