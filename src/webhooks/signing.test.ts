import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { signBody, verifySignature } from './signing.js'

const body = '{"createdTs":"2026-03-10T10:00:00+01:00","event":"ping","id":"e1"}'

describe('webhook signatures', () => {
  it('is the HMAC-SHA256 of the body that openssl computes too', () => {
    const header = signBody(body, 'topp-hemmelig-nokkel')
    const openssl = execFileSync('openssl', ['dgst', '-sha256', '-hmac', 'topp-hemmelig-nokkel', '-r'], {
      input: body,
    })
      .toString()
      .split(' ')[0]
    expect(header).toBe(`sha256=${openssl}`)
  })

  it('verifies the right body and secret only', () => {
    const header = signBody(body, 'topp-hemmelig-nokkel')
    expect(verifySignature(body, 'topp-hemmelig-nokkel', header)).toBe(true)
    expect(verifySignature(Buffer.from(body), 'topp-hemmelig-nokkel', ` ${header} `)).toBe(true)
    expect(verifySignature(`${body} `, 'topp-hemmelig-nokkel', header)).toBe(false)
    expect(verifySignature(body, 'en-annen-nokkel-123', header)).toBe(false)
    expect(verifySignature(body, 'topp-hemmelig-nokkel', undefined)).toBe(false)
    expect(verifySignature(body, 'topp-hemmelig-nokkel', 'sha256=00')).toBe(false)
  })
})
