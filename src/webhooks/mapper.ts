import { withoutNulls } from '../conversations/mapper.js'
import type { WebhookSubscriptionRow } from '../db/schema.js'
import { formatOslo } from '../util/time.js'

/**
 * The only place the Subscription JSON is built: the reference's members in its order (NON_NULL), then
 * ours, `delivery`, saying how deliveries fare. The `secret` is never shown.
 */
export function toApiSubscription(row: WebhookSubscriptionRow) {
  const at = (ms: number | null) => (ms === null ? null : formatOslo(ms))
  return withoutNulls({
    id: row.id,
    name: row.name,
    pushEndpoint: row.push_endpoint,
    resource: row.resource,
    event: row.event,
    filter: row.filter,
    delivery: withoutNulls({
      signed: row.secret !== null,
      failingSince: at(row.failing_since),
      lastError: row.last_error,
      lastErrorAt: at(row.last_error_at),
      lastDeliveredAt: at(row.last_delivered_at),
      givenUp: row.given_up,
    }),
  })
}
