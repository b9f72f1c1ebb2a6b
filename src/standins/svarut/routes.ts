import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { discardMultipart } from '../../files/multipart.js'
import { integrasjonOf, kontoOf } from './auth.js'
import { badRequest, notFound } from './errors.js'
import { toHendelse, toStatus } from './mapper.js'
import { readUpload, type SvarUtDeps, sendForsendelse } from './send.js'

/**
 * SvarUt's REST API as the integration point calls it (docs/svarut-standin.md, "Endpoints"): v3 send to
 * an organisation and status search; v2 eksternRef lookup, forsendelsestyper and hendelser.
 */
type Req = FastifyRequest<{
  Params: { kontoId: string; id: string }
  Querystring: Record<string, string | undefined>
}>

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function registerSvarUtApi(app: FastifyInstance, deps: SvarUtDeps): void {
  const caller = (req: FastifyRequest) => integrasjonOf(deps.settings, req.headers, deps.clock.now())
  const konto = (req: Req) => kontoOf(deps.settings, caller(req), req.params.kontoId)

  app.post('/api/v3/kontoer/:kontoId/forsendelser/organisasjon', async (req: Req, reply) => {
    let upload: Awaited<ReturnType<typeof readUpload>> | undefined
    try {
      const k = konto(req)
      upload = await readUpload(deps, { headers: req.headers, stream: req.raw })
      const id = await sendForsendelse(deps, k, upload)
      // as SvarUt: 200, never 201 (KS's client takes any other status as an error)
      return json(reply, { id })
    } catch (error) {
      // a refusal before the body's end: answer, then close, rather than read the rest
      if (!req.raw.readableEnded) reply.header('connection', 'close')
      throw error
    } finally {
      if (upload) await discardMultipart(upload.form)
    }
  })

  app.post('/api/v3/kontoer/:kontoId/forsendelser/status/sok', async (req: Req, reply) => {
    const k = konto(req)
    const ids = (req.body as { id?: unknown } | undefined)?.id
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' || !UUID.test(id)))
      throw badRequest('Body må være {"id": [<uuid>, ...]}')
    // unknown ids and other kontoer's forsendelser are left out, not errors
    const rows = (ids as string[])
      .map((id) => deps.store.byId(id))
      .filter((row) => row !== undefined && row.konto_id === k.id)
    return json(reply, { statuser: rows.map((row) => toStatus(row!)) })
  })

  app.get('/api/v2/kontoer/:kontoId/forsendelser', async (req: Req, reply) => {
    const k = konto(req)
    const ref = req.query.eksternRef
    if (!ref) throw badRequest('Parameteren eksternRef må være satt')
    return json(reply, { forsendelseIds: deps.store.byEksternRef(k.id, ref) })
  })

  app.get('/api/v2/forsendelsestyper', async (req, reply) => {
    caller(req)
    return json(reply, { forsendelsestyper: deps.settings.forsendelsestyper })
  })

  app.get('/api/v2/forsendelser/:id/hendelser', async (req: Req, reply) => {
    const integrasjon = caller(req)
    const row = deps.store.byId(req.params.id)
    const kontoId = row?.konto_id?.toLowerCase()
    if (!row || !kontoId || !integrasjon.kontoer.some((k) => k.toLowerCase() === kontoId))
      throw notFound(`Forsendelse ${req.params.id} finnes ikke`)
    return json(reply, { hendelser: deps.store.hendelser(row.id).map(toHendelse) })
  })
}

function json(reply: FastifyReply, value: unknown) {
  return reply.header('content-type', 'application/json').send(JSON.stringify(value))
}
