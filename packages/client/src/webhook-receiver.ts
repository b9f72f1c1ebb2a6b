/**
 * The receiving end of the integration point's webhooks, for a fagsystem: check the signature a
 * subscription with a `secret` puts on every POST, and parse the event.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

/** The header the integration point signs each delivery in: `sha256=<hex HMAC-SHA256 of the body>`. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-integrasjonspunkt-signature'

/** Whether `header` is the signature of exactly these body bytes under `secret` (constant time). */
export function verifyWebhookSignature(
  body: string | Buffer,
  secret: string,
  header: string | undefined,
): boolean {
  if (!header) return false
  const expected = createHmac('sha256', secret).update(body).digest()
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim())
  if (!match) return false
  return timingSafeEqual(Buffer.from(match[1]!, 'hex'), expected)
}

/** A status event (`event: 'status'`), or the ping the integration point sends when a subscription is saved. */
export interface WebhookEvent {
  createdTs: string
  event: 'status' | 'ping' | string
  /** unique per event, the same in every retry: drop repeats by it */
  id?: string
  resource?: string
  messageId?: string
  conversationId?: string
  direction?: string
  serviceIdentifier?: string
  status?: string
  description?: string
}
