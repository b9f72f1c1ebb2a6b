import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { IntegrasjonspunktError, NetworkError, ServerError } from './errors.js'
import { streamOf } from './files.js'
import { Http } from './http.js'
import { isRetryableStatus, isTransientNetworkError, MAX_RETRY_DELAY_MS, retryDelay } from './retry.js'

describe('the retry policy', () => {
  it('doubles the wait from retryDelayMs, up to the ceiling, and honours a longer Retry-After', () => {
    const policy = { retries: 10, retryDelayMs: 500 }
    expect([1, 2, 3, 4].map((n) => retryDelay(policy, n))).toEqual([500, 1000, 2000, 4000])
    expect(retryDelay(policy, 20)).toBe(MAX_RETRY_DELAY_MS)
    expect(retryDelay(policy, 1, '3')).toBe(3000)
    expect(retryDelay(policy, 3, '1')).toBe(2000)
    expect(retryDelay(policy, 1, '9999')).toBe(MAX_RETRY_DELAY_MS)
    expect(retryDelay(policy, 1, 'Wed, 21 Oct 2015 07:28:00 GMT')).toBe(500)
  })

  it('retries 502, 503 and 504 only', () => {
    expect([500, 501, 502, 503, 504, 400, 429].filter(isRetryableStatus)).toEqual([502, 503, 504])
  })

  it('retries connections that failed or broke, found anywhere on the cause chain', () => {
    const reset = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }),
    })
    expect(isTransientNetworkError(reset)).toBe(true)
    expect(isTransientNetworkError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(true)
    expect(isTransientNetworkError(new TypeError('Invalid URL'))).toBe(false)
    expect(isTransientNetworkError(Object.assign(new Error('dns'), { code: 'ENOTFOUND' }))).toBe(false)
  })
})

type Handler = (req: IncomingMessage, res: ServerResponse, hit: number, body: Buffer) => void

describe('Http against a flaky server', () => {
  let server: Server | undefined
  afterEach(async () => {
    server?.closeAllConnections()
    await new Promise((r) => server?.close(r) ?? r(undefined))
    server = undefined
  })

  async function serve(handler: Handler): Promise<{ url: string; hits: () => number }> {
    let hits = 0
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => handler(req, res, ++hits, Buffer.concat(chunks)))
    })
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
    return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, hits: () => hits }
  }

  const quick = { retries: 3, retryDelayMs: 1 }

  it('retries 503 until an answer comes, and says it retried', async () => {
    const { url, hits } = await serve((_q, res, hit) => {
      res.statusCode = hit < 3 ? 503 : 200
      res.end(hit < 3 ? 'starting' : '{"ok":true}')
    })
    const answer = await new Http({ url, ...quick }).request({ method: 'GET', path: '/api/x' })
    expect(answer.status).toBe(200)
    expect(answer.retried).toBe(true)
    expect(hits()).toBe(3)
  })

  it('retries a dropped connection', async () => {
    const { url, hits } = await serve((req, res, hit) => {
      if (hit === 1) req.socket.destroy()
      else res.end('{}')
    })
    const answer = await new Http({ url, ...quick }).request({ method: 'DELETE', path: '/api/x' })
    expect([answer.status, answer.retried, hits()]).toEqual([200, true, 2])
  })

  it('does not retry a 500, and gives up on 503 after the retries', async () => {
    const { url, hits } = await serve((_q, res) => {
      res.statusCode = hits() === 1 ? 500 : 503
      res.end('{"status":500,"exception":"java.lang.RuntimeException","message":"boom"}')
    })
    const http = new Http({ url, retries: 2, retryDelayMs: 1 })
    const first = await http.request({ method: 'GET', path: '/a' })
    expect([first.status, first.retried, hits()]).toEqual([500, false, 1])
    expect(() => http.check(first)).toThrow(ServerError)
    const last = await http.request({ method: 'GET', path: '/b' })
    expect([last.status, last.retried, hits()]).toEqual([503, true, 4])
  })

  it('turns a refused connection into a NetworkError after the retries', async () => {
    const { url } = await serve(() => {})
    await new Promise((r) => server!.close(r))
    const error = await new Http({ url, ...quick }).request({ method: 'GET', path: '/x' }).catch((e) => e)
    expect(error).toBeInstanceOf(NetworkError)
    expect(error.code).toBe('ECONNREFUSED')
  })

  it('times out a request that gets no answer, and retries it', async () => {
    const { url, hits } = await serve(() => {})
    const http = new Http({ url, retries: 1, retryDelayMs: 1, timeoutMs: 100 })
    const error = await http.request({ method: 'GET', path: '/slow' }).catch((e) => e)
    expect(error).toBeInstanceOf(NetworkError)
    expect(error.code).toBe('REQUEST_TIMEOUT')
    expect(hits()).toBe(2)
  })

  it('re-opens a streamed body for each attempt', async () => {
    const bodies: string[] = []
    const { url } = await serve((req, res, hit, body) => {
      bodies.push(body.toString())
      if (hit === 1) req.socket.destroy()
      else res.end()
    })
    let opened = 0
    const answer = await new Http({ url, ...quick }).request({
      method: 'PUT',
      path: '/upload',
      headers: { 'content-length': '10' },
      body: () => {
        opened++
        return streamOf(async function* () {
          yield Buffer.from('01234')
          yield Buffer.from('56789')
        })
      },
    })
    expect(answer.status).toBe(200)
    expect(opened).toBe(2)
    expect(bodies).toEqual(['0123456789', '0123456789'])
  })

  it('never retries our own failure inside a body', async () => {
    const { url, hits } = await serve((_q, res) => res.end())
    const broken = () =>
      streamOf(async function* () {
        yield Buffer.from('x')
        throw new IntegrasjonspunktError('the file changed')
      })
    const http = new Http({ url, ...quick })
    const error = await http
      .request({ method: 'PUT', path: '/u', headers: { 'content-length': '5' }, body: broken })
      .catch((e) => e)
    expect(error).toBeInstanceOf(IntegrasjonspunktError)
    expect(error.message).toBe('the file changed')
    expect(hits()).toBeLessThanOrEqual(1)
  })

  it('stops retrying when the signal fires', async () => {
    const { url, hits } = await serve((_q, res) => {
      res.statusCode = 503
      res.end()
    })
    const controller = new AbortController()
    const http = new Http({ url, retries: 5, retryDelayMs: 10_000 })
    const pending = http.request({ method: 'GET', path: '/x', signal: controller.signal }).catch((e) => e)
    while (hits() === 0) await new Promise((r) => setTimeout(r, 5))
    controller.abort(new Error('stop'))
    expect((await pending).message).toBe('stop')
    expect(hits()).toBe(1)
  })

  it('sends basic auth and the user agent, under the path prefix', async () => {
    const seen: { url?: string; auth?: string; ua?: string } = {}
    const { url } = await serve((req, res) => {
      Object.assign(seen, { url: req.url, auth: req.headers.authorization, ua: req.headers['user-agent'] })
      res.end('{}')
    })
    const http = new Http({
      url: `${url}/ip/`,
      username: 'fagsystem',
      password: 'hemmelig',
      userAgent: 'Acos/1.1',
    })
    await http.json({
      method: 'GET',
      path: '/api/statuses',
      query: { status: 'LEVERT', sort: ['id,asc', 'status'] },
    })
    expect(seen).toEqual({
      url: '/ip/api/statuses?status=LEVERT&sort=id%2Casc&sort=status',
      auth: `Basic ${Buffer.from('fagsystem:hemmelig').toString('base64')}`,
      ua: 'Acos/1.1',
    })
  })
})
