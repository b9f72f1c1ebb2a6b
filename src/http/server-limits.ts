import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Config } from '../config/types.js'

/**
 * Slow and idle clients. Three limits, none on a request's total time: a 5 GiB upload that keeps sending,
 * however slowly, is never cut off.
 *
 * - idle (`server.tomcat.connection-timeout`): a connection that sends nothing for this long while a
 *   request is awaited or read (a stalled body included) is closed, as Tomcat's read timeout does;
 * - headers (`difi.move.http.headers-timeout-ms`): the request line and headers must be in within this
 *   however steadily they trickle (a client sending a byte a second would otherwise hold a connection
 *   for ever); it answers 408 (client-errors.ts). The TLS handshake gets the same limit;
 * - keep-alive (`server.tomcat.keep-alive-timeout`): an idle connection between requests.
 */
export type ServerLimits = Pick<Config['server'], 'idleTimeoutMs' | 'keepAliveTimeoutMs' | 'headersTimeoutMs'>

type Tls = { pfx: Buffer; passphrase?: string | undefined }

/** Fastify's server options for the limits (spread into `Fastify({...})`). */
export function serverTimeoutOptions(limits: ServerLimits, https: Tls | undefined) {
  const node = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: 0,
    // Node checks the headers deadline at this interval (30 s by default): check often enough to keep it
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(limits.headersTimeoutMs / 4))),
  }
  return {
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // never a cap on the whole request: uploads of GiBs are streamed for as long as they take
    requestTimeout: 0,
    ...(https ? { https: { ...https, ...node, handshakeTimeout: limits.headersTimeoutMs } } : { http: node }),
  }
}

/**
 * Node destroys a socket idle for `connectionTimeout` only when nobody listens for `timeout`; we listen,
 * so that a request that has fully arrived and whose handler is still at work (a slow ServiceRegistry,
 * a large file being committed) is not cut off for the server's own slowness. Everything else idle
 * (before the headers, a stalled body, between requests, a client that stopped reading our answer) is
 * closed.
 */
export function closeIdleConnections(server: Server): void {
  const current = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse }>()
  server.on('request', (req: IncomingMessage, res: ServerResponse) => current.set(req.socket, { req, res }))
  server.on('timeout', (socket: Socket) => {
    const at = current.get(socket)
    if (at?.req.complete && !at.res.headersSent && !at.res.writableEnded) return
    socket.destroy()
  })
}
