import { badRequest } from './errors.js'
import type { MessageRow, NewMessage } from './store.js'

/**
 * The only place rows become wire or sandbox shapes: the BrokerProperties header a sender gives and a
 * receiver gets, and the sandbox API's message item.
 */

/** what the broker sets itself; a sender's values for these are not kept */
const BROKER_SET = new Set([
  'DeliveryCount',
  'EnqueuedSequenceNumber',
  'EnqueuedTimeUtc',
  'LockToken',
  'LockedUntilUtc',
  'SequenceNumber',
  'State',
  'DeadLetterSource',
])

/** Azure's limit on a MessageId */
const MAX_MESSAGE_ID = 128

/**
 * Reads a send's `BrokerProperties` header (JSON, optional; the reference sends `{}`): MessageId and
 * TimeToLive (seconds) are used, the rest (Label, CorrelationId, ...) kept and given back on delivery.
 */
export function toNewMessage(
  header: string | undefined,
  body: Buffer,
  contentType: string | undefined,
  defaultTtlMs: number,
): NewMessage {
  let props: Record<string, unknown> = {}
  if (header?.trim()) {
    try {
      props = JSON.parse(header)
    } catch (error) {
      throw badRequest(`BrokerProperties is not JSON: ${(error as Error).message}`)
    }
    if (typeof props !== 'object' || props === null || Array.isArray(props))
      throw badRequest('BrokerProperties must be a JSON object')
  }
  const { MessageId: id, TimeToLive: ttl, ...rest } = props
  if (id !== undefined && (typeof id !== 'string' || id === '' || id.length > MAX_MESSAGE_ID))
    throw badRequest(`MessageId must be a string of 1 to ${MAX_MESSAGE_ID} characters`)
  if (ttl !== undefined && (typeof ttl !== 'number' || !(ttl > 0)))
    throw badRequest('TimeToLive must be a positive number of seconds')
  const kept = Object.fromEntries(Object.entries(rest).filter(([k]) => !BROKER_SET.has(k)))
  return {
    messageId: id,
    body,
    contentType: contentType ?? null,
    properties: kept,
    timeToLiveMs: Math.min(ttl === undefined ? defaultTtlMs : Math.round(ttl * 1000), defaultTtlMs),
  }
}

/** The `BrokerProperties` header of a delivered message, with the times in RFC 1123 as Azure writes them. */
export function toBrokerProperties(row: MessageRow): Record<string, unknown> {
  return {
    ...(JSON.parse(row.properties) as Record<string, unknown>),
    DeliveryCount: row.delivery_count,
    EnqueuedSequenceNumber: 0,
    EnqueuedTimeUtc: new Date(row.enqueued).toUTCString(),
    LockToken: row.lock_token,
    LockedUntilUtc: row.locked_until === null ? undefined : new Date(row.locked_until).toUTCString(),
    MessageId: row.message_id,
    SequenceNumber: row.seq,
    State: 'Active',
    TimeToLive: (row.expires - row.enqueued) / 1000,
    ...(row.dead_lettered ? { DeadLetterSource: row.queue } : {}),
  }
}

/**
 * The Content-Type a receiver gets: the sender's, with `charset=utf-8` added when it has none, since the
 * reference reads the body as a Spring String, which falls back to ISO-8859-1 without one.
 */
export function deliveredContentType(row: MessageRow): string {
  const type = row.content_type?.trim() || 'application/octet-stream'
  return /;\s*charset=/i.test(type) ? type : `${type}; charset=utf-8`
}

export type MessageState = 'active' | 'locked' | 'deadLettered'

const PREVIEW_CHARS = 200

/** A message for the sandbox API: metadata and the start of the body as text. */
export function toSandboxMessage(row: MessageRow, now: number) {
  const locked = row.locked_until !== null && row.locked_until > now
  const state: MessageState = row.dead_lettered ? 'deadLettered' : locked ? 'locked' : 'active'
  const text = row.body.subarray(0, PREVIEW_CHARS * 4).toString('utf8')
  return {
    sequenceNumber: row.seq,
    messageId: row.message_id,
    state,
    deliveryCount: row.delivery_count,
    enqueuedTime: new Date(row.enqueued).toISOString(),
    expiresAt: new Date(row.expires).toISOString(),
    lockedUntil: locked ? new Date(row.locked_until!).toISOString() : null,
    deadLetterReason: row.dead_letter_reason,
    contentType: row.content_type,
    size: row.body.length,
    properties: JSON.parse(row.properties) as Record<string, unknown>,
    preview: text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text,
  }
}
