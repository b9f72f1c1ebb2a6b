import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestIp, type TestIp } from './support/ip.js'
import { rawExchange } from './support/raw-http.js'

/**
 * Requests that Node's HTTP parser or Fastify's router refuse before any route runs get the reference's
 * error JSON like every other error, not the framework's own body. Sent on raw sockets, since no HTTP
 * client sends them; with authentication on, since none of them may need (or reveal) more than that.
 */
const EXCEPTION = {
  405: 'org.springframework.web.HttpRequestMethodNotSupportedException',
  404: 'org.springframework.web.servlet.resource.NoResourceFoundException',
}

describe('framework errors', () => {
  let ip: TestIp
  beforeAll(async () => {
    ip = await startTestIp('sqlite', { overrides: { 'difi.security.enable': 'true' } })
  })
  afterAll(async () => ip?.close())

  const send = (head: string) => rawExchange(ip.url, `${head}\r\nHost: ip\r\nConnection: close\r\n\r\n`)

  /** The reference's error JSON and nothing else: no framework members, no stack. */
  function expectErrorJson(answer: Awaited<ReturnType<typeof send>>, status: number, path: string) {
    expect(answer.status).toBe(status)
    expect(answer.headers['content-type']).toBe('application/json')
    expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body))
    expect(Object.keys(answer.json).filter((k) => k !== 'exception')).toEqual([
      'timestamp',
      'status',
      'error',
      'message',
      'path',
    ])
    expect(answer.json).toMatchObject({ timestamp: '2026-03-10T10:00:00+01:00', status, path })
  }

  it('answers a method Node does not know as the routes answer a wrong method: 405 with Allow, or 404', async () => {
    const known = await send('FOO /api/statuses HTTP/1.1')
    expectErrorJson(known, 405, '/api/statuses')
    // the same answer a method Node knows gets from the routes
    const patch = await ip.json<Record<string, string>>('/api/statuses', { method: 'PATCH' })
    expect(known.json).toMatchObject({
      error: 'Method Not Allowed',
      exception: EXCEPTION[405],
      message: patch.body.message!.replace('PATCH', 'FOO'),
    })
    expect(known.json.message).toContain("'FOO'")
    expect(known.headers.allow).toBe('GET')
    const unknown = await send('FOO /nothing/here?x=1 HTTP/1.1')
    expectErrorJson(unknown, 404, '/nothing/here')
    expect(unknown.json.exception).toBe(EXCEPTION[404])
  })

  it('answers a request target over the size limit 414, and headers over it 431', async () => {
    const long = await send(`GET /api/statuses/${'a'.repeat(20_000)} HTTP/1.1`)
    expectErrorJson(long, 414, `/api/statuses/${'a'.repeat(186)}…`)
    expect(long.json).toMatchObject({ error: 'URI Too Long', message: 'The request target is too long' })
    const headers = await send(`GET /api/statuses HTTP/1.1\r\nX-Big: ${'b'.repeat(20_000)}`)
    expectErrorJson(headers, 431, '/api/statuses')
    expect(headers.json.error).toBe('Request Header Fields Too Large')
  })

  it('answers a path parameter over the router limit 414, and a malformed escape in one 400', async () => {
    const long = await send(`GET /api/capabilities/${'9'.repeat(600)} HTTP/1.1`)
    expectErrorJson(long, 414, `/api/capabilities/${'9'.repeat(600)}`)
    const badEscape = await send('GET /api/messages/in/pop/%E0%A4%A HTTP/1.1')
    expectErrorJson(badEscape, 400, '/api/messages/in/pop/%E0%A4%A')
    expect(badEscape.json.message).toContain('is not a valid url component')
  })

  it('answers a malformed request line or version 400', async () => {
    for (const [head, path] of [
      ['GET /a b c HTTP/1.1', '/a'],
      ['GET /api/statuses HTTP/9.9', '/api/statuses'],
      ['not a request at all', ''],
    ] as const) {
      const answer = await send(head)
      expectErrorJson(answer, 400, path)
      expect(answer.json.message).toMatch(/^The request could not be parsed: /)
    }
  })

  it('still serves the API afterwards', async () => {
    expect((await ip.fetch('/api/statuses')).status).toBe(200)
  })
})
