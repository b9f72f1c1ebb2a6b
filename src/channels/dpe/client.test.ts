import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createServiceBusClient,
  isRetryableStatus,
  LockLostError,
  MessageTooLargeError,
  SasKeyRejectedError,
  type SasKeySource,
  type ServiceBusClient,
  ServiceBusError,
} from './client.js'
import { checkSas } from './sas.js'

const KEY_NAME = 'MoveDPE-pilotPolicy'
const QUEUE = 'nextbestqueue910075918innsyn'

interface Seen {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
  /** what checkSas said about the Authorization header */
  sas: string
}

type Answer = (seen: Seen, res: ServerResponse) => void

const servers: Server[] = []
const clients: ServiceBusClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done).closeAllConnections())))
})

/** Service Bus's side: checks each SAS against the keys it knows (401 when wrong), then answers as told. */
async function serviceBus(answer: Answer, keys: Record<string, string> = { [KEY_NAME]: 'nøkkel-1' }) {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const check = checkSas(req.headers.authorization, {
        url: `http://${req.headers.host}${req.url}`,
        keyFor: (name) => keys[name],
        nowMs: Date.now(),
        graceSeconds: 0,
      })
      const s: Seen = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks),
        sas: check.ok ? 'ok' : check.reason,
      }
      seen.push(s)
      if (!check.ok) {
        res.writeHead(401).end(`<Error><Code>401</Code><Detail>${check.reason}</Detail></Error>`)
        return
      }
      answer(s, res)
    })
  })
  servers.push(server)
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return { port: (server.address() as AddressInfo).port, seen, keys }
}

function keySource(...keys: string[]) {
  let i = 0
  const source = {
    invalidated: 0,
    key: async () => keys[Math.min(i, keys.length - 1)]!,
    invalidate: () => {
      source.invalidated++
      i++
    },
  }
  return source
}

function client(
  port: number,
  keys: SasKeySource = keySource('nøkkel-1'),
  o: { timeoutMs?: number; max?: number } = {},
) {
  const c = createServiceBusClient({
    baseUrl: `127.0.0.1:${port}/dpe/`,
    useHttps: false,
    sasKeyName: KEY_NAME,
    keys,
    timeoutMs: o.timeoutMs ?? 5000,
    maxBodyBytes: o.max ?? 1024,
    peekWaitSeconds: 2,
  })
  clients.push(c)
  return c
}

const status =
  (code: number, body = ''): Answer =>
  (_s, res) =>
    res.writeHead(code).end(body)

describe('send', () => {
  it('posts the body to <scheme>://<baseUrl>/<queue>/messages with a SAS for that URL', async () => {
    const sb = await serviceBus(status(201))
    await client(sb.port).send(QUEUE, Buffer.from('{"sbd":{}}'))
    expect(sb.seen).toHaveLength(1)
    expect(sb.seen[0]).toMatchObject({ method: 'POST', url: `/dpe/${QUEUE}/messages`, sas: 'ok' })
    expect(sb.seen[0]!.headers).toMatchObject({
      brokerproperties: '{}',
      'content-type': 'application/json;charset=utf-8',
    })
    expect(sb.seen[0]!.body.toString()).toBe('{"sbd":{}}')
  })

  it('on 401 forgets the key, says it must be fetched again, and signs the next call with the new one', async () => {
    const sb = await serviceBus(status(201), { [KEY_NAME]: 'nøkkel-2' })
    const keys = keySource('nøkkel-1', 'nøkkel-2')
    const c = client(sb.port, keys)
    const err = await c.send(QUEUE, Buffer.from('{}')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SasKeyRejectedError)
    expect(err).toMatchObject({ status: 401, retryable: true })
    expect((err as Error).message).toMatch(
      /answered 401: the signature does not match; the SAS key is fetched again/,
    )
    expect(keys.invalidated).toBe(1)
    await c.send(QUEUE, Buffer.from('{}'))
    expect(sb.seen.map((s) => s.sas)).toEqual(['the signature does not match', 'ok'])
  })

  it("gives Azure's reason and whether a later try may pass", async () => {
    const cases: [number, boolean][] = [
      [400, false],
      [403, true],
      [410, true],
      [413, false],
      [429, true],
      [500, true],
      [503, true],
    ]
    for (const [code, retryable] of cases) {
      const sb = await serviceBus(
        status(code, `<Error><Code>${code}</Code><Detail>grunn ${code}</Detail></Error>`),
      )
      const err = await client(sb.port)
        .send(QUEUE, Buffer.from('{}'))
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ServiceBusError)
      expect(err).not.toBeInstanceOf(SasKeyRejectedError)
      expect(err).toMatchObject({ status: code, retryable })
      expect((err as Error).message).toBe(
        `Service Bus POST /${QUEUE}/messages answered ${code}: grunn ${code}`,
      )
      expect(isRetryableStatus(code)).toBe(retryable)
    }
  })

  it('takes a refused connection, a missing answer and a missing key as retryable', async () => {
    const sb = await serviceBus(() => {})
    const slow = await client(sb.port, keySource('nøkkel-1'), { timeoutMs: 300 })
      .send(QUEUE, Buffer.from('{}'))
      .catch((e: unknown) => e)
    expect(slow).toMatchObject({
      retryable: true,
      status: undefined,
      message: expect.stringMatching(/timed out after 300 ms/),
    })
    await new Promise<void>((done) =>
      servers
        .pop()!
        .close(() => done())
        .closeAllConnections(),
    )
    const refused = await client(sb.port)
      .send(QUEUE, Buffer.from('{}'))
      .catch((e: unknown) => e)
    expect(refused).toMatchObject({ retryable: true, message: expect.stringMatching(/ failed: /) })
    const noKey = { key: () => Promise.reject(new Error('the ServiceRegistry is down')), invalidate() {} }
    const err = await client(sb.port, noKey)
      .send(QUEUE, Buffer.from('{}'))
      .catch((e: unknown) => e)
    expect(err).toMatchObject({
      retryable: true,
      message: expect.stringMatching(/no SAS key: the ServiceRegistry is down/),
    })
  })

  it('refuses a queue name that would change the path', async () => {
    const sb = await serviceBus(status(201))
    await expect(client(sb.port).send('../admin', Buffer.from('{}'))).rejects.toThrow('not a queue name')
    expect(sb.seen).toHaveLength(0)
  })
})

describe('peek-lock', () => {
  const LOCKED = {
    DeliveryCount: 3,
    LockToken: '7c1b1a5e-0d3e-4c4e-9e53-6a1f2b3c4d5e',
    MessageId: 'a1b2c3d4e5f6',
    // more than Number.MAX_SAFE_INTEGER: must not be rounded
    SequenceNumber: 0,
    State: 'Active',
  }
  const locked =
    (
      code: number,
      body: string,
      props = JSON.stringify(LOCKED).replace('"SequenceNumber":0', '"SequenceNumber":61924494876344321'),
    ): Answer =>
    (_s, res) =>
      res
        .writeHead(code, { brokerproperties: props, 'content-type': 'application/json;charset=utf-8' })
        .end(body)

  it('locks the oldest message: its ids, delivery count and body; the SAS covers the URL without ?timeout', async () => {
    for (const code of [201, 200]) {
      const sb = await serviceBus(locked(code, '{"sbd":{}}'))
      const m = await client(sb.port).peekLock(QUEUE)
      expect(m).toEqual({
        messageId: 'a1b2c3d4e5f6',
        lockToken: LOCKED.LockToken,
        sequenceNumber: '61924494876344321',
        deliveryCount: 3,
        body: Buffer.from('{"sbd":{}}'),
      })
      expect(sb.seen[0]).toMatchObject({
        method: 'POST',
        url: `/dpe/${QUEUE}/messages/head?timeout=2`,
        sas: 'ok',
      })
    }
  })

  it('reads a SequenceNumber sent as a string', async () => {
    const sb = await serviceBus(locked(201, '{}', JSON.stringify({ ...LOCKED, SequenceNumber: '42' })))
    expect(await client(sb.port).peekLock(QUEUE)).toMatchObject({ sequenceNumber: '42' })
  })

  it('gives null for an empty queue (204) and an error for any other answer', async () => {
    expect(await client((await serviceBus(status(204))).port).peekLock(QUEUE)).toBeNull()
    const gone = await client((await serviceBus(status(410))).port)
      .peekLock(QUEUE)
      .catch((e: unknown) => e)
    expect(gone).toMatchObject({
      status: 410,
      message: `Service Bus POST /${QUEUE}/messages/head answered 410`,
    })
    const odd = await client((await serviceBus(status(202))).port)
      .peekLock(QUEUE)
      .catch((e: unknown) => e)
    expect(odd).toMatchObject({ status: 202, message: expect.stringMatching(/answered 202, not 201 or 204/) })
  })

  it('refuses a message without MessageId or LockToken: it could never be completed', async () => {
    const { LockToken: _, ...props } = LOCKED
    const sb = await serviceBus(locked(201, '{}', JSON.stringify(props)))
    await expect(client(sb.port).peekLock(QUEUE)).rejects.toThrow(/no MessageId and LockToken/)
  })

  it('stops reading a body over the limit and gives the lock, so the message can be abandoned', async () => {
    const sb = await serviceBus(locked(201, 'x'.repeat(5000)))
    const err = await client(sb.port, keySource('nøkkel-1'), { max: 1024 })
      .peekLock(QUEUE)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MessageTooLargeError)
    expect((err as MessageTooLargeError).lock).toEqual({
      messageId: 'a1b2c3d4e5f6',
      lockToken: LOCKED.LockToken,
      sequenceNumber: '61924494876344321',
      deliveryCount: 3,
    })
  })
})

describe('complete, abandon and renew', () => {
  const lock = { messageId: 'a1b2c3d4e5f6', lockToken: '7c1b1a5e-0d3e-4c4e-9e53-6a1f2b3c4d5e' }

  it('call DELETE, PUT and POST on /messages/<MessageId>/<LockToken> with a SAS for that URL', async () => {
    const sb = await serviceBus(status(200))
    const c = client(sb.port)
    await c.complete(QUEUE, lock)
    await c.abandon(QUEUE, lock)
    await c.renewLock(QUEUE, lock)
    const path = `/dpe/${QUEUE}/messages/${lock.messageId}/${lock.lockToken}`
    expect(sb.seen.map((s) => [s.method, s.url, s.sas])).toEqual([
      ['DELETE', path, 'ok'],
      ['PUT', path, 'ok'],
      ['POST', path, 'ok'],
    ])
  })

  it('say the lock was lost on 404', async () => {
    const c = client((await serviceBus(status(404))).port)
    for (const call of [c.complete, c.abandon, c.renewLock]) {
      const err = await call(QUEUE, lock).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(LockLostError)
      expect((err as Error).message).toMatch(/answered 404: the lock was lost/)
    }
  })

  it('give other answers as other errors', async () => {
    const err = await client((await serviceBus(status(500))).port)
      .complete(QUEUE, lock)
      .catch((e: unknown) => e)
    expect(err).not.toBeInstanceOf(LockLostError)
    expect(err).toMatchObject({ status: 500, retryable: true })
  })
})
