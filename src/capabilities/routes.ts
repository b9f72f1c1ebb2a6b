import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../http/app-deps.js'
import { bindQuery, type Query, type QueryParam } from '../http/query.js'
import { sendJson } from '../http/reply.js'
import { lookupReceiver } from './lookup.js'
import { toCapabilities } from './mapper.js'
import { buildPrototype } from './prototype.js'

const processParam = {
  name: 'process',
  kind: 'string',
  doc: 'Only this process (a process URN, e.g. `urn:no:difi:profile:arkivmelding:administrasjon:ver1.0`).',
} as const

export const CAPABILITY_PARAMS = [
  { name: 'securityLevel', kind: 'int', doc: 'The security level the receiver must log in with (3 or 4).' },
  processParam,
] as const satisfies readonly QueryParam[]

export const PROTOTYPE_PARAMS = [
  {
    name: 'receiverIdentifier',
    kind: 'string',
    doc: 'The receiver: organisation number, fødselsnummer/D-nummer or NHN identifier. Required except for `print`.',
  },
  processParam,
] as const satisfies readonly QueryParam[]

/** `GET /api/capabilities/{receiverIdentifier}` and `GET /api/prototype/{capability}` (ours). */
export function registerCapabilityRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<{ Params: { receiverIdentifier: string }; Querystring: Query }>(
    '/api/capabilities/:receiverIdentifier',
    async (req, reply) => {
      const { securityLevel, process } = bindQuery(req.query, CAPABILITY_PARAMS)
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
      const { receiverIdentifier, process } = bindQuery(req.query, PROTOTYPE_PARAMS)
      const sbd = await buildPrototype(deps, {
        capability: req.params.capability,
        receiverIdentifier,
        process,
      })
      return sendJson(reply, sbd)
    },
  )
}
