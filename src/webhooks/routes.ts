import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WebhookSubscriptionRow } from '../db/schema.js'
import { ApiError } from '../errors/api-error.js'
import type { AppDeps } from '../http/app-deps.js'
import { parsePageable, toPage } from '../http/paging.js'
import type { Query } from '../http/query.js'
import { sendEmpty, sendJson } from '../http/reply.js'
import { cancelDeliveries } from './deliveries.js'
import { pingEvent } from './events.js'
import {
  bindSubscription,
  invalidSubscription,
  type SubscriptionInput,
  subscriptionViolations,
} from './input.js'
import { toApiSubscription } from './mapper.js'
import { createPush, type Push } from './push.js'
import {
  deleteAllSubscriptions,
  deleteSubscription,
  insertSubscription,
  pageOfSubscriptions,
  SUBSCRIPTION_SORT,
  sameNameAndEndpoint,
  subscriptionById,
  updateSubscription,
} from './repository.js'

/** `/api/subscriptions` (docs/webhooks.md, "Subscriptions"). */
export function registerWebhookRoutes(app: FastifyInstance, deps: AppDeps, push?: Push): void {
  const db = deps.db.kysely
  const post = push ?? createPush(deps.config.webhooks)
  const allowedHosts = deps.config.webhooks.allowedHosts
  const now = () => deps.clock.now().getTime()

  // the reference pings the endpoint before it saves; a failed ping refuses the request (the documented
  // behaviour; v4 only logs it): docs/webhooks.md
  const ping = async (endpoint: string, secret: string | null) => {
    const result = await post(endpoint, secret, JSON.stringify(pingEvent(now(), randomUUID())))
    if (!result.ok) throw new ApiError('WebhookPushEndpointPingFailed', [result.error])
  }

  app.get('/api/subscriptions', async (req, reply) => {
    const pageable = parsePageable(req.query as Query, {
      sortable: Object.keys(SUBSCRIPTION_SORT),
      defaultSort: [],
    })
    const { rows, total } = await pageOfSubscriptions(db, pageable)
    return sendJson(reply, toPage(rows.map(toApiSubscription), pageable, total))
  })

  app.get<{ Params: { id: string } }>('/api/subscriptions/:id', async (req, reply) => {
    return sendJson(reply, toApiSubscription(await existing(numericId(req.params.id))))
  })

  app.post('/api/subscriptions', async (req, reply) => {
    const input = readBody(req, 'create', allowedHosts)
    const name = input.name!
    const endpoint = input.pushEndpoint!
    if (await sameNameAndEndpoint(db, name, endpoint))
      throw new ApiError('SubscriptionWithSameNameAndPushEndpoint')
    await ping(endpoint, input.secret || null)
    const values = {
      name,
      push_endpoint: endpoint,
      resource: input.resource!,
      event: input.event!,
      filter: input.filter,
      secret: input.secret || null,
      created_at: now(),
      given_up: 0,
    }
    const row = await insertSubscription(db, values).catch(async (err) => {
      // two identical requests at once: the unique index turns the second into the same conflict
      if (await sameNameAndEndpoint(db, name, endpoint))
        throw new ApiError('SubscriptionWithSameNameAndPushEndpoint')
      throw err
    })
    return sendJson(reply, toApiSubscription(row))
  })

  app.put<{ Params: { id: string } }>('/api/subscriptions/:id', async (req, reply) => {
    const id = numericId(req.params.id)
    const input = readBody(req, 'update', allowedHosts)
    const current = await existing(id)
    const changes = changesOf(current, input)
    const name = changes.name ?? current.name
    const endpoint = changes.push_endpoint ?? current.push_endpoint
    if ((changes.name || changes.push_endpoint) && (await sameNameAndEndpoint(db, name, endpoint, id)))
      throw new ApiError('SubscriptionWithSameNameAndPushEndpoint')
    if (changes.push_endpoint)
      await ping(endpoint, changes.secret === undefined ? current.secret : changes.secret)
    await updateSubscription(db, id, changes).catch(async (err) => {
      if (await sameNameAndEndpoint(db, name, endpoint, id))
        throw new ApiError('SubscriptionWithSameNameAndPushEndpoint')
      throw err
    })
    return sendEmpty(reply)
  })

  app.delete<{ Params: { id: string } }>('/api/subscriptions/:id', async (req, reply) => {
    const id = numericId(req.params.id)
    const deleted = await db.transaction().execute(async (trx) => {
      await cancelDeliveries(trx, id)
      return deleteSubscription(trx, id)
    })
    if (!deleted) throw new ApiError('SubscriptionNotFound', ['id', id])
    return sendEmpty(reply)
  })

  app.delete('/api/subscriptions', async (_req, reply) => {
    await db.transaction().execute(async (trx) => {
      await cancelDeliveries(trx)
      await deleteAllSubscriptions(trx)
    })
    return sendEmpty(reply)
  })

  async function existing(id: number): Promise<WebhookSubscriptionRow> {
    const row = await subscriptionById(db, id)
    if (!row) throw new ApiError('SubscriptionNotFound', ['id', id])
    return row
  }
}

function readBody(req: FastifyRequest, mode: 'create' | 'update', allowedHosts: readonly string[]) {
  const type = req.headers['content-type']
  if (!type || !/^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(type))
    throw new ApiError('UnsupportedMediaType', [type ?? ''])
  const input = bindSubscription(req.body)
  const errors = subscriptionViolations(input, mode, allowedHosts)
  if (errors.length) throw invalidSubscription(errors)
  return input
}

/** As the reference: a value given overwrites, null or absent keeps (so a filter cannot be removed); ours: `secret: ""` removes the secret. */
function changesOf(current: WebhookSubscriptionRow, input: SubscriptionInput) {
  const changes: Partial<
    Pick<WebhookSubscriptionRow, 'name' | 'push_endpoint' | 'resource' | 'event' | 'filter' | 'secret'>
  > = {}
  if (input.name !== null) changes.name = input.name
  if (input.pushEndpoint !== null && input.pushEndpoint !== current.push_endpoint)
    changes.push_endpoint = input.pushEndpoint
  if (input.resource !== null) changes.resource = input.resource
  if (input.event !== null) changes.event = input.event
  if (input.filter !== null) changes.filter = input.filter
  if (input.secret !== null) changes.secret = input.secret === '' ? null : input.secret
  return changes
}

/** The reference binds `{id}` to a Long: anything else is a 400 type mismatch. */
function numericId(value: string): number {
  if (/^\d{1,15}$/.test(value)) return Number(value)
  throw new ApiError('ArgumentTypeMismatch', [
    `Method parameter 'id': Failed to convert value of type 'java.lang.String' to required type 'java.lang.Long'; For input string: "${value}"`,
  ])
}
