import { createHash, randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import busboy from 'busboy'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { FiksError, isRetryableAnswer } from './errors.js'
import type { OrganisasjonForsendelse } from './forsendelse.js'
import { createSvarUtClient, type SvarUtClient } from './svarut-client.js'

const KONTO = '7f1c6e2a-3d6b-4a8e-9a51-0c1d2e3f4a5b'
const FORSENDELSE_ID = 'd6b23522-ddf3-462a-8140-16e59e1f476d'

interface Part {
  name: string
  filename?: string
  mimeType: string
  size: number
  sha256: string
  text?: string
}

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  parts: Part[]
  json?: unknown
}

/** SvarUt's side of the calls: records what it got, answers what the test says. */
async function svarUt(answer: (seen: Seen) => { status: number; body: unknown }) {
  const seen: Seen[] = []
  const app = Fastify()
  app.addContentTypeParser('multipart/form-data', async (req: { raw: IncomingMessage }) => parts(req.raw))
  app.all('/*', async (req, reply) => {
    const s: Seen = { method: req.method, url: req.url, headers: req.headers, parts: [] }
    if (Array.isArray(req.body)) s.parts = req.body as Part[]
    else s.json = req.body
    seen.push(s)
    const { status, body } = answer(s)
    return reply.code(status).send(body)
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  servers.push(app)
  return { url, seen }
}

/** parses a multipart body as a stream, as SvarUt would, keeping hashes (and text for small parts) */
async function parts(raw: IncomingMessage): Promise<Part[]> {
  const out: Part[] = []
  const bb = busboy({ headers: raw.headers, defParamCharset: 'utf8', limits: { fieldSize: 10_000_000 } })
  bb.on('field', (name, value, info) =>
    out.push({ name, mimeType: info.mimeType, size: value.length, sha256: '', text: value }),
  )
  bb.on('file', (name, stream, info) => {
    const hash = createHash('sha256')
    let size = 0
    const head: Buffer[] = []
    stream.on('data', (c: Buffer) => {
      hash.update(c)
      size += c.length
      received += c.length
      if (size <= 4096) head.push(c)
    })
    stream.on('end', () =>
      out.push({
        name,
        filename: info.filename,
        mimeType: info.mimeType,
        size,
        sha256: hash.digest('hex'),
        text: size <= 4096 ? Buffer.concat(head).toString('utf8') : undefined,
      }),
    )
  })
  await pipeline(raw, bb)
  return out
}

/** document bytes the server has taken so far */
let received = 0
const servers: FastifyInstance[] = []
const clients: SvarUtClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

function client(baseUrl: string, token: () => Promise<string> = async () => 'token-1') {
  const c = createSvarUtClient({
    baseUrl,
    kontoId: KONTO,
    integrasjonId: '3b0e2f4c-1111-4222-8333-944455556666',
    integrasjonPassord: 'hemmelig',
    tokens: { token },
    timeoutMs: 5_000,
  })
  clients.push(c)
  return c
}

const FORSENDELSE = {
  tittel: 'Vedtak',
  mottaker: { navn: 'Testkommune', digitalId: '910229028' },
  eksternReferanse: 'bb8323b9-1023-4046-b620-63c4f9120c56',
  dokumenter: [
    { filnavn: 'vedtak.pdf', mimeType: 'application/pdf' },
    { filnavn: 'særutskrift.docx', mimeType: 'application/msword' },
  ],
} as unknown as OrganisasjonForsendelse

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function failure(p: Promise<unknown>): Promise<FiksError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(FiksError)
  return error as FiksError
}

describe('the SvarUt client', () => {
  it("sends the forsendelse as KS's client does and keeps the id SvarUt gives", async () => {
    const { url, seen } = await svarUt(() => ({ status: 200, body: { id: FORSENDELSE_ID } }))
    const a = randomBytes(200_000)
    const b = Buffer.from('\r\n--not-a-boundary\r\n')
    const id = await client(`${url}/`).send(FORSENDELSE, [
      {
        filnavn: 'vedtak.pdf',
        mimeType: 'application/pdf',
        open: () => Readable.from([a.subarray(0, 1000), a.subarray(1000)]),
      },
      { filnavn: 'særutskrift.docx', mimeType: 'application/msword', open: () => Readable.from([b]) },
    ])
    expect(id).toBe(FORSENDELSE_ID)
    const [call] = seen
    expect(call).toMatchObject({ method: 'POST', url: `/api/v3/kontoer/${KONTO}/forsendelser/organisasjon` })
    expect(call!.headers).toMatchObject({
      authorization: 'Bearer token-1',
      integrasjonid: '3b0e2f4c-1111-4222-8333-944455556666',
      integrasjonpassord: 'hemmelig',
      // streamed: an encrypted document's length is known only once written
      'transfer-encoding': 'chunked',
    })
    expect(call!.parts.map((p) => [p.name, p.filename, p.mimeType])).toEqual([
      ['forsendelse', undefined, 'application/json'],
      ['filer_0', 'vedtak.pdf', 'application/pdf'],
      ['filer_1', 'særutskrift.docx', 'application/msword'],
    ])
    expect(JSON.parse(call!.parts[0]!.text!)).toEqual(FORSENDELSE)
    expect(call!.parts.slice(1).map((p) => p.sha256)).toEqual([sha(a), sha(b)])
  })

  it('streams a large document without holding it', async () => {
    const { url, seen } = await svarUt(() => ({ status: 200, body: { id: FORSENDELSE_ID } }))
    const pattern = randomBytes(1024 * 1024)
    const hash = createHash('sha256')
    received = 0
    let made = 0
    let lead = 0
    // 64 MiB made as they are asked for: were the body gathered before sending, the server would have
    // none of it when the last is made; streamed, it is never far behind
    const big = () =>
      Readable.from(
        (function* () {
          for (let i = 0; i < 64; i++) {
            made++
            lead = Math.max(lead, i * 1024 * 1024 - received)
            const chunk = Buffer.from(pattern)
            hash.update(chunk)
            yield chunk
          }
        })(),
      )
    await client(url).send(FORSENDELSE, [{ filnavn: 'stor.pdf', mimeType: 'application/pdf', open: big }])
    expect(made).toBe(64)
    expect(seen[0]!.parts[1]).toMatchObject({ size: 64 * 1024 * 1024, sha256: hash.digest('hex') })
    expect(lead).toBeLessThan(16 * 1024 * 1024)
  })

  it('asks for statuses by id and reads the answer', async () => {
    const { url, seen } = await svarUt(() => ({
      status: 200,
      body: {
        statuser: [
          { id: FORSENDELSE_ID, status: 'LEST', sisteStatusEndring: '2023-01-01T11:33:55.008+01:00' },
          { id: 'x', status: 7 },
        ],
      },
    }))
    const c = client(url)
    expect(await c.statuses([FORSENDELSE_ID, 'ukjent'])).toEqual([
      { id: FORSENDELSE_ID, status: 'LEST', sisteStatusEndring: '2023-01-01T11:33:55.008+01:00' },
    ])
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: `/api/v3/kontoer/${KONTO}/forsendelser/status/sok`,
      json: { id: [FORSENDELSE_ID, 'ukjent'] },
    })
    expect(seen[0]!.headers['content-type']).toBe('application/json')
    expect(await c.statuses([])).toEqual([])
    expect(seen).toHaveLength(1)
  })

  it('finds our forsendelser by eksternRef, and lists the forsendelse types', async () => {
    const { url, seen } = await svarUt((s) =>
      s.url.startsWith('/api/v2/forsendelsestyper')
        ? { status: 200, body: { forsendelsestyper: ['Byggesak', 'ks.signertforsendelse'] } }
        : { status: 200, body: { forsendelseIds: [FORSENDELSE_ID] } },
    )
    const c = client(url)
    expect(await c.findByEksternRef('a b&c')).toEqual([FORSENDELSE_ID])
    expect(seen[0]!.url).toBe(`/api/v2/kontoer/${KONTO}/forsendelser?eksternRef=a+b%26c`)
    expect(await c.forsendelsestyper()).toEqual(['Byggesak', 'ks.signertforsendelse'])
  })

  it("gives up on SvarUt's refusal, with its message, and retries what may pass", async () => {
    const answers = [
      {
        status: 400,
        body: { status: 400, error: 'Bad Request', message: 'tittel må være satt', errorCode: 'VALIDERING' },
      },
      { status: 503, body: 'Service Unavailable' },
      { status: 500, body: { message: 'Duplikat eksternReferanse' } },
      { status: 401, body: { message: 'Ugyldig integrasjon' } },
      { status: 200, body: { noe: 'annet' } },
    ]
    const { url } = await svarUt(() => answers.shift()!)
    const c = client(url)
    const send = () => c.send(FORSENDELSE, [])
    expect(await failure(send())).toMatchObject({
      status: 400,
      errorCode: 'VALIDERING',
      retryable: false,
      message: `SvarUt POST /api/v3/kontoer/${KONTO}/forsendelser/organisasjon answered 400: tittel må være satt`,
    })
    expect(await failure(send())).toMatchObject({ status: 503, retryable: true })
    expect(await failure(send())).toMatchObject({ status: 500, retryable: false })
    expect(await failure(send())).toMatchObject({ status: 401, retryable: true })
    expect(await failure(send())).toMatchObject({ status: 200, retryable: false })
  })

  it('retries when SvarUt cannot be reached or no token can be had', async () => {
    const { url } = await svarUt(() => ({ status: 200, body: { id: FORSENDELSE_ID } }))
    await servers.pop()!.close()
    expect(await failure(client(url).forsendelsestyper())).toMatchObject({
      retryable: true,
      status: undefined,
    })
    const noToken = client(url, () => Promise.reject(new Error('Maskinporten answered 400: invalid_grant')))
    const error = await failure(noToken.forsendelsestyper())
    expect(error.retryable).toBe(true)
    expect(error.message).toMatch(/no Maskinporten token: Maskinporten answered 400: invalid_grant/)
  })
})

describe('which SvarUt answers may pass on a later try', () => {
  it('is 5xx, 401, 403, 404, 408 and 429, unless the reason is one the reference gives up on', () => {
    expect([500, 502, 503, 401, 403, 404, 408, 429].map((s) => isRetryableAnswer(s, 'x'))).toEqual(
      Array(8).fill(true),
    )
    expect([400, 409, 413, 415, 422].map((s) => isRetryableAnswer(s, 'x'))).toEqual(Array(5).fill(false))
    for (const reason of [
      'Duplikat',
      'Forsendelse med samme mottaker',
      'Ugyldig innhold',
      'Feil under lesing av',
      'Kan ikke lagre tomt dokument',
    ])
      expect(isRetryableAnswer(503, `SvarUt: ${reason} i forsendelsen`)).toBe(false)
  })
})
