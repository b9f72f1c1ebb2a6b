import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/http/app.js'
import { startTestIp, TEST_USER, type TestIp } from './support/ip.js'

// An outsider walks every route the integration point registers with every spelling of its path and
// every form of request target that might reach the route while slipping past the password check.

const OPEN = /^\/(manage|v3\/api-docs|swagger-ui)(\/|$)/
const UUID = '0f0c2a52-7d0e-4c5c-9a4e-6f1a8b2d3c4e'

/** One request as raw bytes, so no client library tidies the target up; answers the status code. */
function rawRequest(port: number, method: string, target: string, headers: string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk) => {
      answer += chunk
    })
    socket.on('error', reject)
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)
      if (status) resolve(Number(status[1]))
      else reject(new Error(`no HTTP answer to ${method} ${target}: ${JSON.stringify(answer.slice(0, 80))}`))
    })
    const body = ['GET', 'HEAD'].includes(method) ? [] : ['content-length: 0']
    socket.write(
      [
        `${method} ${target} HTTP/1.1`,
        'host: 127.0.0.1',
        'connection: close',
        ...body,
        ...headers,
        '',
        '',
      ].join('\r\n'),
    )
  })
}

const encodeChar = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`

/** Ways to write a path that a router may take for the same route. */
function spellings(path: string): string[] {
  const segments = path.split('/').slice(1)
  const first = segments[0] ?? ''
  const rest = path.slice(first.length + 1)
  const out = new Set<string>()
  // one percent-encoded letter of the first segment at a time, lower- and upper-case hex
  for (let i = 0; i < first.length; i++) {
    const enc = encodeChar(first[i]!)
    out.add(`/${first.slice(0, i)}${enc}${first.slice(i + 1)}${rest}`)
    out.add(`/${first.slice(0, i)}${enc.toUpperCase()}${first.slice(i + 1)}${rest}`)
  }
  // every character of the path encoded, slashes kept
  out.add(`/${segments.map((s) => [...s].map(encodeChar).join('')).join('/')}`)
  out.add(`/${path.slice(1).replaceAll('/', '%2F')}`)
  out.add(`/${first}${rest.replaceAll('/', '%2f')}`)
  out.add(`/%25${first.charCodeAt(0).toString(16)}${first.slice(1)}${rest}`) // double encoding
  out.add(`/${first.toUpperCase()}${rest}`)
  out.add(`/${first[0]?.toUpperCase()}${first.slice(1)}${rest}`)
  out.add(`/${path}`)
  out.add(`/${first}/${rest}`)
  out.add(`/.${path}`)
  out.add(`/./${first}${rest}`.replace(/\/$/, ''))
  out.add(`/x/..${path}`)
  out.add(`/%2e%2e${path}`)
  out.add(`/manage/..${path}`)
  out.add(`/manage/%2e%2e${path}`)
  out.add(`/${first};x=1${rest}`)
  out.add(`${path};jsessionid=1`)
  out.add(`${path}/`)
  out.add(`${path}?manage=1`)
  out.add(`${path}%00`)
  out.add(`${path}%20`)
  return [...out]
}

function concrete(url: string): string {
  return (
    url
      .replace(/:[A-Za-z]+\b/g, UUID)
      .replace(/\*$/, 'index.html')
      .replace(/\/$/, '') || '/'
  )
}

describe('protection on the path the router matches', () => {
  let ip: TestIp
  let port: number
  let routes: { method: string; url: string }[]
  let close: () => Promise<void>

  beforeAll(async () => {
    ip = await startTestIp('sqlite', { overrides: { 'difi.security.enable': 'true' } })
    const app = await buildApp(ip.deps)
    await app.listen({ port: 0, host: '127.0.0.1' })
    port = (app.server.address() as { port: number }).port
    routes = app.routeList()
    close = () => app.close()
  })
  afterAll(async () => {
    await close?.()
    await ip?.close()
  })

  it('asks for the password on every protected route, however its path is spelled', async () => {
    const protectedRoutes = routes.filter((r) => !OPEN.test(r.url) && r.method !== 'HEAD')
    // the API, the web pages and their assets are all there to be walked
    const urls = new Set(protectedRoutes.map((r) => r.url))
    for (const u of [
      '/api/statuses',
      '/api/messages/in/pop/:messageId',
      '/',
      '/configuration',
      '/web/style.css',
    ])
      expect(urls).toContain(u)
    const leaks: string[] = []
    for (const route of protectedRoutes) {
      const path = concrete(route.url)
      for (const target of [path, ...spellings(path)]) {
        const status = await rawRequest(port, route.method, target)
        if (status !== 401) leaks.push(`${route.method} ${target} -> ${status}`)
      }
    }
    expect(leaks).toEqual([])
  }, 120_000)

  it('refuses absolute-form and asterisk targets before anything else', async () => {
    const leaks: string[] = []
    for (const route of routes.filter((r) => r.method !== 'HEAD')) {
      const path = concrete(route.url)
      for (const target of [
        `http://127.0.0.1:${port}${path}`,
        `HTTP://localhost${path}`,
        `https://x${path}`,
        '*',
      ]) {
        const status = await rawRequest(port, route.method, target)
        if (status !== 400) leaks.push(`${route.method} ${target} -> ${status}`)
      }
    }
    expect(leaks).toEqual([])
    // even with the right password: no client of this API sends them
    const auth = `authorization: Basic ${Buffer.from(`${TEST_USER.name}:${TEST_USER.password}`).toString('base64')}`
    expect(await rawRequest(port, 'GET', `http://127.0.0.1:${port}/api/statuses`, [auth])).toBe(400)
    expect(await rawRequest(port, 'GET', '/api/statuses', [auth])).toBe(200)
  }, 60_000)

  it('keeps the actuator and the API docs open, as the reference', async () => {
    for (const path of ['/manage/health/liveness', '/manage/info', '/manage/prometheus', '/v3/api-docs']) {
      expect(await rawRequest(port, 'GET', path), path).toBe(200)
    }
    expect(routes.some((r) => OPEN.test(r.url))).toBe(true)
  })

  it('does not open a protected route through an open prefix or an unknown path', async () => {
    for (const target of [
      '/manage/../api/statuses',
      '/manage/%2e%2e/api/statuses',
      '/swagger-ui/../api/statuses',
    ]) {
      expect(await rawRequest(port, 'GET', target), target).toBe(401)
    }
    expect(await rawRequest(port, 'GET', '/no-such-page')).toBe(401)
  })
})

describe('password guessing', () => {
  let ip: TestIp
  afterAll(async () => ip?.close())

  const basic = (password: string) => ({
    authorization: `Basic ${Buffer.from(`${TEST_USER.name}:${password}`).toString('base64')}`,
  })

  it('slows a guesser down per address, and never locks the right password out for good', async () => {
    ip = await startTestIp('sqlite', { overrides: { 'difi.security.enable': 'true' } })
    const statuses: number[] = []
    for (let i = 0; i < 50; i++) {
      statuses.push((await ip.fetch('/api/statuses', { headers: basic(`guess-${i}`) })).status)
    }
    // ten guesses are looked at, then the address must wait
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401))
    expect(statuses.slice(10)).toEqual(Array(40).fill(429))
    const throttled = await ip.json<Record<string, unknown>>('/api/statuses', {
      headers: basic(TEST_USER.password),
    })
    expect(throttled.status).toBe(429)
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(throttled.body).toMatchObject({ status: 429, error: 'Too Many Requests', path: '/api/statuses' })
    // a request without credentials spends nothing and is told to authenticate
    expect((await fetch(`${ip.url}/api/statuses`)).status).toBe(401)
    // time passes: the right password works again, and a success costs nothing
    ip.clock.advance(2_000)
    expect((await ip.fetch('/api/statuses', { headers: basic(TEST_USER.password) })).status).toBe(200)
    expect((await ip.fetch('/api/statuses', { headers: basic(TEST_USER.password) })).status).toBe(200)
    ip.clock.advance(20_000)
    const after = []
    for (let i = 0; i < 10; i++) after.push((await ip.fetch('/api/statuses', { headers: basic('x') })).status)
    expect(after).toEqual(Array(10).fill(401))
  })
})
