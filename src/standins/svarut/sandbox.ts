import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { discardMultipart } from '../../files/multipart.js'
import { badRequest, notFound, SvarUtError } from './errors.js'
import { toSandboxItem } from './mapper.js'
import { renderPage } from './page.js'
import { commit, readUpload, route, type SvarUtDeps } from './send.js'
import { type ForsendelseRow, type ForsendelseStatus, STATUSES } from './store.js'

/**
 * For people and scripts, with no credentials (docs/svarut-standin.md, "Sandbox"): what the stand-in
 * holds per receiver, the receiver's read, the hooks that move a forsendelse as SvarUt's own processes
 * would (AVVIST, IKKE_LEVERT, SENDT_PRINT, ...), a municipality's answer sent to an organisation's
 * SvarInn, and SvarUt's certificate.
 */
export const SANDBOX_API = '/sandbox/api'

/** a receiver can read what reached it, in SvarInn or by notice; anything final stays as it is */
const READABLE: ForsendelseStatus[] = [
  'KLAR_FOR_MOTTAK',
  'VARSLET',
  'SENDT_PRINT',
  'PRINTET',
  'SENDT_DIGITALT',
]

type Req = FastifyRequest<{
  Params: { id: string; idx: string }
  Querystring: Record<string, string | undefined>
}>

export function registerSandbox(app: FastifyInstance, deps: SvarUtDeps): void {
  const item = (row: ForsendelseRow) =>
    toSandboxItem(row, deps.store.dokumenter(row.id), deps.store.hendelser(row.id))
  const existing = (id: string) => {
    const row = deps.store.byId(id)
    if (!row) throw notFound(`Forsendelse ${id} finnes ikke`)
    return row
  }
  const now = () => deps.clock.now().getTime()

  app.get(`${SANDBOX_API}/forsendelser`, async (req: Req, reply) =>
    json(reply, deps.store.all(req.query.mottaker || undefined).map(item)),
  )
  app.get(`${SANDBOX_API}/forsendelser/:id`, async (req: Req, reply) =>
    json(reply, item(existing(req.params.id))),
  )
  app.post(`${SANDBOX_API}/forsendelser/:id/read`, async (req: Req, reply) => {
    read(deps, existing(req.params.id))
    return json(reply, item(existing(req.params.id)))
  })
  app.post(`${SANDBOX_API}/forsendelser/:id/status`, async (req: Req, reply) => {
    const row = existing(req.params.id)
    const body = (req.body ?? {}) as { status?: unknown; hendelse?: unknown }
    const status = STATUSES.find((s) => s === body.status)
    if (!status) throw badRequest(`status må være en av ${STATUSES.join(', ')}`)
    const text =
      typeof body.hendelse === 'string' && body.hendelse ? body.hendelse : `Status satt til ${status}`
    deps.store.setStatus(row.id, status, now(), text)
    return json(reply, item(existing(row.id)))
  })
  app.post(`${SANDBOX_API}/forsendelser`, async (req, reply) => {
    let upload: Awaited<ReturnType<typeof readUpload>> | undefined
    try {
      upload = await readUpload(deps, { headers: req.headers, stream: req.raw })
      const id = await sendAnswer(deps, upload)
      return json(reply, item(existing(id)))
    } finally {
      if (upload) await discardMultipart(upload.form)
    }
  })
  app.get(`${SANDBOX_API}/certificate`, async (_req, reply) =>
    reply.header('content-type', 'application/x-pem-file').send(deps.keys.certPem),
  )

  app.get('/sandbox', async (req: Req, reply) => {
    const mottaker = req.query.mottaker || undefined
    const rows = deps.store.all(mottaker)
    const page = renderPage(
      rows.map((row) => ({
        row,
        dokumenter: deps.store.dokumenter(row.id),
        readable: READABLE.includes(row.status),
      })),
      mottaker,
    )
    return reply.header('content-type', 'text/html; charset=utf-8').send(page)
  })
  app.post('/sandbox/forsendelser/:id/read', async (req: Req, reply) => {
    read(deps, existing(req.params.id))
    const mottaker = req.query.mottaker
    return reply.redirect(mottaker ? `/sandbox?mottaker=${encodeURIComponent(mottaker)}` : '/sandbox', 303)
  })
  app.get('/sandbox/forsendelser/:id/dokumenter/:idx', async (req: Req, reply) => {
    const row = existing(req.params.id)
    const d = deps.store.dokumenter(row.id).find((x) => String(x.idx) === req.params.idx)
    if (!d) throw notFound(`Dokument ${req.params.idx} finnes ikke`)
    return reply
      .header('content-type', d.mime_type)
      .header('content-length', d.size)
      .header('content-disposition', `attachment; filename="${d.filnavn.replace(/["\\\r\n]/g, '_')}"`)
      .send(deps.files.read(row.id, d.idx))
  })
}

/** The receiver reads it (in its digital mailbox, or its archive took it in): LEST, as SvarUt records. */
function read(deps: SvarUtDeps, row: ForsendelseRow): void {
  if (row.status === 'LEST') return
  if (!READABLE.includes(row.status))
    throw new SvarUtError(409, `Forsendelse ${row.id} er ${row.status} og kan ikke leses`, 'KAN_IKKE_LESES')
  deps.store.setStatus(row.id, 'LEST', deps.clock.now().getTime(), 'Lest av mottaker (sandkassen)', READABLE)
}

/**
 * A municipality's forsendelse to an organisation's SvarInn: a `forsendelse` JSON part with `avsender`,
 * `mottaker` (organisation numbers) and `tittel` (optionally `avsenderNavn`, `mottakerNavn`,
 * `svarPaForsendelse`, `eksternRef`, `niva`, `forsendelsestype`, `metadataFraAvleverendeSystem` as in v3),
 * then the documents in plaintext; downloads are encrypted as SvarUt does (CMS of a zip).
 */
async function sendAnswer(deps: SvarUtDeps, upload: Awaited<ReturnType<typeof readUpload>>): Promise<string> {
  let f: Record<string, unknown>
  try {
    f = JSON.parse(upload.json)
  } catch (error) {
    throw badRequest(`Forsendelsen er ikke gyldig JSON: ${(error as Error).message}`)
  }
  const avsender = orgnr(f.avsender, 'avsender')
  const mottaker = orgnr(f.mottaker, 'mottaker')
  if (typeof f.tittel !== 'string' || !f.tittel) throw badRequest('tittel må være satt')
  if (upload.documents.length === 0) throw badRequest('Forsendelsen må ha minst ett dokument')
  const niva = f.niva === 4 || f.niva === '4' ? 4 : 3
  const type = typeof f.forsendelsestype === 'string' ? f.forsendelsestype : null
  const system = route(deps.settings.mottakersystemer, mottaker, type, niva)
  if (!system) throw badRequest(`${mottaker} har ikke noe SvarInn-mottakersystem i stand-in-en`)
  const avsenderNavn = typeof f.avsenderNavn === 'string' ? f.avsenderNavn : `Kommune ${avsender}`
  const request = {
    tittel: f.tittel,
    avsenderNavn,
    mottaker: { navn: typeof f.mottakerNavn === 'string' ? f.mottakerNavn : mottaker, digitalId: mottaker },
    svarSendesTil: {
      navn: avsenderNavn,
      type: 'ORGANISASJON',
      digitalId: avsender,
      adresse: { adresselinje1: 'Rådhuset', postnummer: '0001', poststed: 'KOMMUNE' },
    },
    sikkerhetsniva: niva === 4 ? 'HOYESTE' : 'BETYDELIG',
    svarPaForsendelseId: typeof f.svarPaForsendelse === 'string' ? f.svarPaForsendelse : null,
    forsendelsestype: type,
    eksternReferanse: typeof f.eksternRef === 'string' ? f.eksternRef : null,
    metadataFraAvleverendeSystem: f.metadataFraAvleverendeSystem ?? {},
    dokumenter: upload.documents.map((d) => ({
      filnavn: d.filename,
      mimeType: d.mimeType || 'application/octet-stream',
    })),
  }
  return commit(deps, {
    konto_id: null,
    avsender_orgnr: avsender,
    mottaker_orgnr: mottaker,
    eksternref: request.eksternReferanse,
    tittel: f.tittel,
    request: JSON.stringify(request),
    status: 'KLAR_FOR_MOTTAK',
    mottakersystem: system.username,
    dokumenter: upload.documents.map((d) => ({
      filnavn: d.filename,
      mime_type: d.mimeType || 'application/octet-stream',
      size: d.size,
      sha256: d.sha256,
      tempPath: d.tempPath,
    })),
    hendelser: ['Mottatt (sandkassen)', 'Akseptert', `Klar for mottak i SvarInn (${system.username})`],
  })
}

function orgnr(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^[0-9]{9}$/.test(value))
    throw badRequest(`${field} må være et organisasjonsnummer`)
  return value
}

function json(reply: FastifyReply, value: unknown) {
  return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(value))
}
