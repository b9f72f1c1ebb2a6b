import type { ConversationRow, MessageStatusRow, WebhookSubscriptionRow } from '../db/schema.js'
import { formatOslo } from '../util/time.js'
import { filterMatches } from './filter.js'

/**
 * The events as the reference pushes them (Jackson NON_NULL, its member order; docs/webhooks.md, "Events"),
 * plus ours: `id`, unique per event, the same in every retry and for every subscription, so a receiver can
 * drop repeats.
 */
export interface StatusEvent {
  createdTs: string
  resource: 'messages'
  event: 'status'
  messageId: string
  conversationId: string
  direction: string
  serviceIdentifier: string
  status: string
  description?: string
  id: string
}

export interface PingEvent {
  createdTs: string
  event: 'ping'
  id: string
}

export function statusEvent(
  conversation: ConversationRow,
  status: MessageStatusRow,
  id: string,
): StatusEvent {
  return {
    createdTs: formatOslo(status.last_update),
    resource: 'messages',
    event: 'status',
    messageId: conversation.message_id,
    conversationId: conversation.conversation_id,
    direction: conversation.direction,
    serviceIdentifier: conversation.service_identifier,
    status: status.status,
    ...(status.description === null ? {} : { description: status.description }),
    id,
  }
}

export function pingEvent(now: number, id: string): PingEvent {
  return { createdTs: formatOslo(now), event: 'ping', id }
}

/** Whether a subscription takes an event: resource and event `all` or equal, and its filter holds. */
export function subscriptionTakes(
  sub: Pick<WebhookSubscriptionRow, 'resource' | 'event' | 'filter'>,
  event: StatusEvent,
): boolean {
  return (
    (sub.resource === 'all' || sub.resource === event.resource) &&
    (sub.event === 'all' || sub.event === event.event) &&
    filterMatches(sub.filter, event)
  )
}
