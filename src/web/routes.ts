import { Readable } from 'node:stream'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ApiError } from '../errors/api-error.js'
import { payloadStoreKind, smallSendsInDatabase } from '../files/choose-store.js'
import type { AppDeps } from '../http/app-deps.js'
import { buildInfo } from '../ops/info.js'
import type { Ops } from '../ops/ops.js'
import { ACTIONS, type ActionName, confirmPage, crossSiteReason, OUTCOMES, retry, unlock } from './actions.js'
import { capabilitiesAnswer } from './capabilities-page.js'
import { configurationPage } from './configuration-page.js'
import { listConversations, parseListQuery } from './conversations-data.js'
import { conversationsPage } from './conversations-page.js'
import { messageHref } from './html.js'
import { errorPage, type Shell, sendPage } from './layout.js'
import { loadMessage, planRetry } from './message-data.js'
import { messagePage } from './message-page.js'
import { loadOverview, overviewPage } from './overview-page.js'
import { param, type Query, WebError } from './params.js'
import { STYLE_CSS } from './style.js'

type ByMessage = { Params: { messageId: string; action?: string } }

const PAGE_PREFIXES = ['/conversations', '/messages', '/capabilities', '/configuration', '/web']

/** The paths of the pages, which the app puts behind the API's Basic auth (src/http/app.ts). */
export function isWebPath(path: string): boolean {
  return path === '/' || PAGE_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))
}

/**
 * The operator's pages (issue 8), server-rendered HTML behind the API's Basic auth. Register in a scope
 * of its own: the error handler here answers with pages, the API's keeps answering with JSON.
 */
export async function registerWebRoutes(app: FastifyInstance, deps: AppDeps, ops: Ops): Promise<void> {
  const shell: Shell = { org: deps.config.org.number, version: buildInfo().version }
  const now = () => deps.clock.now().getTime()
  const db = deps.db
  // a page outside isWebPath would be served without the password: refuse to register it
  app.addHook('onRoute', (route) => {
    if (!isWebPath(route.url)) throw new Error(`web route ${route.url} is not covered by isWebPath`)
  })

  app.setErrorHandler((error: FastifyError | Error, req, reply) => {
    const status = statusOf(error)
    if (status >= 500) req.log.error({ err: error, path: req.url }, 'web page failed')
    const message = status >= 500 ? 'The page could not be made; the log says why.' : error.message
    return sendPage(reply, shell, errorPage(status, message), status)
  })

  app.get('/web/style.css', async (_req, reply) =>
    reply
      .header('content-type', 'text/css; charset=utf-8')
      .header('cache-control', 'max-age=3600')
      .send(STYLE_CSS),
  )

  app.get('/', async (_req, reply) =>
    sendPage(reply, shell, overviewPage(await loadOverview(db, now(), () => ops.health()))),
  )

  app.get('/conversations', async (req, reply) => {
    const q = parseListQuery(req.query as Query)
    return sendPage(reply, shell, conversationsPage(q, await listConversations(db, q)))
  })

  app.get<ByMessage>('/messages/:messageId', async (req, reply) => {
    const { messageId } = req.params
    const view = await loadMessage(db, messageId)
    if (!view) throw new WebError(404, `No message with messageId ${messageId} is known here.`)
    const at = now()
    const done = param(req.query as Query, 'done')
    const flash = done !== undefined && Object.hasOwn(OUTCOMES, done) ? OUTCOMES[done] : undefined
    const plan = await planRetry(view.jobs, view.out?.message, view.out?.files ?? [], deps.payloads, at)
    return sendPage(reply, shell, messagePage({ view, now: at, retry: plan, flash }))
  })

  app.get<ByMessage>('/messages/:messageId/:action', async (req, reply) => {
    const { messageId } = req.params
    const action = actionOf(req.params.action)
    if (!(await loadMessage(db, messageId)))
      throw new WebError(404, `No message with messageId ${messageId}.`)
    return sendPage(reply, shell, confirmPage(action, messageId))
  })

  app.post<ByMessage>('/messages/:messageId/:action', async (req, reply) => {
    drain(req)
    const reason = crossSiteReason(req)
    if (reason) throw new WebError(403, `Refused: ${reason}.`)
    const action = actionOf(req.params.action)
    const { messageId } = req.params
    const outcome = action === 'unlock' ? await unlock(deps, messageId) : await retry(deps, messageId)
    // Post/Redirect/Get: a reload of the page the operator lands on does not repeat the action
    return redirect(reply, messageHref(messageId, { done: outcome }))
  })

  app.get('/capabilities', async (req, reply) => {
    const { page, status } = await capabilitiesAnswer(deps.registry, req.query as Query, {
      enabled: deps.config.features.enabled,
      transports: deps.transports,
    })
    return sendPage(reply, shell, page, status)
  })

  app.get('/configuration', async (_req, reply) =>
    sendPage(
      reply,
      shell,
      configurationPage(
        deps.config,
        ops.info(),
        deps.transports,
        payloadStoreKind(deps.config, deps.db.caps.name),
        smallSendsInDatabase(deps.config, deps.db.caps.name),
      ),
    ),
  )
}

function actionOf(value: string | undefined): ActionName {
  if (value !== undefined && Object.hasOwn(ACTIONS, value)) return value as ActionName
  throw new WebError(404, `There is no action “${value ?? ''}” on a message.`)
}

function statusOf(error: unknown): number {
  if (error instanceof WebError) return error.status
  if (error instanceof ApiError) return error.status >= 400 ? error.status : 500
  const code = (error as FastifyError)?.statusCode
  return typeof code === 'number' && code >= 400 && code < 500 ? code : 500
}

/** A form's body says nothing the action needs; it is read and dropped so the connection stays usable. */
function drain(req: FastifyRequest): void {
  if (req.body instanceof Readable) req.body.resume()
}

function redirect(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('location', location).send()
}
