import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../src/ops/logging.js'
import { CORRELATION_ID } from '../src/util/log.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import { arkivmeldingSbd } from './support/ip.js'
import { startPair } from './support/pair.js'

warnIfPostgresSkipped()

const B = '910077473'
const PASSWORD = 'pw-that-must-not-be-logged'
const AUTH = `Basic ${Buffer.from(`fagsystem:${PASSWORD}`).toString('base64')}`
const WEBHOOK_SECRET = 'webhook-secret-that-must-not-be-logged'

type Line = Record<string, unknown>

/** Two integration points in this process, with the production logger writing into arrays. */
async function startLoggedPair(kind: (typeof STORES)[number]) {
  const lines: Line[][] = []
  const pair = await startPair(kind, {
    props: {
      'difi.security.enable': 'true',
      'difi.security.user.name': 'fagsystem',
      'difi.security.user.password': PASSWORD,
      'difi.move.nextmove.retry.initial-interval-ms': '100',
    },
    loggerFor: () => {
      const mine: Line[] = []
      lines.push(mine)
      return createLogger({ format: 'json', level: 'debug' }, collect(mine))
    },
  })
  return Object.assign(pair, { lines: () => lines.flat() })
}

function collect(into: Line[]): Writable {
  return new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l.trim()) into.push(JSON.parse(l))
      done()
    },
  })
}

const api = (url: string, path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, { ...init, headers: { ...(init.headers ?? {}), authorization: AUTH } })

async function eventually<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const until = Date.now() + 20_000
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A push endpoint that takes the subscription's ping and then fails every delivery. */
async function failingHook(): Promise<{ url: string; server: Server }> {
  let calls = 0
  const server = createServer((req, res) => {
    req.resume()
    res.statusCode = calls++ === 0 ? 200 : 500
    res.end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, server }
}

describe.each(STORES)('logs of a DPO exchange on %s', (kind) => {
  let pair: Awaited<ReturnType<typeof startLoggedPair>> | undefined
  let hook: Server | undefined
  afterEach(async () => {
    await pair?.stop()
    hook?.close()
    pair = hook = undefined
  })

  it('carry the messageId as correlation_id on every line about the message, and no secret', async () => {
    pair = await startLoggedPair(kind)
    const { a, b } = pair
    const push = await failingHook()
    hook = push.server
    const subscribe = await api(a.url, '/api/subscriptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'arkiv',
        pushEndpoint: push.url,
        resource: 'all',
        event: 'all',
        secret: WEBHOOK_SECRET,
      }),
    })
    expect(subscribe.status, await subscribe.clone().text()).toBe(200)

    const messageId = crypto.randomUUID()
    const form = new FormData()
    const sbd = arkivmeldingSbd({ receiver: B, messageId, hoveddokument: 'vedtak.txt' })
    form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
    form.append('Arkivmelding', new Blob([arkivmeldingXml({ files: ['vedtak.txt'] })]), 'arkivmelding.xml')
    form.append('Vedtak', new Blob(['vedtak\n'], { type: 'text/plain' }), 'vedtak.txt')
    const sent = await api(a.url, '/api/messages/out/multipart', { method: 'POST', body: form })
    expect(sent.status, await sent.clone().text()).toBe(200)

    await eventually(async () => {
      const r = await api(b.url, '/api/messages/in/peek')
      return r.status === 200 ? true : undefined
    }, 'the message at B')
    // an operator gives the peeked message back from its web page, and the fagsystem peeks it again
    const unlocked = await api(b.url, `/messages/${messageId}/unlock`, {
      method: 'POST',
      headers: { 'sec-fetch-site': 'same-origin' },
      redirect: 'manual',
    })
    expect(unlocked.status).toBe(303)
    expect((await api(b.url, '/api/messages/in/peek')).status).toBe(200)
    expect((await api(b.url, `/api/messages/in/pop/${messageId}`)).status).toBe(200)
    expect((await api(b.url, `/api/messages/in/${messageId}`, { method: 'DELETE' })).status).toBe(200)
    await eventually(async () => {
      const r = await (await api(a.url, `/api/statuses/${messageId}`)).json()
      const statuses = (r as { content: { status: string }[] }).content.map((s) => s.status)
      return statuses.includes('LEVERT') ? true : undefined
    }, 'LEVERT at A')
    // a failed webhook delivery of this message's statuses, logged once for the failing subscription
    await eventually(
      async () => (pair!.lines().some((l) => l.kind === 'webhook' && l.level === 40) ? true : undefined),
      'a failed webhook delivery',
    )

    const lines = pair.lines()
    const about = lines.filter((l) => JSON.stringify(l).includes(messageId))
    const without = about.filter((l) => l[CORRELATION_ID] !== messageId)
    expect(without, 'lines about the message without its correlation_id').toEqual([])
    const said = (msg: string) => about.some((l) => l.msg === msg)
    // the send (A), the intake (B), the request lines of B's pop and delete, the failing webhook (A)
    expect(said('message sent')).toBe(true)
    expect(said('DPO message stored')).toBe(true)
    expect(about.filter((l) => l.msg === 'request completed').length).toBeGreaterThanOrEqual(3)
    expect(about.some((l) => l.kind === 'webhook' && /is failing; trying again/.test(String(l.msg)))).toBe(
      true,
    )
    expect(about.some((l) => /^web: unlock/.test(String(l.msg)))).toBe(true)

    const text = JSON.stringify(lines)
    for (const secret of [PASSWORD, AUTH.slice(6), WEBHOOK_SECRET]) expect(text).not.toContain(secret)
    // the insecure setting this configuration has is named at start, once per integration point
    expect(lines.filter((l) => l.setting === 'difi.ssl.enabled' && l.level === 40)).toHaveLength(2)
  }, 60_000)
})
