import { createHash, randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { FiksError } from './errors.js'
import { createSvarInnClient, type SvarInnClient } from './svarinn-client.js'

const ID = '81264cfa-1ba5-4fb5-a95d-48c824ed3bbb'
const BASIC = `Basic ${Buffer.from('mottaker:passord').toString('base64')}`

interface Seen {
  method: string
  url: string
  authorization: string | undefined
  body: unknown
}

const servers: FastifyInstance[] = []
const clients: SvarInnClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

/** SvarInn's side: checks the Basic credentials as SvarInn does, records the calls, answers as told. */
async function svarInn(answer: (req: FastifyRequest) => { status: number; body?: unknown; type?: string }) {
  const seen: Seen[] = []
  const app = Fastify()
  app.all('/*', async (req, reply) => {
    seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body: req.body })
    if (req.headers.authorization !== BASIC)
      return reply.code(401).send({ message: 'Ugyldig brukernavn/passord' })
    const { status, body, type } = answer(req)
    if (type) reply.type(type)
    return reply.code(status).send(body)
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  servers.push(app)
  return { url, seen, base: `${url}/tjenester/svarinn` }
}

function client(baseUrl: string, password = 'passord') {
  const c = createSvarInnClient({
    baseUrl,
    username: 'mottaker',
    password,
    connectTimeoutMs: 5_000,
    readTimeoutMs: 5_000,
  })
  clients.push(c)
  return c
}

async function failure(p: Promise<unknown>): Promise<FiksError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(FiksError)
  return error as FiksError
}

describe('the SvarInn client', () => {
  it('lists the new forsendelser with the mottakersystem credentials, each as SvarInn wrote it', async () => {
    const items = [{ id: ID, tittel: 'Svar' }, { id: 'ødelagt' }]
    const { base, seen } = await svarInn(() => ({ status: 200, body: items }))
    expect(await client(base).hentNyeForsendelser()).toEqual(items)
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/tjenester/svarinn/mottaker/hentNyeForsendelser' })
  })

  it('downloads a forsendelse as a stream, by an absolute or a relative downloadUrl', async () => {
    const bytes = randomBytes(3 * 1024 * 1024)
    const { base, url, seen } = await svarInn(() => ({ status: 200, body: bytes, type: 'application/zip' }))
    const c = client(`${base}/`)
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
    const read = async (path: string) => {
      const chunks: Buffer[] = []
      for await (const chunk of await c.download(path)) chunks.push(chunk as Buffer)
      return sha(Buffer.concat(chunks))
    }
    expect(await read(`${url}/tjenester/svarinn/forsendelse/${ID}`)).toBe(sha(bytes))
    expect(await read(`/tjenester/svarinn/forsendelse/${ID}`)).toBe(sha(bytes))
    expect(seen.map((s) => [s.url, s.authorization])).toEqual([
      [`/tjenester/svarinn/forsendelse/${ID}`, BASIC],
      [`/tjenester/svarinn/forsendelse/${ID}`, BASIC],
    ])
  })

  it('never sends the password to a downloadUrl elsewhere', async () => {
    const { base, seen } = await svarInn(() => ({ status: 200, body: 'x' }))
    const error = await failure(client(base).download(`http://127.0.0.2:1/forsendelse/${ID}`))
    expect(error).toMatchObject({ retryable: false })
    expect(error.message).toMatch(/is not at http:\/\/127\.0\.0\.1:\d+: not sending the password there/)
    expect(seen).toEqual([])
  })

  it('acknowledges a forsendelse, and reports one that cannot be taken in', async () => {
    const { base, seen } = await svarInn(() => ({ status: 200 }))
    const c = client(base)
    await c.kvitterMottak(ID)
    await c.mottakFeilet(ID, 'Kunne ikke dekryptere forsendelsen', true)
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', `/tjenester/svarinn/kvitterMottak/forsendelse/${ID}`, undefined],
      [
        'POST',
        `/tjenester/svarinn/mottakFeilet/forsendelse/${ID}`,
        { feilmelding: 'Kunne ikke dekryptere forsendelsen', permanent: true },
      ],
    ])
  })

  it('says which failures may pass: a wrong password or a 5xx may, a refused acknowledgement may not', async () => {
    const { base } = await svarInn((req) =>
      req.url.includes('kvitterMottak')
        ? { status: 400, body: { message: 'Ukjent forsendelse' } }
        : { status: 503 },
    )
    expect(await failure(client(base, 'feil').hentNyeForsendelser())).toMatchObject({
      status: 401,
      retryable: true,
    })
    expect(await failure(client(base).hentNyeForsendelser())).toMatchObject({ status: 503, retryable: true })
    const refused = await failure(client(base).kvitterMottak(ID))
    expect(refused).toMatchObject({ status: 400, retryable: false })
    expect(refused.message).toBe(
      `SvarInn POST /tjenester/svarinn/kvitterMottak/forsendelse/${ID} answered 400: Ukjent forsendelse`,
    )
  })

  it('retries a list that is not one, and SvarInn out of reach', async () => {
    const { base } = await svarInn(() => ({ status: 200, body: { forsendelser: [] } }))
    expect(await failure(client(base).hentNyeForsendelser())).toMatchObject({ retryable: true })
    await servers.pop()!.close()
    expect(await failure(client(base).hentNyeForsendelser())).toMatchObject({
      retryable: true,
      status: undefined,
    })
  })
})
