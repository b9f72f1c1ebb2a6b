import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  arkivmeldingMessage,
  buildSbd,
  IntegrasjonspunktClient,
  type ProgressEvent,
} from '../packages/client/src/index.js'
import { type Sandbox, startSandbox } from '../src/sandbox.js'
import { arkivmeldingXml } from './support/arkivmelding.js'

/**
 * A proxy in front of an integration point that forwards each request, lets the server answer, and
 * then swallows the answer of the first request of each kind it is told to: the request landed, the
 * client never hears so. It keeps a log of what passed.
 */
async function lossyProxy(target: string, kinds: string[]) {
  const dropped = new Set<string>()
  const log: string[] = []
  const kindOf = (method: string, path: string) =>
    `${method} ${path.replace(/^\/api\/messages\/out\/(?!multipart)[^/?]+/, '/api/messages/out/{id}').split('?')[0]}`
  const server: Server = createServer((req, res) => {
    const kind = kindOf(req.method!, req.url!)
    log.push(kind)
    const upstream = request(
      `${target}${req.url}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        const chunks: Buffer[] = []
        answer.on('data', (c: Buffer) => chunks.push(c))
        answer.on('end', () => {
          if (kinds.includes(kind) && !dropped.has(kind)) {
            dropped.add(kind)
            req.socket.destroy()
            return
          }
          res.writeHead(answer.statusCode!, answer.headers)
          res.end(Buffer.concat(chunks))
        })
      },
    )
    req.pipe(upstream)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    dropped,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

describe('a send retried after a lost answer', () => {
  let dir: string
  let sandbox: Sandbox
  let direct: IntegrasjonspunktClient
  let b: IntegrasjonspunktClient
  let proxy: Awaited<ReturnType<typeof lossyProxy>> | undefined

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'client-idempotency-'))
    sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), anyPorts: true })
    direct = new IntegrasjonspunktClient({ url: sandbox.points[0]!.url })
    b = new IntegrasjonspunktClient({ url: sandbox.points[1]!.url })
  }, 60_000)

  afterEach(async () => {
    await proxy?.close()
    proxy = undefined
  })

  afterAll(async () => {
    await sandbox?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const message = () =>
    buildSbd({ receiver: '910077473', businessMessage: arkivmeldingMessage({ hoveddokument: 'brev.txt' }) })
  const files = [
    { data: arkivmeldingXml({ files: ['brev.txt'], title: 'Brev' }), filename: 'arkivmelding.xml' },
    { data: 'Kjære mottaker, her er brevet.', filename: 'brev.txt' },
  ]
  const conversationCount = async () => (await direct.conversations({ direction: 'OUTGOING' })).totalElements

  async function receivedOnce(messageId: string): Promise<Record<string, string>> {
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      for await (const m of b.receive({ once: true, filter: { messageId } })) {
        const paths = await m.extract(join(dir, 'in', messageId))
        await m.delete()
        const hash = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex')
        return Object.fromEntries(paths.map((p) => [basename(p), hash(p)]))
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`${messageId} never arrived`)
  }

  const expectedHashes = Object.fromEntries(
    files.map((f) => [f.filename, createHash('sha256').update(f.data).digest('hex')]),
  )

  it('in one multipart request: succeeds once, with one conversation', async () => {
    proxy = await lossyProxy(sandbox.points[0]!.url, ['POST /api/messages/out/multipart'])
    const client = new IntegrasjonspunktClient({ url: proxy.url, retryDelayMs: 10 })
    const before = await conversationCount()
    const result = await client.send(message(), files)
    expect(proxy.dropped.size).toBe(1)
    expect(proxy.log.filter((k) => k === 'POST /api/messages/out/multipart')).toHaveLength(2)
    expect(result.mode).toBe('multipart')
    expect(await conversationCount()).toBe(before + 1)
    expect((await direct.conversation(result.messageId))?.conversationId).toBe(result.conversationId)
    expect(await receivedOnce(result.messageId)).toEqual(expectedHashes)
    expect(
      (await b.conversations({ direction: 'INCOMING', messageId: result.messageId })).totalElements,
    ).toBe(1)
  }, 60_000)

  it('in steps: a lost create, upload and send answer each count as done', async () => {
    proxy = await lossyProxy(sandbox.points[0]!.url, [
      'POST /api/messages/out',
      'PUT /api/messages/out/{id}',
      'POST /api/messages/out/{id}',
    ])
    const client = new IntegrasjonspunktClient({ url: proxy.url, retryDelayMs: 10 })
    const before = await conversationCount()
    const events: ProgressEvent[] = []
    const result = await client.send(message(), files, {
      multipartLimit: 0,
      onProgress: (p) => events.push(p),
    })
    expect(result.mode).toBe('upload')
    expect(proxy.dropped.size).toBe(3)
    const steps = proxy.log.filter((k) => k.startsWith('POST /api/messages/out') || k.startsWith('PUT'))
    expect(steps).toEqual([
      'POST /api/messages/out',
      'POST /api/messages/out',
      'PUT /api/messages/out/{id}',
      'PUT /api/messages/out/{id}',
      'PUT /api/messages/out/{id}',
      'POST /api/messages/out/{id}',
      'POST /api/messages/out/{id}',
    ])
    const total = files.reduce((sum, f) => sum + Buffer.byteLength(f.data), 0)
    expect(events.at(-1)).toMatchObject({ filename: 'brev.txt', totalBytes: total, totalSent: total })
    expect(await conversationCount()).toBe(before + 1)
    expect(await receivedOnce(result.messageId)).toEqual(expectedHashes)
    const statuses = (await direct.statuses(result.messageId)).map((s) => s.status)
    expect(statuses.filter((s) => s === 'OPPRETTET' || s === 'SENDT')).toEqual(['OPPRETTET', 'SENDT'])
  }, 60_000)
})
