import type { FastifyInstance } from 'fastify'
import { ApiError } from '../errors/api-error.js'
import type { AppDeps } from '../http/app-deps.js'
import { type Query, str } from '../http/query.js'
import { sendJson } from '../http/reply.js'
import { registryFailure } from '../messages/out/service-resolution.js'
import { NotFoundInServiceRegistryError } from '../registry/errors.js'
import { toCapabilities } from './mapper.js'
import { buildPrototype } from './prototype.js'

/** `GET /api/capabilities/{receiverIdentifier}` (§2.1) and `GET /api/prototype/{capability}` (ours). */
export function registerCapabilityRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<{ Params: { receiverIdentifier: string }; Querystring: Query }>(
    '/api/capabilities/:receiverIdentifier',
    async (req, reply) => {
      const securityLevel = integerParam(req.query, 'securityLevel')
      const process = str(req.query, 'process')
      try {
        const resource = await deps.registry.lookup({
          identifier: req.params.receiverIdentifier,
          process: process ?? null,
          securityLevel: securityLevel ?? null,
        })
        return sendJson(reply, toCapabilities(resource))
      } catch (error) {
        if (error instanceof NotFoundInServiceRegistryError) {
          throw new ApiError('IdentifierNotFound', [error.message], { cause: error })
        }
        throw registryFailure(
          error,
          () => new ApiError('ServiceRegistryBadAnswer', [(error as Error).message], { cause: error }),
        )
      }
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
