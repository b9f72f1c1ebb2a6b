import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type Caller, callerOf } from './auth.js'
import { badRequest, DpiProblem, notFound } from './errors.js'
import type { ProviderKeySource } from './keys.js'
import { acceptLetter, type SendDeps } from './send.js'
import type { LetterRow } from './store.js'

/** where the access point's API answers: the real one's base path, and the root */
export const API_PREFIXES = ['/api/v2/dpi', ''] as const

export interface RouteDeps extends SendDeps {
  keys: ProviderKeySource
  /** the stand-in's own URL, for `downloadurl` */
  baseUrl(): string
}

type Req = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>

/**
 * The C2 REST API the integration point calls (docs/dpi-standin.md, "API"), every call with a
 * Maskinporten token with scope `digitalpostinnbygger:send`; errors as problem+json.
 */
export function registerAccessPoint(app: FastifyInstance, deps: RouteDeps): void {
  const now = () => deps.clock.now()
  for (const prefix of API_PREFIXES) {
    app.post(`${prefix}/messages/out`, async (req: Req, reply) => {
      const caller = callerOf(req.headers.authorization, now())
      if (!/^multipart\/form-data/i.test(req.headers['content-type'] ?? ''))
        throw new DpiProblem(415, 'multipart', 'POST /messages/out takes multipart/form-data')
      const kanal = req.query.kanal ?? ''
      const { letter, resent } = await acceptLetter(deps, caller, kanal, {
        headers: req.headers,
        stream: req.raw,
      })
      deps.logger.info({ id: letter.id, type: letter.type, kanal, resent }, 'dpi letter accepted')
      return reply.code(201).send()
    })
    app.get(`${prefix}/messages/out/:id/statuses`, async (req: Req, reply) => {
      const caller = callerOf(req.headers.authorization, now())
      const letter = deps.store.byId(req.params.id)
      if (!letter || !owns(caller, letter)) throw notFound(`No message ${req.params.id}`)
      return json(
        reply,
        deps.store.statuses(letter.id).map((s) => ({
          status: s.status,
          ...(s.beskrivelse ? { beskrivelse: s.beskrivelse } : {}),
          timestamp: new Date(s.timestamp).toISOString(),
        })),
      )
    })
    app.get(`${prefix}/messages/in`, async (req: Req, reply) => {
      const caller = callerOf(req.headers.authorization, now())
      const size = intParam('page_size', req.query.page_size, deps.settings.defaultPageSize, 1)
      const page = intParam('page', req.query.page, 0, 0)
      const receipts = deps.store.inbox({
        orgs: [...new Set([caller.consumer, caller.signer])],
        kanal: req.query.kanal || null,
        avsenderidentifikator: req.query.avsenderidentifikator || null,
        limit: size,
        offset: page * size,
      })
      if (receipts.length === 0) return reply.code(204).send()
      return json(
        reply,
        receipts.map((r) => ({
          forretningsmelding: r.jws,
          downloadurl: `${deps.baseUrl()}${prefix}/messages/in/${r.id}`,
        })),
      )
    })
    // receipts carry no package: there is nothing to download (the reference never calls it)
    app.get(`${prefix}/messages/in/:id`, async (req: Req) => {
      callerOf(req.headers.authorization, now())
      throw notFound(`No package to download for ${req.params.id}: receipts have none`)
    })
    app.post(`${prefix}/messages/in/:id/read`, async (req: Req, reply) => {
      const caller = callerOf(req.headers.authorization, now())
      const receipt = deps.store.receipt(req.params.id)
      const mine =
        receipt &&
        [receipt.sender_org, receipt.avsender_org].some((o) => o === caller.consumer || o === caller.signer)
      if (!receipt || !mine || !deps.store.markRead(receipt.id, now().getTime()))
        throw notFound(`No unread message ${req.params.id}`)
      return reply.code(200).send()
    })
  }
  app.get('/rest/v2/printSertifikat', async (_req, reply) => {
    const provider = deps.settings.printProvider
    const keys = await deps.keys.get(provider)
    if (!keys)
      throw new DpiProblem(
        503,
        'no-print-provider',
        `The print provider ${provider} has no generated certificate in the ServiceRegistry stand-in's data folder`,
      )
    return json(reply, { postkasseleverandoerAdresse: provider, x509Sertifikat: keys.certPem })
  })
}

/** the caller speaks for the letter's sender or the organisation it was sent on behalf of */
export const owns = (caller: Caller, letter: LetterRow) =>
  [letter.sender_org, letter.avsender_org].some((o) => o === caller.consumer || o === caller.signer)

function intParam(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined || value === '') return fallback
  if (!/^[0-9]{1,9}$/.test(value) || Number(value) < min)
    throw badRequest('query', `${name} must be a whole number of at least ${min}, not "${value}"`)
  return Number(value)
}

export function json(reply: FastifyReply, value: unknown) {
  return reply.header('content-type', 'application/json').send(JSON.stringify(value))
}
