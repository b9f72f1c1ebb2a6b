import { afterEach, describe, expect, it } from 'vitest'
import { startTestIp, type TestIp } from './support/ip.js'
import { openRaw, parseAnswer, sleep } from './support/raw-http.js'

/**
 * Slow and idle clients, on real sockets with small limits: a connection that stops sending, or sends
 * its headers a byte at a time, is closed; one that keeps sending a body, however slowly and for however
 * long, is read to the end and answered; so is one whose request the server itself is slow to answer.
 */
describe('slow clients', () => {
  let ip: TestIp | undefined
  afterEach(async () => {
    await ip?.close()
    ip = undefined
  })

  const start = (limits: { idle: string; headers: string; keepAlive?: string }) =>
    startTestIp('sqlite', {
      overrides: {
        'server.tomcat.connection-timeout': limits.idle,
        'server.tomcat.keep-alive-timeout': limits.keepAlive ?? limits.idle,
        'difi.move.http.headers-timeout-ms': limits.headers,
        'difi.move.serviceregistry.timeout-ms': '1500',
      },
    })

  it('closes a connection whose headers stop halfway, or trickle in, with 408', async () => {
    ip = await start({ idle: '10s', headers: '400' })
    const half = await openRaw(ip.url)
    half.write('GET /api/statuses HTTP/1.1\r\nHost: ip\r\nAccept: appl')
    const drip = await openRaw(ip.url)
    const request = 'GET /api/statuses HTTP/1.1\r\nHost: ip\r\nX-Slow: one byte at a time\r\n\r\n'
    let i = 0
    // never idle for long, so only the headers deadline can stop it
    const timer = setInterval(() => i < request.length && drip.write(request[i++]!), 50)
    try {
      for (const conn of [half, drip]) {
        expect(await conn.closed).toBeLessThan(2500)
        const answer = parseAnswer(conn.received())
        expect(answer.status).toBe(408)
        expect(answer.json).toMatchObject({ status: 408, error: 'Request Timeout' })
      }
      expect(i).toBeLessThan(request.length)
    } finally {
      clearInterval(timer)
    }
  })

  it('closes a connection whose body stalls, and one that never sends a request', async () => {
    ip = await start({ idle: '500ms', headers: '10000' })
    const stalled = await openRaw(ip.url)
    stalled.write(
      'POST /api/subscriptions HTTP/1.1\r\nHost: ip\r\nContent-Type: application/json\r\n' +
        'Content-Length: 100\r\n\r\n{"name":',
    )
    const silent = await openRaw(ip.url)
    expect(await stalled.closed).toBeLessThan(2500)
    expect(await silent.closed).toBeLessThan(2500)
    expect(stalled.received()).toBe('')
    // the server is fine afterwards
    expect((await ip.fetch('/api/statuses')).status).toBe(200)
  })

  it('reads a body that keeps coming slowly for longer than every limit, and answers it', async () => {
    ip = await start({ idle: '400ms', headers: '400' })
    const body = JSON.stringify({ name: 'slow', pushEndpoint: 'ftp://x', resource: 'all', event: 'all' })
    const conn = await openRaw(ip.url)
    conn.write(
      'POST /api/subscriptions HTTP/1.1\r\nHost: ip\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    )
    const started = Date.now()
    for (let at = 0; at < body.length; at += 4) {
      conn.write(body.slice(at, at + 4))
      await sleep(100)
    }
    await conn.closed
    expect(Date.now() - started).toBeGreaterThan(1500)
    // the body was read whole: the answer is about its content (a push endpoint must be http(s))
    const answer = parseAnswer(conn.received())
    expect(answer.status).toBe(400)
    expect(JSON.stringify(answer.json.errors)).toContain('pushEndpoint')
  })

  it('waits for a handler that is slow itself, however long past the idle limit', async () => {
    ip = await start({ idle: '300ms', headers: '300' })
    // the ServiceRegistry never answers: the lookup gives up after its own 1.5 s timeout
    ip.registry.failNext(1, 'hang')
    const res = await ip.json<Record<string, unknown>>('/api/capabilities/910077473')
    expect(res.status).toBe(503)
    expect(res.body.status).toBe(503)
  })

  it('closes a kept-alive connection idle between requests after the keep-alive timeout', async () => {
    ip = await start({ idle: '10s', headers: '10000', keepAlive: '300ms' })
    const conn = await openRaw(ip.url)
    conn.write('GET /api/statuses HTTP/1.1\r\nHost: ip\r\n\r\n')
    expect(await conn.closed).toBeLessThan(2500)
    expect(parseAnswer(conn.received()).status).toBe(200)
  })
})
