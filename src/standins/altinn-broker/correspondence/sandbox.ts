import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { BrokerProblem, notFound } from '../problem.js'
import { SANDBOX_API } from '../sandbox-api.js'
import { toSandboxItem } from './mapper.js'
import { renderInbox } from './page.js'
import {
  attachmentsOf,
  type CorrespondenceDeps,
  existing,
  markRead,
  NotReadable,
  sendAttachment,
} from './service.js'
import { derive } from './status.js'
import type { CorrespondenceRow } from './store.js'

/**
 * The recipients' side for people and scripts, with no token (docs/altinn-broker-standin.md,
 * "Correspondence (DPV)"): an inbox page with a Read button, the same as JSON, and control hooks a test
 * uses to drive what only Altinn or a recipient could (fail, purge, fetch).
 */
export const SANDBOX_PAGE = '/sandbox/correspondence'
const API = `${SANDBOX_API}/correspondences`

type Req = FastifyRequest<{
  Params: { id: string; aid: string }
  Querystring: Record<string, string | undefined>
  Body: unknown
}>

/** A recipient as a person types it: `910094092`, `0192:910094092`, or either urn form. */
export const bareRecipient = (value: string) =>
  value.trim().replace(/^(urn:altinn:(organization|person):identifier-no:|0192:)/i, '')

export function registerCorrespondenceSandbox(app: FastifyInstance, deps: CorrespondenceDeps): void {
  const json = (reply: FastifyReply, value: unknown) =>
    reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(value))
  const now = () => deps.clock.now().getTime()
  const item = (row: CorrespondenceRow) => toSandboxItem(row, derive(row, now()), attachmentsOf(deps, row))
  const known = (id: string) => {
    const row = deps.store.byId(id.toLowerCase())
    if (!row) throw notFound(`The correspondence ${id} was not found`)
    return row
  }
  const listed = (recipient: string | undefined) =>
    deps.store.all(recipient ? bareRecipient(recipient) : undefined).map(item)

  app.get(API, async (req: Req, reply) => json(reply, listed(req.query.recipient)))
  app.get(`${API}/:id`, async (req: Req, reply) => json(reply, item(known(req.params.id))))
  app.post(`${API}/:id/read`, async (req: Req, reply) => {
    readable(() => markRead(deps, existing(deps, req.params.id), false))
    return json(reply, item(known(req.params.id)))
  })
  app.post(`${API}/:id/fetch`, async (req: Req, reply) => {
    const row = existing(deps, req.params.id)
    readable(() => {
      if (derive(row, now()).published === null) throw new NotReadable(row.id, derive(row, now()).status)
      deps.store.setFetched(row.id, now())
    })
    return json(reply, item(known(req.params.id)))
  })
  app.post(`${API}/:id/fail`, async (req: Req, reply) => {
    const row = existing(deps, req.params.id)
    const reason = (req.body as { reason?: unknown } | undefined)?.reason
    deps.store.setFailed(
      row.id,
      now(),
      typeof reason === 'string' && reason ? reason : 'Failed by the sandbox',
    )
    return json(reply, item(known(row.id)))
  })
  app.post(`${API}/:id/purge`, async (req: Req, reply) => {
    const row = existing(deps, req.params.id)
    const by = (req.body as { by?: unknown } | undefined)?.by === 'Recipient' ? 'Recipient' : 'Altinn'
    deps.store.setPurged(row.id, now(), by)
    return json(reply, item(known(row.id)))
  })

  app.get(SANDBOX_PAGE, async (req: Req, reply) => {
    const recipient = req.query.recipient?.trim() || undefined
    const rows = deps.store.all(recipient ? bareRecipient(recipient) : undefined)
    const items = rows.map((row) => ({
      row,
      derived: derive(row, now()),
      attachments: attachmentsOf(deps, row),
    }))
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .send(renderInbox(items, recipient, req.query.error))
  })
  // the page's Read button: a plain form post, answered with the page again (the same recipient's)
  app.post(`${SANDBOX_PAGE}/:id/read`, async (req: Req, reply) => {
    const query = new URLSearchParams()
    if (req.query.recipient) query.set('recipient', req.query.recipient)
    try {
      markRead(deps, existing(deps, req.params.id), false)
    } catch (error) {
      if (!(error instanceof NotReadable)) throw error
      query.set('error', error.message)
    }
    return reply.redirect(query.size ? `${SANDBOX_PAGE}?${query}` : SANDBOX_PAGE, 303)
  })
  app.get(`${SANDBOX_PAGE}/:id/attachments/:aid`, async (req: Req, reply) => {
    const row = known(req.params.id)
    const attachment = attachmentsOf(deps, row).find((a) => a.id === req.params.aid.toLowerCase())
    if (!attachment || row.purged_at !== null) throw notFound('No such attachment')
    return sendAttachment(reply, deps, attachment)
  })
}

/** a read or fetch that cannot happen yet is a 409 for the sandbox's caller, not a 500 */
function readable(action: () => void): void {
  try {
    action()
  } catch (error) {
    if (error instanceof NotReadable) throw new BrokerProblem(409, error.message)
    throw error
  }
}
