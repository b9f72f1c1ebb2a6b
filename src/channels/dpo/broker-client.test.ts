import { createServer } from 'node:http'
import type { Socket } from 'node:net'
import { Readable } from 'node:stream'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTempDir } from '../../packaging/test-support.js'
import { ManualClock } from '../../util/time.js'
import { type BrokerClient, createBrokerClient } from './broker-client.js'
import type { FileTransferInitalizeExt } from './broker-types.js'
import { BrokerError } from './errors.js'
import {
  generatedStream,
  makeOrgs,
  type Org,
  RESOURCE,
  sha256Of,
  silentServer,
  startBroker,
  tokenSourceFor,
} from './test-support.js'

let orgs: { a: Org; b: Org; c: Org }
let keysDir: { cleanup(): void }
let standIn: Awaited<ReturnType<typeof startBroker>>
const clients: BrokerClient[] = []

beforeAll(async () => {
  keysDir = makeTempDir('dpo-client-keys-')
  const two = makeOrgs((keysDir as { dir: string; cleanup(): void }).dir)
  // a third organisation, neither sender nor recipient, signing with A's key (the stand-in does not verify)
  orgs = { ...two, c: { orgNumber: '910094092', identity: two.a.identity } }
  standIn = await startBroker()
})

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await standIn?.close()
  keysDir?.cleanup()
})

function clientFor(org: Org, baseUrl = standIn.apiUrl, timeoutMs = 5_000): BrokerClient {
  const tokens = tokenSourceFor(org, standIn.exchangeUrl, new ManualClock(new Date()))
  const client = createBrokerClient({ baseUrl, tokens, timeoutMs })
  clients.push(client)
  return client
}

function fixedTokenClient(baseUrl: string, token: string, timeoutMs = 5_000): BrokerClient {
  const client = createBrokerClient({ baseUrl, tokens: { token: async () => token }, timeoutMs })
  clients.push(client)
  return client
}

const initBody = (from: Org, to: Org): FileTransferInitalizeExt => ({
  fileName: 'sbd.zip',
  resourceId: RESOURCE,
  sendersFileTransferReference: crypto.randomUUID(),
  sender: `0192:${from.orgNumber}`,
  recipients: [`0192:${to.orgNumber}`],
  propertyList: {},
  checksum: null,
  disableVirusScan: null,
})

async function failure(promise: Promise<unknown>): Promise<BrokerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(BrokerError)
  return error as BrokerError
}

describe('createBrokerClient against the stand-in', () => {
  it('sends a few MB from A to B and B receives the same bytes: initialize, upload, list, overview, download, confirm', async () => {
    const a = clientFor(orgs.a)
    const b = clientFor(orgs.b)
    const size = 4 * 1024 * 1024
    const id = await a.initialize(initBody(orgs.a, orgs.b))
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    const payload = generatedStream(size, 42)
    await a.upload(id, payload.stream, size)

    const waiting = { resourceId: RESOURCE, status: 'Published', recipientStatus: 'Initialized' }
    expect(await b.list(waiting)).toContain(id)
    expect(await a.list(waiting)).not.toContain(id) // A sent it; only recipients see it listed

    const overview = await b.overview(id)
    expect(overview).toMatchObject({
      fileTransferId: id,
      resourceId: RESOURCE,
      fileName: 'sbd.zip',
      fileTransferSize: size,
      fileTransferStatus: 'Published',
      sender: '0192:910075918',
      recipients: [{ recipient: '0192:910077473', currentRecipientFileTransferStatusCode: 'Initialized' }],
    })
    expect(Number.isNaN(Date.parse(overview.created))).toBe(false)

    const downloaded = await sha256Of(await b.download(id))
    expect(downloaded).toEqual({ hex: payload.digest(), size })
    expect(await b.list(waiting)).not.toContain(id)
    expect(await b.list({ ...waiting, recipientStatus: 'DownloadStarted' })).toContain(id)

    await b.confirmDownload(id)
    expect((await a.overview(id)).fileTransferStatus).toBe('AllConfirmedDownloaded')
    expect(await b.list({ resourceId: RESOURCE, recipientStatus: 'DownloadConfirmed' })).toContain(id)
  })

  it('streams an upload of unknown size (chunked)', async () => {
    const a = clientFor(orgs.a)
    const b = clientFor(orgs.b)
    const id = await a.initialize(initBody(orgs.a, orgs.b))
    const payload = generatedStream(300_000, 7)
    await a.upload(id, payload.stream)
    expect(await sha256Of(await b.download(id))).toEqual({ hex: payload.digest(), size: 300_000 })
  })

  it('maps 400, 401, 403, 404 and 409 to BrokerErrors that are not retryable, with the ProblemDetails', async () => {
    const a = clientFor(orgs.a)
    const b = clientFor(orgs.b)
    const c = clientFor(orgs.c)
    const id = await a.initialize(initBody(orgs.a, orgs.b))
    await a.upload(id, Readable.from([Buffer.from('first')]), 5)

    const again = Readable.from([Buffer.from('again')])
    const conflict = await failure(a.upload(id, again, 5))
    expect(again.destroyed).toBe(true)
    expect(conflict).toMatchObject({ status: 409, retryable: false, problem: { status: 409 } })
    expect(conflict.problem?.detail).toBeTruthy()
    expect(conflict.message).toContain(conflict.problem?.detail)

    const unknownToken = await failure(fixedTokenClient(standIn.apiUrl, 'not-a-token').overview(id))
    expect(unknownToken).toMatchObject({ status: 401, retryable: false, problem: { status: 401 } })

    const senderDownloads = await failure(a.download(id))
    expect(senderDownloads).toMatchObject({ status: 403, retryable: false, problem: { status: 403 } })
    const wrongSender = await failure(a.initialize(initBody(orgs.b, orgs.a)))
    expect(wrongSender).toMatchObject({ status: 403, retryable: false })

    const stranger = await failure(c.overview(id))
    expect(stranger).toMatchObject({
      status: 404,
      retryable: false,
      problem: { status: 404, instance: expect.any(String) },
    })

    const invalid = await failure(a.initialize({ ...initBody(orgs.a, orgs.b), recipients: [] }))
    expect(invalid).toMatchObject({ status: 400, retryable: false, problem: { status: 400 } })
    expect(Object.keys(invalid.problem?.errors ?? {})).not.toHaveLength(0)

    const notYetDownloaded = await failure(b.confirmDownload(id))
    expect(notYetDownloaded).toMatchObject({ status: 400, retryable: false })
  })

  it('makes the stand-in’s injected 503 a retryable BrokerError', async () => {
    const faulty = await startBroker({ faults: { errorRate: 1 } })
    try {
      const client = fixedTokenClient(faulty.apiUrl, 'any')
      for (const call of [
        () => client.list({ resourceId: RESOURCE }),
        () => client.initialize(initBody(orgs.a, orgs.b)),
        () => client.upload(crypto.randomUUID(), Readable.from([Buffer.alloc(1024)]), 1024),
      ]) {
        const error = await failure(call())
        expect(error).toMatchObject({ status: 503, retryable: true, problem: { status: 503 } })
        expect(error.problem?.detail).toMatch(/Injected fault/)
      }
    } finally {
      await faulty.close()
    }
  })

  it('gives up on a server that never answers with a retryable timeout, in time', async () => {
    const silent = await silentServer()
    try {
      const client = fixedTokenClient(`${silent.url}/broker/api/v1`, 'any', 200)
      const started = Date.now()
      const error = await failure(client.overview(crypto.randomUUID()))
      expect(Date.now() - started).toBeLessThan(2_000)
      expect(error).toMatchObject({ retryable: true, status: undefined, problem: undefined })
      expect(error.message).toMatch(/timed out after 200 ms/)
    } finally {
      await silent.close()
    }
  })

  it('ends a download that stalls mid-file with a retryable BrokerError', async () => {
    const sockets = new Set<Socket>()
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000' })
      res.write(Buffer.alloc(10)) // and nothing more
    })
    server.on('connection', (s) => sockets.add(s))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as { port: number }
      const client = fixedTokenClient(`http://127.0.0.1:${port}/broker/api/v1`, 'any', 200)
      const body = await client.download(crypto.randomUUID())
      const error = await failure(sha256Of(body))
      expect(error).toMatchObject({ retryable: true, status: undefined })
      expect(error.message).toMatch(/reading the file timed out after 200 ms/)
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('passes a token failure on as it is and closes the stream it was given', async () => {
    const refused = new BrokerError('exchange answered 401', { status: 401, retryable: false })
    const client = createBrokerClient({
      baseUrl: standIn.apiUrl,
      tokens: { token: () => Promise.reject(refused) },
      timeoutMs: 1_000,
    })
    clients.push(client)
    const body = generatedStream(1024).stream
    await expect(client.upload(crypto.randomUUID(), body, 1024)).rejects.toBe(refused)
    expect(body.destroyed).toBe(true)
  })

  it('makes a refused connection a retryable BrokerError', async () => {
    const gone = await silentServer()
    await gone.close()
    const error = await failure(
      fixedTokenClient(`${gone.url}/broker/api/v1`, 'any').list({ resourceId: RESOURCE }),
    )
    expect(error).toMatchObject({ retryable: true, status: undefined })
    expect(error.message).toMatch(/ECONNREFUSED/)
  })
})
