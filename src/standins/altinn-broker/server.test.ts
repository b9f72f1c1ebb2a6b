import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto'
import { decodeJwt, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeIdentity, makeTempDir } from '../../packaging/test-support.js'
import { ManualClock } from '../../util/time.js'
import { MASKINPORTEN_PATH } from './paths.js'
import { startAltinnBroker } from './server.js'
import {
  brokerClient,
  capturingLogger,
  initBody,
  maskinportenToken,
  ORG_A,
  ORG_B,
  ORG_C,
  RESOURCE,
  tempDir,
} from './test-support.js'

const dir = tempDir()
const clock = new ManualClock('2026-03-10T10:00:00Z')
let broker: Awaited<ReturnType<typeof startAltinnBroker>>
let client: ReturnType<typeof brokerClient>
let a: string
let b: string
let c: string

beforeAll(async () => {
  broker = await startAltinnBroker({ port: 0, dataDir: dir.path, logger: capturingLogger().logger, clock })
  client = brokerClient(broker.url)
  ;[a, b, c] = await Promise.all([client.exchange(ORG_A), client.exchange(ORG_B), client.exchange(ORG_C)])
})
afterAll(async () => {
  await broker?.close()
  dir.remove()
})

async function published(bytes: Buffer, recipients = [ORG_B]): Promise<string> {
  const init = await client.initialize(a, initBody(ORG_A, recipients))
  expect(init.status).toBe(200)
  const id = init.json().fileTransferId
  expect((await client.upload(a, id, bytes)).status).toBe(200)
  return id
}

function expectProblem(res: { status: number; type: string | null; json(): any }, status: number) {
  expect(res.status).toBe(status)
  expect(res.type).toMatch(/^application\/problem\+json/)
  const body = res.json()
  expect(body).toMatchObject({ status, title: expect.any(String), type: expect.stringContaining('rfc9110') })
  expect(typeof body.detail).toBe('string')
  expect(typeof body.instance).toBe('string')
  return body
}

describe('a file transfer from A to B', () => {
  it('goes send → list → overview → download → confirm with the exact bytes', async () => {
    const bytes = randomBytes(200_000)
    const init = await client.initialize(a, initBody(ORG_A, [ORG_B], { propertyList: { k: 'v' } }))
    expect(init.status).toBe(200)
    const { fileTransferId: id } = init.json()
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect((await client.overview(a, id)).json().fileTransferStatus).toBe('Initialized')

    const up = await client.upload(a, id, bytes)
    expect(up.status).toBe(200)
    expect(up.json()).toEqual({ fileTransferId: id })

    expect((await client.list(b)).json()).toContain(id)
    const view = (await client.overview(b, id)).json()
    expect(view).toMatchObject({
      fileTransferId: id,
      resourceId: RESOURCE,
      fileName: 'sbd.zip',
      sender: ORG_A,
      fileTransferSize: bytes.length,
      fileTransferStatus: 'Published',
      useVirusScan: true,
      propertyList: { k: 'v' },
      created: '2026-03-10T10:00:00.000Z',
      expirationTime: '2026-04-09T10:00:00.000Z',
      recipients: [{ recipient: ORG_B, currentRecipientFileTransferStatusCode: 'Initialized' }],
    })

    const dl = await client.download(b, id)
    expect(dl.status).toBe(200)
    expect(dl.bytes.equals(bytes)).toBe(true)
    // as real Altinn: a started download leaves the Initialized list
    expect((await client.list(b)).json()).not.toContain(id)
    expect((await client.list(b, `?recipientStatus=DownloadStarted`)).json()).toContain(id)

    expect((await client.confirm(b, id)).status).toBe(200)
    expect((await client.confirm(b, id)).status).toBe(200) // a retried confirm is harmless
    const done = (await client.overview(a, id)).json()
    expect(done.fileTransferStatus).toBe('AllConfirmedDownloaded')
    expect(done.recipients[0].currentRecipientFileTransferStatusCode).toBe('DownloadConfirmed')
  })

  it('accepts initialize with and without the trailing slash', async () => {
    expect((await client.initialize(a, initBody(ORG_A, [ORG_B]), '')).status).toBe(200)
    expect((await client.initialize(a, initBody(ORG_A, [ORG_B]), '/')).status).toBe(200)
  })

  it('waits for every recipient before AllConfirmedDownloaded', async () => {
    const id = await published(Buffer.from('two'), [ORG_B, ORG_C])
    for (const t of [b, c]) expect((await client.download(t, id)).status).toBe(200)
    await client.confirm(b, id)
    expect((await client.overview(a, id)).json().fileTransferStatus).toBe('Published')
    await client.confirm(c, id)
    expect((await client.overview(a, id)).json().fileTransferStatus).toBe('AllConfirmedDownloaded')
  })
})

describe('recipient filtering', () => {
  it('shows a transfer only to its recipients, and overview also to its sender', async () => {
    const id = await published(Buffer.from('for B only'))
    expect((await client.list(b)).json()).toContain(id)
    expect((await client.list(c, '')).json()).not.toContain(id)
    expect((await client.list(a, '')).json()).not.toContain(id)
    expect((await client.overview(a, id)).status).toBe(200)
    expectProblem(await client.overview(c, id), 404)
    expect((await client.download(c, id)).status).toBe(404)
    expectProblem(await client.confirm(c, id), 404)
    expectProblem(await client.confirm(a, id), 403)
  })

  it('lists by resourceId and status, newest first, at most 100', async () => {
    const ids: string[] = []
    for (let i = 0; i < 103; i++) {
      clock.advance(1000)
      const res = await client.initialize(a, initBody(ORG_A, [ORG_C], { resourceId: 'many' }))
      ids.push(res.json().fileTransferId)
    }
    const listed = (await client.list(c, '?resourceId=many&status=Initialized')).json()
    expect(listed).toEqual(ids.slice(3).reverse())
    expect((await client.list(c, '?resourceId=many&status=Published')).json()).toEqual([])
    expect((await client.list(c, '?resourceId=other')).json()).toEqual([])
  })
})

describe('errors are ProblemDetails', () => {
  it('401 without a token or with an unknown one', async () => {
    expectProblem(await client.list(''), 401)
    expectProblem(await client.list('nope'), 401)
    expectProblem(await client.call('/authentication/api/v1/exchange/maskinporten'), 401)
    const noOrg = maskinportenToken({ scope: 'altinn:broker.read' })
    expectProblem(await client.call('/authentication/api/v1/exchange/maskinporten', { token: noOrg }), 401)
  })

  it('401 once the Altinn token has lived 30 minutes', async () => {
    const t = await client.exchange(ORG_A)
    clock.advance(31 * 60_000)
    expectProblem(await client.list(t, ''), 401)
    ;[a, b, c] = await Promise.all([client.exchange(ORG_A), client.exchange(ORG_B), client.exchange(ORG_C)])
  })

  it('maps a system-user token to its systemuser_org', async () => {
    const token = maskinportenToken({
      consumer: { ID: ORG_A },
      authorization_details: [{ type: 'urn:altinn:systemuser', systemuser_org: { ID: ORG_C } }],
    })
    const res = await client.call('/authentication/api/v1/exchange/maskinporten', { token })
    expect((await client.initialize(res.text, initBody(ORG_C, [ORG_B]))).status).toBe(200)
    expectProblem(await client.initialize(res.text, initBody(ORG_A, [ORG_B])), 403)
  })

  it('403 when the sender is not the caller, or someone else uploads', async () => {
    expectProblem(await client.initialize(b, initBody(ORG_A, [ORG_B])), 403)
    const id = (await client.initialize(a, initBody(ORG_A, [ORG_B]))).json().fileTransferId
    expectProblem(await client.upload(b, id, Buffer.from('x')), 403)
  })

  it('404 for an unknown transfer or path, 400 for a malformed id', async () => {
    const unknown = crypto.randomUUID()
    expectProblem(await client.overview(b, unknown), 404)
    expectProblem(await client.upload(a, unknown, Buffer.from('x')), 404)
    expectProblem(await client.call('/broker/api/v1/nothing', { token: a }), 404)
    expectProblem(await client.overview(b, 'not-a-uuid'), 400)
  })

  it('409 on a second upload', async () => {
    const id = await published(Buffer.from('once'))
    const body = expectProblem(await client.upload(a, id, Buffer.from('twice')), 409)
    expect(body.instance).toBe(`/broker/api/v1/filetransfer/${id}/upload`)
    expect((await client.download(b, id)).bytes.toString()).toBe('once')
  })

  it('400 for an invalid initialize body, naming the fields', async () => {
    const body = expectProblem(
      await client.initialize(a, { ...initBody('910075918', []), extra: 1, fileName: '' }),
      400,
    )
    expect(Object.keys(body.errors).sort()).toEqual(['extra', 'fileName', 'recipients', 'sender'])
    const bad = await client.call('/broker/api/v1/filetransfer', {
      method: 'POST',
      token: a,
      headers: { 'content-type': 'application/json' },
      body: '{"fileName":',
    })
    expectProblem(bad, 400)
  })

  it('400 for download or confirm before the file is there, and for a wrong checksum', async () => {
    const id = (await client.initialize(a, initBody(ORG_A, [ORG_B]))).json().fileTransferId
    expect((await client.download(b, id)).status).toBe(400)
    expectProblem(await client.confirm(b, id), 400)
    await client.upload(a, id, Buffer.from('x'))
    expectProblem(await client.confirm(b, id), 400) // published, but not downloaded yet
    const md5 = await client.initialize(a, initBody(ORG_A, [ORG_B], { checksum: '0'.repeat(32) }))
    const upload = await client.upload(a, md5.json().fileTransferId, Buffer.from('x'))
    expect(expectProblem(upload, 400).detail).toContain('checksum')
  })

  it('400 for an unknown status in the list query', async () => {
    expectProblem(await client.list(b, '?status=Sent'), 400)
    expectProblem(await client.list(b, '?from=yesterday'), 400)
  })
})

describe('expiry and purging', () => {
  it('purges a transfer at expirationTime', async () => {
    const id = await published(Buffer.from('short-lived'))
    clock.advance(30 * 86_400_000 + 1)
    ;[a, b, c] = await Promise.all([client.exchange(ORG_A), client.exchange(ORG_B), client.exchange(ORG_C)])
    expect((await client.overview(b, id)).json().fileTransferStatus).toBe('Purged')
    expect((await client.download(b, id)).status).toBe(400)
  })
})

it('answers /health', async () => {
  const res = await client.call('/health')
  expect([res.status, res.type, res.text]).toEqual([200, 'application/json', '{"status":"UP"}'])
})

describe("the Maskinporten token endpoint's delegation (consumer_org)", () => {
  const keys = makeTempDir('maskinporten-grant-')
  const ip = makeIdentity(keys.dir, 'ip')
  afterAll(() => keys.cleanup())

  async function grant(extra: Record<string, unknown>) {
    const now = Math.floor(clock.now().getTime() / 1000)
    const assertion = await new SignJWT({
      scope: 'digitalpostinnbygger:send',
      consumer: { authority: 'iso6523-actorid-upis', ID: ORG_A },
      ...extra,
    })
      .setProtectedHeader({ alg: 'RS256', x5c: [new X509Certificate(ip.certPem).raw.toString('base64')] })
      .setIssuer('MOVE_IP_910075918')
      .setAudience('https://test.maskinporten.no/')
      .setIssuedAt(now)
      .setExpirationTime(now + 120)
      .sign(createPrivateKey(ip.keyPem))
    return client.call(MASKINPORTEN_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion,
      }).toString(),
    })
  }

  it('makes the delegating organisation the consumer and the signer the supplier', async () => {
    const res = await grant({ consumer_org: '910077473' })
    expect(res.status).toBe(200)
    const token = decodeJwt(res.json().access_token)
    expect(token.consumer).toEqual({ authority: 'iso6523-actorid-upis', ID: ORG_B })
    expect(token.supplier).toEqual({ authority: 'iso6523-actorid-upis', ID: ORG_A })
    expect(token.scope).toBe('digitalpostinnbygger:send')
  })

  it('keeps the signer as the consumer, with no supplier, without consumer_org', async () => {
    const token = decodeJwt((await grant({})).json().access_token)
    expect(token.consumer).toEqual({ authority: 'iso6523-actorid-upis', ID: ORG_A })
    expect(token).not.toHaveProperty('supplier')
  })

  it('refuses a consumer_org that is not an organisation number', async () => {
    const res = await grant({ consumer_org: '0192:910077473' })
    expect(res.status).toBe(400)
    expect(res.json()).toMatchObject({ error: 'invalid_grant' })
  })
})
