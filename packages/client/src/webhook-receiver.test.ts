import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { verifyWebhookSignature } from './webhook-receiver.js'

describe('verifyWebhookSignature', () => {
  const body = '{"createdTs":"2026-03-10T10:00:00+01:00","event":"ping","id":"1"}'
  const secret = 'bytt-meg-ut-med-noe-langt'
  // the HMAC as openssl computes it, independent of our code
  const hex = execFileSync('openssl', ['dgst', '-sha256', '-hmac', secret, '-r'], { input: body })
    .toString()
    .split(' ')[0]!

  it('accepts the HMAC-SHA256 of the exact body, in either case of hex', () => {
    expect(verifyWebhookSignature(body, secret, `sha256=${hex}`)).toBe(true)
    expect(verifyWebhookSignature(Buffer.from(body), secret, `sha256=${hex.toUpperCase()}`)).toBe(true)
  })

  it('refuses another body, another secret, a missing or malformed header', () => {
    expect(verifyWebhookSignature(`${body} `, secret, `sha256=${hex}`)).toBe(false)
    expect(verifyWebhookSignature(body, `${secret}x`, `sha256=${hex}`)).toBe(false)
    expect(verifyWebhookSignature(body, secret, undefined)).toBe(false)
    expect(verifyWebhookSignature(body, secret, hex)).toBe(false)
    expect(verifyWebhookSignature(body, secret, `sha256=${hex.slice(2)}`)).toBe(false)
  })
})
