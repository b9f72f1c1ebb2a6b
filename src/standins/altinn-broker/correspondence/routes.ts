import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { installFaults } from '../faults.js'
import { CORRESPONDENCE_BASE, PROXY_CORRESPONDENCE_BASE } from '../paths.js'
import type { BrokerStore } from '../store.js'
import { type Access, correspondenceCaller, type Prefix } from './access.js'
import { CorrespondenceError, sendCorrespondenceError, ValidationProblem } from './errors.js'
import { iso, toInitializeResponse, toOverview } from './mapper.js'
import { registerCorrespondenceSandbox } from './sandbox.js'
import {
  attachmentsOf,
  type CorrespondenceDeps,
  existing,
  markRead,
  NotReadable,
  sendAttachment,
  uploadCorrespondence,
} from './service.js'
import { derive } from './status.js'
import type { CorrespondenceRow } from './store.js'

/**
 * The Correspondence API the integration point calls for DPV (docs/altinn-broker-standin.md,
 * "Correspondence (DPV)"), served under Altinn's own base and under the proxy's, with the checks of each.
 */
type Req = FastifyRequest<{
  Params: { id: string; aid: string }
  Querystring: Record<string, string | undefined>
}>

const ROLES = ['Recipient', 'Sender', 'RecipientAndSender'] as const
const SEARCH_LIMIT = 1000
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function registerCorrespondenceApi(
  app: FastifyInstance,
  deps: CorrespondenceDeps & { tokens: BrokerStore },
): void {
  // one encapsulated scope: the multipart body is left unread for the upload to stream, and the
  // correspondence faults hit these routes only
  app.register(async (scope) => {
    scope.addContentTypeParser('multipart/form-data', (_req, _payload, done) => done(null, undefined))
    installFaults(scope, deps.settings.faults)
    scope.setErrorHandler((error, _req, reply) => {
      // a recipient cannot see what is not published (or failed), as if it did not exist
      const answered = error instanceof NotReadable ? new CorrespondenceError(1001) : error
      if (sendCorrespondenceError(reply, answered)) return reply
      throw error
    })
    for (const [base, prefix] of [
      [CORRESPONDENCE_BASE, 'direct'],
      [PROXY_CORRESPONDENCE_BASE, 'proxy'],
    ] as const)
      routes(scope, deps, `${base}/correspondence`, prefix)
    registerCorrespondenceSandbox(scope, deps)
  })
}

function routes(
  app: FastifyInstance,
  deps: CorrespondenceDeps & { tokens: BrokerStore },
  base: string,
  prefix: Prefix,
) {
  const caller = (req: FastifyRequest, access: Access) =>
    correspondenceCaller(deps.tokens, deps.clock, req.headers.authorization, {
      prefix,
      access,
      accessList: deps.settings.accessList,
    })
  const json = (reply: FastifyReply, value: unknown) =>
    reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(value))
  const now = () => deps.clock.now().getTime()

  app.post(`${base}/upload`, async (req, reply) => {
    const sender = caller(req, 'write')
    let result: Awaited<ReturnType<typeof uploadCorrespondence>>
    try {
      result = await uploadCorrespondence(deps, sender, { headers: req.headers, stream: req.raw })
    } catch (error) {
      // a refusal before the body's end: answer, then close, rather than read the rest
      if (!req.raw.readableEnded) reply.header('connection', 'close')
      throw error
    }
    deps.logger.info({ ids: result.rows.map((r) => r.id), sender }, 'correspondence initialised')
    const status = (row: Omit<CorrespondenceRow, 'seq'>) =>
      row.reserved ? 'Reserved' : result.withAttachments ? 'Initialized' : 'ReadyForPublish'
    return json(reply, toInitializeResponse(result.rows, result.attachmentIds, status))
  })

  app.get(base, async (req: Req, reply) => {
    const org = caller(req, 'read')
    const role = roleOf(req.query.role, deps.settings.lenientSearch)
    const q = req.query
    if (q.idempotentKey && !GUID.test(q.idempotentKey))
      throw new ValidationProblem({ idempotentKey: [`The value '${q.idempotentKey}' is not valid.`] })
    const ids = deps.store.search({
      sender: role !== 'Recipient' ? org : undefined,
      recipientId: role !== 'Sender' ? org.replace(/^0192:/, '') : undefined,
      publishedBy: now(),
      resourceId: q.resourceId,
      sendersReference: q.sendersReference,
      idempotentKey: q.idempotentKey,
      limit: SEARCH_LIMIT,
    })
    return json(reply, { ids })
  })

  const visible = (req: Req, access: Access) => {
    const org = caller(req, access)
    if (!GUID.test(req.params.id))
      throw new ValidationProblem({ correspondenceId: [`The value '${req.params.id}' is not valid.`] })
    const row = existing(deps, req.params.id)
    const asRecipient = row.recipient_id === org.replace(/^0192:/, '')
    if (row.sender !== org && !asRecipient) throw new CorrespondenceError(4001)
    // a recipient sees nothing before publication, as if it did not exist
    if (asRecipient && row.sender !== org && derive(row, now()).published === null)
      throw new CorrespondenceError(1001)
    return { row, asRecipient: asRecipient && row.sender !== org }
  }

  app.get(`${base}/:id`, async (req: Req, reply) => {
    const { row, asRecipient } = visible(req, 'read')
    // a sender's look has no side effect; a recipient's records Fetched, as Altinn does
    if (asRecipient) deps.store.setFetched(row.id, now())
    const fresh = deps.store.byId(row.id)!
    return json(reply, toOverview(fresh, derive(fresh, now()), attachmentsOf(deps, fresh), asRecipient))
  })

  app.get(`${base}/:id/details`, async (req: Req, reply) => {
    const { row, asRecipient } = visible(req, 'read')
    const d = derive(row, now())
    const statusHistory = d.events.map((e) => ({
      status: e.status,
      statusChanged: iso(e.at),
    }))
    return json(reply, { ...toOverview(row, d, attachmentsOf(deps, row), asRecipient), statusHistory })
  })

  app.post(`${base}/:id/markasread`, async (req: Req, reply) => {
    const { row, asRecipient } = visible(req, 'read')
    if (!asRecipient) throw new CorrespondenceError(4001)
    markRead(deps, row, true)
    return json(reply, row.id)
  })

  app.get(`${base}/:id/attachment/:aid/download`, async (req: Req, reply) => {
    const { row } = visible(req, 'read')
    const attachment = attachmentsOf(deps, row).find((a) => a.id === req.params.aid.toLowerCase())
    if (!attachment) throw new CorrespondenceError(1001)
    return sendAttachment(reply, deps, attachment)
  })
}

/** Altinn requires `role`; the lenient mode takes the reference IP's search without one as a sender's. */
function roleOf(value: string | undefined, lenient: boolean): (typeof ROLES)[number] {
  if ((value === undefined || value === '') && lenient) return 'Sender'
  const found = ROLES.find((r) => r.toLowerCase() === (value ?? '').toLowerCase())
  if (!found)
    throw new ValidationProblem({
      role: [value ? `The value '${value}' is not valid for role.` : 'The role field is required.'],
    })
  return found
}
