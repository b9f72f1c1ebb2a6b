import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type pino from 'pino'
import { callerOf, issueToken, organisationOf, scopeOf } from './auth.js'
import { registerCorrespondenceApi } from './correspondence/routes.js'
import type { CorrespondenceDeps } from './correspondence/service.js'
import { type BrokerFaults, installFaults } from './faults.js'
import { toOverview } from './mapper.js'
import { GrantError, grant } from './maskinporten.js'
import { BROKER_BASE, EXCHANGE_PATH, HEALTH_PROBE_PATH, MASKINPORTEN_PATH } from './paths.js'
import { BrokerProblem, badRequest, sendProblem } from './problem.js'
import { registerSandboxApi } from './sandbox-api.js'
import type { FileTransferStatus, RecipientStatus } from './store.js'
import {
  confirmDownload,
  download,
  initialize,
  overview,
  purgeDue,
  recipientForms,
  type TransferDeps,
  upload,
} from './transfers.js'
import { parseInitialize } from './validation.js'

/**
 * The broker's HTTP face: the subset of the Altinn 3 Broker API the integration point calls
 * (docs/altinn-broker-standin.md, "Endpoints"; paths under `/broker/api/v1`), Altinn's token exchange,
 * and `/health`.
 */
export { BROKER_BASE, EXCHANGE_PATH, MASKINPORTEN_PATH } from './paths.js'

/** as Altinn's, the list answers at most the 100 most recently created */
const LIST_LIMIT = 100

const TRANSFER_STATUSES: FileTransferStatus[] = [
  'Initialized',
  'UploadStarted',
  'UploadProcessing',
  'Published',
  'Cancelled',
  'AllConfirmedDownloaded',
  'Purged',
  'Failed',
]
const RECIPIENT_STATUSES: RecipientStatus[] = ['Initialized', 'DownloadStarted', 'DownloadConfirmed']

type Req = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>

export function buildBrokerApp(
  deps: TransferDeps & { logger: pino.Logger; faults?: BrokerFaults; correspondence?: CorrespondenceDeps },
) {
  const level = deps.logger.isLevelEnabled('debug') ? deps.logger.level : 'warn'
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'altinn-broker-http' }, { level }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    // close() must not wait for a client's kept-alive connection (or a half-read upload) to go
    forceCloseConnections: true,
    frameworkErrors: (error, req, reply) =>
      sendProblem(reply, req, new BrokerProblem(statusOf(error), error.message)),
  }) as unknown as FastifyInstance
  installParsers(app)
  installFaults(app, deps.faults)
  app.setErrorHandler((error: Error & { statusCode?: number }, req, reply) => {
    if (error instanceof BrokerProblem) return sendProblem(reply, req, error)
    const status = statusOf(error)
    if (status >= 500) deps.logger.error({ err: error, url: req.url }, 'altinn broker stand-in failed')
    return sendProblem(
      reply,
      req,
      new BrokerProblem(status, status >= 500 ? 'Internal error' : error.message),
    )
  })
  app.setNotFoundHandler((req, reply) =>
    sendProblem(
      reply,
      req,
      new BrokerProblem(404, `No such endpoint: ${req.method} ${req.url.split('?')[0]}`),
    ),
  )
  app.get('/health', async (_req, reply) =>
    reply.header('content-type', 'application/json').send(Buffer.from('{"status":"UP"}')),
  )
  app.post(MASKINPORTEN_PATH, async (req, reply) => {
    try {
      const answer = await grant(new URLSearchParams(String(req.body ?? '')), deps.clock)
      return reply.header('content-type', 'application/json').send(JSON.stringify(answer))
    } catch (error) {
      if (!(error instanceof GrantError)) throw error
      return reply
        .code(400)
        .header('content-type', 'application/json')
        .send(JSON.stringify({ error: error.error, error_description: error.description }))
    }
  })
  app.get(EXCHANGE_PATH, async (req, reply) => {
    const org = organisationOf(req.headers.authorization, deps.clock.now())
    return reply
      .header('content-type', 'text/plain; charset=utf-8')
      .send(issueToken(deps.store, org, deps.clock, scopeOf(req.headers.authorization)))
  })
  registerTransfers(app, deps)
  registerSandboxApi(app, deps)
  app.get(HEALTH_PROBE_PATH, async (_req, reply) => reply.code(200).send())
  if (deps.correspondence) registerCorrespondenceApi(app, { ...deps.correspondence, tokens: deps.store })
  return app
}

function registerTransfers(app: FastifyInstance, deps: TransferDeps): void {
  const caller = (req: FastifyRequest) => {
    const org = callerOf(deps.store, req.headers.authorization, deps.clock)
    purgeDue(deps)
    return org
  }
  const json = (reply: FastifyReply, value: unknown) =>
    reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(value))
  const base = `${BROKER_BASE}/filetransfer`
  app.post(base, async (req, reply) => {
    const org = caller(req)
    return json(reply, { fileTransferId: initialize(deps, org, parseInitialize(req.body)) })
  })
  app.post(`${base}/:id/upload`, async (req: Req, reply) => {
    const org = caller(req)
    const length = req.headers['content-length'] ? Number(req.headers['content-length']) : undefined
    try {
      await upload(deps, org, req.params.id, req.raw, length)
    } catch (error) {
      // The rest of a refused body is read and dropped, up to the resource's limit, so the sender gets
      // the answer rather than a reset connection (which it could only take for a network fault and
      // retry); past that the connection closes after the answer.
      if (!req.raw.readableEnded && !(await drain(req.raw, deps.resource('').maxFileTransferSize)))
        reply.header('connection', 'close')
      throw error
    }
    return json(reply, { fileTransferId: req.params.id.toLowerCase() })
  })
  app.get(base, async (req: Req, reply) => json(reply, deps.store.list(listFilter(caller(req), req.query))))
  app.get(`${base}/:id`, async (req: Req, reply) => {
    const row = overview(deps, caller(req), req.params.id)
    return json(reply, toOverview(row, deps.store.recipients(row.id)))
  })
  app.get(`${base}/:id/download`, async (req: Req, reply) => {
    const { row, stream } = download(deps, caller(req), req.params.id)
    // one download is the whole body handed to the socket: a transfer cut off (a reset, a dropped
    // answer, a failed read) emits no 'finish', an error answered instead is not a 200, a HEAD sends none
    reply.raw.once('finish', () => {
      if (reply.raw.statusCode === 200 && req.method === 'GET') deps.store.countDownload(row.id)
    })
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', row.size)
      .header('content-disposition', `attachment; filename="${row.file_name.replace(/["\\\r\n]/g, '_')}"`)
      .send(stream)
  })
  app.post(`${base}/:id/confirmdownload`, async (req: Req, reply) => {
    confirmDownload(deps, caller(req), req.params.id)
    return reply.code(200).send()
  })
}

function listFilter(org: string, query: Record<string, string | undefined>) {
  return {
    recipients: recipientForms(org),
    resourceId: query.resourceId || undefined,
    status: oneOf('status', query.status, TRANSFER_STATUSES),
    recipientStatus: oneOf('recipientStatus', query.recipientStatus, RECIPIENT_STATUSES),
    from: instant('from', query.from),
    to: instant('to', query.to),
    limit: LIST_LIMIT,
  }
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: T[]): T | undefined {
  if (value === undefined || value === '') return undefined
  // ASP.NET binds enums case-insensitively
  const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase())
  if (!found) throw badRequest(`The value '${value}' is not valid for ${name}: one of ${allowed.join(', ')}`)
  return found
}

function instant(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(ms)) throw badRequest(`The value '${value}' is not a valid date-time for ${name}`)
  return ms
}

/** JSON bodies may be empty (confirmdownload); octet-stream bodies are left unread for the upload to stream. */
function installParsers(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    if (String(text).trim() === '') return done(null, undefined)
    try {
      done(null, JSON.parse(String(text)))
    } catch (error) {
      done(badRequest(`The request body is not valid JSON: ${(error as Error).message}`), undefined)
    }
  })
  app.addContentTypeParser('application/octet-stream', (_req, _payload, done) => done(null, undefined))
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, text, done) =>
    done(null, String(text)),
  )
}

/** Reads and drops what is left of a body, at most `max` bytes; true when it ended. */
async function drain(body: NodeJS.ReadableStream & { destroyed?: boolean }, max: number): Promise<boolean> {
  let seen = 0
  try {
    for await (const chunk of body) {
      seen += (chunk as Buffer).length
      if (seen > max) return false
    }
    return true
  } catch {
    return false
  }
}

function statusOf(error: { statusCode?: number }): number {
  const status = error.statusCode ?? 500
  return status >= 400 && status < 600 ? status : 500
}
