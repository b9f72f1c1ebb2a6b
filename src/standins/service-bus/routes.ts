import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type pino from 'pino'
import type { Clock } from '../../util/time.js'
import type { Arrivals } from './arrivals.js'
import { badRequest, notFound, unauthorized } from './errors.js'
import { deliveredContentType, toBrokerProperties, toNewMessage } from './mapper.js'
import { checkSas } from './sas.js'
import type { ServiceBusSettings } from './settings.js'
import type { Entity, MessageRow, ServiceBusStore } from './store.js'

/**
 * The Service Bus REST runtime subset the reference uses and a little more: send,
 * peek-lock, complete, unlock and renew, on a queue and on its `$DeadLetterQueue`, each call signed.
 */
export interface ServiceBusDeps {
  store: ServiceBusStore
  settings: ServiceBusSettings
  clock: Clock
  logger: pino.Logger
  arrivals: Arrivals
}

type Route = {
  Params: { queue: string; sub?: string; id: string; lockToken: string }
  Querystring: { timeout?: string }
}
type Req = FastifyRequest<Route>
type Handler = (req: Req, reply: FastifyReply<Route>) => Promise<unknown>

/** Azure's entity names: letters, digits, `.`, `-`, `_` (a path segment here, so no `/`) */
const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$/
const DEAD_LETTER = '$DeadLetterQueue'
/**
 * The longest a peek-lock waits for a message: Azure would hold an idle `head` for its whole `timeout`,
 * but a stand-in that answers within a second keeps clients' polls and tests quick.
 */
export const MAX_HEAD_WAIT_MS = 1000

export function registerServiceBusApi(app: FastifyInstance, deps: ServiceBusDeps): void {
  const now = () => deps.clock.now().getTime()
  const onRequest = async (req: FastifyRequest) => authorize(req, deps.settings.keys, now())
  const on = (method: 'POST' | 'PUT' | 'DELETE', url: string, handler: Handler, bodyLimit?: number) =>
    app.route<Route>({ method, url, onRequest, ...(bodyLimit ? { bodyLimit } : {}), handler })
  const lockOp =
    (op: (e: Entity, id: string, token: string) => boolean): Handler =>
    async (req, reply) => {
      if (!op(toEntity(req.params), req.params.id, req.params.lockToken)) throw lockGone(req)
      return reply.code(200).send()
    }
  on(
    'POST',
    '/:queue/messages',
    (req, reply) => send(deps, toEntity(req.params).queue, req, reply),
    deps.settings.maxMessageBytes,
  )
  // `/q/…` and `/q/$DeadLetterQueue/…`; the `$` may come encoded, route parameters arrive decoded
  for (const prefix of ['/:queue', '/:queue/:sub']) {
    on('POST', `${prefix}/messages/head`, (req, reply) => peekLock(deps, toEntity(req.params), req, reply))
    on(
      'DELETE',
      `${prefix}/messages/:id/:lockToken`,
      lockOp((e, id, token) => deps.store.complete(e, id, token, now())),
    )
    on(
      'PUT',
      `${prefix}/messages/:id/:lockToken`,
      lockOp((e, id, token) => deps.store.unlock(e, id, token, now())),
    )
    on(
      'POST',
      `${prefix}/messages/:id/:lockToken`,
      lockOp(
        (e, id, token) => deps.store.renew(e, id, token, now(), deps.settings.lockDurationMs) !== undefined,
      ),
    )
  }
}

async function send(deps: ServiceBusDeps, queue: string, req: Req, reply: FastifyReply<Route>) {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
  const message = toNewMessage(
    header(req, 'brokerproperties'),
    body,
    header(req, 'content-type'),
    deps.settings.defaultTimeToLiveMs,
  )
  const row = deps.store.send(queue, message, deps.clock.now().getTime())
  deps.logger.debug({ queue, messageId: row.message_id, seq: row.seq }, 'service bus: message sent')
  deps.arrivals.arrived(queue)
  return reply.code(201).send()
}

async function peekLock(deps: ServiceBusDeps, entity: Entity, req: Req, reply: FastifyReply<Route>) {
  const take = () =>
    deps.store.peekLock(
      entity,
      deps.clock.now().getTime(),
      deps.settings.lockDurationMs,
      deps.settings.maxDeliveryCount,
    )
  let row = take()
  const waitMs = Math.min(Number(req.query.timeout) * 1000 || 0, MAX_HEAD_WAIT_MS)
  if (!row && waitMs > 0 && !entity.deadLetter) {
    await deps.arrivals.wait(entity.queue, waitMs)
    row = take()
  }
  // as Azure: 204 with no body when nothing is there; the reference ends its round on it
  if (!row) return reply.code(204).send()
  return deliver(reply, row, `${baseOf(req)}/${entityPath(entity)}`)
}

function deliver(reply: FastifyReply, row: MessageRow, entityUrl: string) {
  if (row.dead_letter_reason)
    // Azure gives the reason as a custom property, and custom properties as headers with JSON values
    reply.header('DeadLetterReason', JSON.stringify(row.dead_letter_reason))
  return reply
    .code(201)
    .header('BrokerProperties', JSON.stringify(toBrokerProperties(row)))
    .header('Location', `${entityUrl}/messages/${row.seq}/${row.lock_token}`)
    .header('content-type', deliveredContentType(row))
    .send(row.body)
}

function toEntity(params: { queue: string; sub?: string }): Entity {
  if (!QUEUE_NAME.test(params.queue)) throw badRequest(`Not a queue name: ${params.queue}`)
  if (params.sub !== undefined && params.sub.toLowerCase() !== DEAD_LETTER.toLowerCase())
    throw notFound(`No such entity: ${params.queue}/${params.sub}`)
  return { queue: params.queue, deadLetter: params.sub !== undefined }
}

const entityPath = (e: Entity) => (e.deadLetter ? `${e.queue}/${DEAD_LETTER}` : e.queue)

const lockGone = (req: Req) =>
  notFound(
    `No message ${req.params.id} with lock token ${req.params.lockToken}: completed, or the lock expired`,
  )

const header = (req: FastifyRequest, name: string) => {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

const baseOf = (req: FastifyRequest) => `${req.protocol}://${req.host}`

/**
 * The token must be signed with a known key over a resource that covers this URL. The client may have
 * signed the path as it sent it or with its escapes decoded (`%24DeadLetterQueue` or `$DeadLetterQueue`).
 */
function authorize(req: FastifyRequest, keys: Record<string, string>, nowMs: number): void {
  const path = req.url.split('?')[0] ?? ''
  let decoded = path
  try {
    decoded = decodeURIComponent(path)
  } catch {
    // a broken escape: only the path as sent can match
  }
  const base = baseOf(req)
  const check = checkSas(header(req, 'authorization'), [base + path, base + decoded], keys, nowMs)
  if (!check.ok) {
    req.log.info({ url: req.url, reason: check.reason }, 'service bus: SAS refused')
    throw unauthorized(`InvalidSignature: ${check.reason}`)
  }
}
