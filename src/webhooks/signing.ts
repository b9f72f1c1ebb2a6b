import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Ours: with a subscription `secret`, every delivery (ping included) carries
 * `X-Integrasjonspunkt-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>`, so the receiver
 * knows the event came from this integration point and was not altered. docs/webhooks.md shows how to
 * check it. Replays are harmless: each event has an `id` the receiver drops repeats by.
 */
export const SIGNATURE_HEADER = 'x-integrasjonspunkt-signature'

export function signBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/** What a receiver does: recompute and compare in constant time. */
export function verifySignature(body: string | Buffer, secret: string, header: string | undefined): boolean {
  if (!header) return false
  const expected = Buffer.from(signBody(body, secret))
  const given = Buffer.from(header.trim())
  return given.length === expected.length && timingSafeEqual(given, expected)
}
