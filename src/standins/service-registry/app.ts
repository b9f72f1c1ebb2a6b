import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type pino from 'pino'
import type { Clock } from '../../util/time.js'
import type { Catalogue } from './catalog.js'
import { badRequest, SrError, springErrorBody } from './errors.js'
import { booleanParam, consumerOf, integerParam, prefersJose, refusedPath } from './request.js'
import { lookupCertificate, lookupIdentifier, lookupInfo } from './rules.js'
import type { RegistrySigner } from './signing.js'

/**
 * The registry's HTTP face (docs/service-registry-standin.md, "API"): every lookup as JSON, or as a
 * signed JWS when `Accept` prefers `application/jose`; only 200 answers are signed. Paths answer at
 * the root and under the real service's context path `/adressetjeneste`. The stand-in does not ask
 * for a Maskinporten token (it reads `consumer.ID` from one when sent, for print return addresses),
 * so `/sastoken` answers without one too (the real service: 401 without a token with the DPE scope).
 */
export interface RegistryAppDeps {
  /** the catalogue in force; a reload swaps it */
  catalogue(): Catalogue
  signer: RegistrySigner
  logger: pino.Logger
  clock: Clock
}

type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, unknown> }>

const PREFIXES = ['', '/adressetjeneste']
const JSON_TYPE = 'application/json'

export function buildRegistryApp(deps: RegistryAppDeps): FastifyInstance {
  // a log line per request only when the operator asks for debug logs
  const level = deps.logger.isLevelEnabled('debug') ? deps.logger.level : 'warn'
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'service-registry-http' }, { level }),
    // long identifiers must reach the identifier parser (a 400), not fall out of routing
    routerOptions: { maxParamLength: 2048 },
    // a malformed %-escape (400) or an over-long segment (414) get Spring's error page like the rest
    frameworkErrors: (error, req, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400
      return sendError(reply, req, new SrError(status, { kind: 'spring' }, error.message), deps)
    },
  }) as unknown as FastifyInstance
  app.addHook('onRequest', async (req, reply) => {
    const why = refusedPath(req.url.split('?')[0] ?? '')
    if (why) return sendError(reply, req, badRequest(why), deps)
  })
  for (const prefix of PREFIXES) registerLookups(app, prefix, deps)
  app.get('/health', async (_req, reply) => send(reply, JSON_TYPE, '{"status":"UP"}'))
  app.setNotFoundHandler((req, reply) => sendError(reply, req, new SrError(404, { kind: 'spring' }), deps))
  app.setErrorHandler((error: Error & { statusCode?: number }, req, reply) => {
    if (error instanceof SrError) return sendError(reply, req, error, deps)
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    if (status === 500) deps.logger.error({ err: error, url: req.url }, 'service-registry stand-in failed')
    return sendError(reply, req, new SrError(status, { kind: 'spring' }, error.message), deps)
  })
  return app
}

function registerLookups(app: FastifyInstance, prefix: string, deps: RegistryAppDeps): void {
  const identifier = async (req: Req, reply: FastifyReply) => {
    const entity = lookupIdentifier(deps.catalogue(), {
      identifier: req.params.identifier ?? '',
      process: req.params.process ?? null,
      securityLevel: integerParam('securityLevel', req.query.securityLevel),
      print: booleanParam('print', req.query.print, true),
      beta: booleanParam('X-Enable-Beta-Features', req.headers['x-enable-beta-features'], false),
      consumer: consumerOf(req.headers.authorization),
    })
    return sendAnswer(req, reply, JSON.stringify(entity), JSON_TYPE, deps)
  }
  app.get(`${prefix}/identifier/:identifier`, identifier)
  app.get(`${prefix}/identifier/:identifier/process/:process`, identifier)
  app.get(`${prefix}/info/:identifier`, async (req: Req, reply) => {
    const entity = lookupInfo(deps.catalogue(), req.params.identifier ?? '')
    return sendAnswer(req, reply, JSON.stringify(entity), JSON_TYPE, deps)
  })
  app.get(`${prefix}/virksert/:identifier`, async (req: Req, reply) => {
    const pem = lookupCertificate(deps.catalogue(), req.params.identifier ?? '')
    return sendAnswer(req, reply, pem, 'text/plain;charset=UTF-8', deps)
  })
  app.get(`${prefix}/jwk`, async (_req, reply) => send(reply, JSON_TYPE, deps.signer.jwkSetJson))
  app.get(`${prefix}/sastoken`, async (_req, reply) => {
    const { sasKey } = deps.catalogue().settings.dpe
    // as the reference's SasTokenController: 404 (no body) when no key is configured
    if (sasKey === null) throw new SrError(404, { kind: 'empty' })
    // signed whatever Accept says: the reference produces this answer as application/jose only
    return send(reply, 'application/jose', await deps.signer.sign(sasKey))
  })
}

async function sendAnswer(
  req: FastifyRequest,
  reply: FastifyReply,
  text: string,
  type: string,
  deps: RegistryAppDeps,
) {
  if (prefersJose(req.headers.accept)) {
    return send(reply, 'application/jose', await deps.signer.sign(text))
  }
  return send(reply, type, text)
}

function sendError(reply: FastifyReply, req: FastifyRequest, error: SrError, deps: RegistryAppDeps) {
  const { body } = error
  reply.code(error.status)
  if (body.kind === 'empty') return reply.send()
  if (body.kind === 'text') return send(reply, JSON_TYPE, body.text)
  if (body.kind === 'spring') {
    return send(reply, JSON_TYPE, springErrorBody(error.status, req.url.split('?')[0]!, deps.clock.now()))
  }
  return send(
    reply,
    JSON_TYPE,
    JSON.stringify({ error_code: body.code, error_description: body.description }),
  )
}

/** As bytes, so the content type goes out as given (Fastify adds `charset=utf-8` to JSON strings; Spring does not). */
function send(reply: FastifyReply, type: string, text: string): FastifyReply {
  return reply.header('content-type', type).send(Buffer.from(text, 'utf8'))
}
