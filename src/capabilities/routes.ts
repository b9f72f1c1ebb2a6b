import type { FastifyInstance } from 'fastify'
import { ApiError } from '../errors/api-error.js'
import type { AppDeps } from '../http/app-deps.js'
import { type Query, str } from '../http/query.js'
import { sendJson } from '../http/reply.js'
import { lookupReceiver } from './lookup.js'
import { toCapabilities } from './mapper.js'
import { buildPrototype } from './prototype.js'

/** `GET /api/capabilities/{receiverIdentifier}` (§2.1) and `GET /api/prototype/{capability}` (ours). */
export function registerCapabilityRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<{ Params: { receiverIdentifier: string }; Querystring: Query }>(
    '/api/capabilities/:receiverIdentifier',
    async (req, reply) => {
      const securityLevel = integerParam(req.query, 'securityLevel')
      const process = str(req.query, 'process')
      const resource = await lookupReceiver(deps.registry, {
        identifier: req.params.receiverIdentifier,
        process: process ?? null,
        securityLevel: securityLevel ?? null,
      })
      return sendJson(reply, toCapabilities(resource))
    },
  )

  app.get<{ Params: { capability: string }; Querystring: Query }>(
    '/api/prototype/:capability',
    async (req, reply) => {
      const sbd = await buildPrototype(deps, {
        capability: req.params.capability,
        receiverIdentifier: str(req.query, 'receiverIdentifier'),
        process: str(req.query, 'process'),
      })
      return sendJson(reply, sbd)
    },
  )
}

/** An `Integer` request parameter: anything else is the reference's 400 type mismatch. */
export function integerParam(query: Query, name: string): number | undefined {
  const v = str(query, name)
  if (v === undefined) return undefined
  if (!/^-?\d{1,9}$/.test(v)) {
    throw new ApiError('ArgumentTypeMismatch', [
      `Method parameter '${name}': Failed to convert value of type 'java.lang.String' to required type 'java.lang.Integer'; For input string: "${v}"`,
    ])
  }
  return Number(v)
}
