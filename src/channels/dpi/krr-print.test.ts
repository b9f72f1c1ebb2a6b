import { X509Certificate } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { makeIdentity, makeTempDir, type TestIdentity } from '../../packaging/test-support.js'
import { ManualClock } from '../../util/time.js'
import { createKrrPrintClient, KrrPrintError, toPem } from './krr-print.js'

let keys: { dir: string; cleanup(): void }
let printer: TestIdentity
beforeAll(() => {
  keys = makeTempDir('krr-print-')
  printer = makeIdentity(keys.dir, 'printer')
})
afterAll(() => keys?.cleanup())

const servers: FastifyInstance[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

/** KRR's print endpoint: answers what the test says, counting the questions and keeping their headers */
async function krr(answer: () => { status: number; body: unknown; delayMs?: number }) {
  const asked: IncomingHttpHeaders[] = []
  const app = Fastify()
  app.get('/rest/v2/printSertifikat', async (req, reply) => {
    asked.push(req.headers)
    const { status, body, delayMs } = answer()
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs))
    return reply.code(status).header('content-type', 'application/json').send(JSON.stringify(body))
  })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  servers.push(app)
  return { url: `${base}/rest/v2/printSertifikat`, asked }
}

const der = () => new X509Certificate(printer.certPem).raw.toString('base64')

async function failure(p: Promise<unknown>): Promise<KrrPrintError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(KrrPrintError)
  expect((error as KrrPrintError).retryable).toBe(true)
  return error as KrrPrintError
}

describe('the print provider from KRR', () => {
  it('is the answer, PEM as given, asked for JSON', async () => {
    const server = await krr(() => ({
      status: 200,
      body: { postkasseleverandoerAdresse: '910085379', x509Sertifikat: printer.certPem },
    }))
    const provider = await createKrrPrintClient({ url: server.url, timeoutMs: 2_000 }).printProvider()
    expect(provider.orgnr).toBe('910085379')
    expect(new X509Certificate(provider.certPem).fingerprint256).toBe(
      new X509Certificate(printer.certPem).fingerprint256,
    )
    expect(server.asked[0]?.accept).toBe('application/json')
    expect(server.asked[0]).not.toHaveProperty('authorization')
  })

  it('takes a bare base64 DER certificate and gives it as PEM', async () => {
    const server = await krr(() => ({
      status: 200,
      body: { postkasseleverandoerAdresse: '910085379', x509Sertifikat: der() },
    }))
    const { certPem } = await createKrrPrintClient({ url: server.url, timeoutMs: 2_000 }).printProvider()
    expect(certPem).toMatch(/^-----BEGIN CERTIFICATE-----\n/)
    expect(new X509Certificate(certPem).raw.toString('base64')).toBe(der())
  })

  it('is kept 5 minutes, and one question serves callers asking at once', async () => {
    const server = await krr(() => ({
      status: 200,
      body: { postkasseleverandoerAdresse: '910085379', x509Sertifikat: der() },
    }))
    const clock = new ManualClock()
    const client = createKrrPrintClient({ url: server.url, timeoutMs: 2_000, clock })
    await Promise.all([client.printProvider(), client.printProvider(), client.printProvider()])
    expect(server.asked).toHaveLength(1)
    clock.advance(5 * 60_000 - 1)
    await client.printProvider()
    expect(server.asked).toHaveLength(1)
    clock.advance(1)
    await client.printProvider()
    expect(server.asked).toHaveLength(2)
  })

  it('fails, retryable, on an error answer, and asks again next time', async () => {
    let status = 503
    const server = await krr(() => ({
      status,
      body: status === 200 ? { postkasseleverandoerAdresse: '910085379', x509Sertifikat: der() } : 'busy',
    }))
    const client = createKrrPrintClient({ url: server.url, timeoutMs: 2_000 })
    const error = await failure(client.printProvider())
    expect(error.status).toBe(503)
    expect(error.message).toMatch(/answered 503: "busy"/)
    status = 200
    expect((await client.printProvider()).orgnr).toBe('910085379')
  })

  it('fails on an answer without a provider or a certificate', async () => {
    for (const body of [
      { x509Sertifikat: der() },
      { postkasseleverandoerAdresse: '91008537', x509Sertifikat: der() },
      { postkasseleverandoerAdresse: '910085379' },
      { postkasseleverandoerAdresse: '910085379', x509Sertifikat: 'bm90IGEgY2VydA==' },
      'not an object',
    ]) {
      const server = await krr(() => ({ status: 200, body }))
      const error = await failure(createKrrPrintClient({ url: server.url, timeoutMs: 2_000 }).printProvider())
      expect(error.message).toMatch(/answered 200 (without|with)/)
    }
  })

  it('fails when KRR is slow or not there', async () => {
    const slow = await krr(() => ({ status: 200, body: {}, delayMs: 1_000 }))
    const timedOut = await failure(createKrrPrintClient({ url: slow.url, timeoutMs: 100 }).printProvider())
    expect(timedOut.message).toMatch(/timed out after 100 ms/)
    expect(timedOut.status).toBeNull()
    const gone = await failure(
      createKrrPrintClient({
        url: 'http://127.0.0.1:1/rest/v2/printSertifikat',
        timeoutMs: 2_000,
      }).printProvider(),
    )
    expect(gone.message).toMatch(/failed/)
  })
})

describe('toPem', () => {
  it('reads PEM, base64 DER with line breaks, and nothing else', () => {
    const b64 = der()
    expect(toPem(printer.certPem)).toBe(new X509Certificate(printer.certPem).toString())
    expect(toPem(b64.replace(/(.{64})/g, '$1\n'))).toBe(new X509Certificate(printer.certPem).toString())
    expect(toPem('hello')).toBeNull()
    expect(toPem('')).toBeNull()
  })
})
