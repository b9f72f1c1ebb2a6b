import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import yazl from 'yazl'
import { encryptStream } from '../../packaging/cms.js'
import { mottakersystemOf } from './auth.js'
import { badRequest, notFound } from './errors.js'
import { receiverCertificate } from './keys.js'
import { toSvarInn } from './mapper.js'
import type { SvarUtDeps } from './send.js'
import type { ForsendelseRow } from './store.js'

/** SvarInn's base path (the receiving IP's `difi.move.fiks.inn.baseUrl` is `{host}/tjenester/svarinn`) */
export const SVARINN_BASE = '/tjenester/svarinn'

type Req = FastifyRequest<{ Params: { id: string } }>

/**
 * SvarInn ("Mottaksservice V1"), HTTP Basic per mottakersystem: list what waits, download one as
 * CMS(zip of its documents) encrypted to the mottakersystem's certificate, acknowledge (→ LEST) or
 * report a failure (permanent: it goes the notice-and-print way instead, VARSLET).
 */
export function registerSvarInn(app: FastifyInstance, deps: SvarUtDeps, baseUrl: () => string): void {
  const own = (req: Req) => {
    const system = mottakersystemOf(deps.settings, req.headers.authorization)
    const row = deps.store.byId(req.params.id)
    // another system's forsendelse is as unknown as a missing one
    if (!row || row.mottakersystem !== system.username)
      throw notFound(`Forsendelse ${req.params.id} finnes ikke for mottakersystem ${system.username}`)
    return { system, row }
  }
  const now = () => deps.clock.now().getTime()

  app.get(`${SVARINN_BASE}/mottaker/hentNyeForsendelser`, async (req, reply) => {
    const system = mottakersystemOf(deps.settings, req.headers.authorization)
    const base = baseUrl()
    const list = deps.store
      .klarForMottak(system.username)
      .map((row) => toSvarInn(row, deps.store.dokumenter(row.id), base))
    return json(reply, list)
  })

  app.get(`${SVARINN_BASE}/forsendelse/:id`, async (req: Req, reply) => {
    const { system, row } = own(req)
    const cert = await receiverCertificate(system, deps.settings.serviceRegistryUrl)
    const body = zipOf(deps, row).pipe(encryptStream(cert))
    // counted when the whole body went to the socket: a cut-off download is no download (nor one
    // whose 'finish' comes after the stand-in has closed its store)
    reply.raw.once('finish', () => {
      if (reply.raw.statusCode === 200 && deps.store.isOpen()) {
        deps.store.countDownload(row.id)
        deps.store.addHendelse(row.id, now(), `Lastet ned av mottakersystem ${system.username}`)
      }
    })
    return reply
      .header('content-type', 'application/zip')
      .header('content-disposition', `attachment; filename="${row.id}.zip"`)
      .send(body)
  })

  app.post(`${SVARINN_BASE}/kvitterMottak/forsendelse/:id`, async (req: Req, reply) => {
    const { system, row } = own(req)
    // repeating it is harmless: a lost answer makes the receiver try again
    deps.store.setStatus(row.id, 'LEST', now(), `Mottak kvittert av mottakersystem ${system.username}`, [
      'KLAR_FOR_MOTTAK',
    ])
    return reply.code(200).send()
  })

  app.post(`${SVARINN_BASE}/mottakFeilet/forsendelse/:id`, async (req: Req, reply) => {
    const { system, row } = own(req)
    const body = (req.body ?? {}) as { feilmelding?: unknown; permanent?: unknown }
    if (typeof body !== 'object' || (body.permanent !== undefined && typeof body.permanent !== 'boolean'))
      throw badRequest('Body må være {"feilmelding": "...", "permanent": true|false}')
    const text = `Mottak feilet hos ${system.username}${body.permanent ? ' (permanent)' : ''}: ${String(body.feilmelding ?? '')}`
    if (body.permanent === true && row.status === 'KLAR_FOR_MOTTAK') {
      deps.store.setStatus(row.id, 'VARSLET', now(), text, ['KLAR_FOR_MOTTAK'])
    } else deps.store.addHendelse(row.id, now(), text)
    return reply.code(200).send()
  })
}

/** The documents as one zip, each entry named by its filnavn, read from disk as the zip is written. */
function zipOf(deps: SvarUtDeps, row: ForsendelseRow) {
  const zip = new yazl.ZipFile()
  for (const d of deps.store.dokumenter(row.id)) {
    zip.addReadStreamLazy(d.filnavn, { size: d.size }, (cb) => cb(null, deps.files.read(row.id, d.idx)))
  }
  zip.end()
  return zip.outputStream
}

function json(reply: FastifyReply, value: unknown) {
  return reply.header('content-type', 'application/json;charset=UTF-8').send(JSON.stringify(value))
}
