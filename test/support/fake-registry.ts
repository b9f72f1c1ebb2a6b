import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { CompactSign, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose'
import {
  FIXTURE_IDENTIFIERS,
  FIXTURE_NAMES,
  type FixtureName,
  forProcess,
  infoOnly,
  loadFixture,
  processesOf,
} from '../fixtures/service-registry/index.js'

export * from '../fixtures/service-registry/index.js'

/**
 * A small ServiceRegistry test double on a real socket (127.0.0.1, a free port): answers set per
 * path, `/jwk` with a fresh RSA key, signed answers (compact JWS, RS256, header `{alg, kid}`) when
 * the request's Accept asks for `application/jose` and the status is 200, plain JSON otherwise, and
 * the SR error body for errors. The full ServiceRegistry stand-in lives elsewhere.
 */
export interface FakeRequest {
  method: string
  /** path and query as received */
  url: string
  headers: IncomingHttpHeaders
}

export type FailureKind = 'close' | 'hang' | 500

export interface FakeRegistry {
  /** base URL, no trailing slash: use it as difi.move.serviceregistryEndpoint */
  url: string
  /** `${url}/jwk` */
  jwkUrl: string
  /** every request, `/jwk` included */
  requests: FakeRequest[]
  /** the `kid` of the current signing key (its RFC 7638 thumbprint) */
  readonly kid: string
  /** when true, signed answers carry a payload other than the one signed */
  tamper: boolean
  /** when false, answers are never signed (an SR that ignores Accept: application/jose) */
  sign: boolean
  /** `path` without query, e.g. `/identifier/910075918/process/urn:no:difi:profile:arkivmelding:administrasjon:ver1.0`; a string body is sent as is */
  set(path: string, status: number, body: unknown): void
  /** the answer for paths nobody set (at start: 404 with the SR error body) */
  setDefault(status: number, body: unknown): void
  useFixture(path: string, name: FixtureName): void
  /** every fixture at `/identifier/{id}`, `/identifier/{id}/process/{p}` and `/info/{id}` */
  useAllFixtures(): void
  /** the next `n` requests (not `/jwk`) fail: socket closed, never answered, or 500 */
  failNext(n: number, how: FailureKind): void
  /** signs with a new key from now on; `/jwk` serves only the new one */
  rotateKey(): Promise<void>
  close(): Promise<void>
}

/** The SR's error body (`ErrorResponse`). */
export function srError(description: string, code = ''): { error_code: string; error_description: string } {
  return { error_code: code, error_description: description }
}

interface Answer {
  status: number
  body: unknown
}

interface SigningKey {
  privateKey: CryptoKey
  jwk: JWK
}

async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 })
  const jwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(jwk, 'sha256')
  return { privateKey, jwk: { kty: 'RSA', use: 'sig', alg: 'RS256', kid, n: jwk.n, e: jwk.e } }
}

// RSA key generation takes a while; every fake starts with the same key, rotateKey() makes new ones
let firstKey: Promise<SigningKey> | undefined

export async function startFakeRegistry(opts: { sign?: boolean } = {}): Promise<FakeRegistry> {
  firstKey ??= newSigningKey()
  let key = await firstKey
  const routes = new Map<string, Answer>()
  const failures: FailureKind[] = []
  const sockets = new Set<Socket>()
  let fallback: Answer = { status: 404, body: srError('Entity not found.') }

  const fake: FakeRegistry = {
    url: '',
    jwkUrl: '',
    requests: [],
    get kid() {
      return key.jwk.kid!
    },
    tamper: false,
    sign: opts.sign ?? true,
    set: (path, status, body) => void routes.set(path, { status, body }),
    setDefault: (status, body) => {
      fallback = { status, body }
    },
    useFixture: (path, name) => void routes.set(path, { status: 200, body: loadFixture(name) }),
    useAllFixtures: () => {
      for (const name of FIXTURE_NAMES) addFixtureRoutes(routes, name)
    },
    failNext: (n, how) => {
      for (let i = 0; i < n; i++) failures.push(how)
    },
    rotateKey: async () => {
      key = await newSigningKey()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    fake.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    const path = pathOf(req.url ?? '/')
    if (path !== '/jwk' && failures.length > 0) {
      const how = failures.shift()!
      if (how === 'close') return void req.socket.destroy()
      if (how === 'hang') return
      return reply(res, 500, 'application/json', JSON.stringify(srError('Simulated ServiceRegistry failure')))
    }
    const answer =
      routes.get(path) ?? (path === '/jwk' ? { status: 200, body: { keys: [key.jwk] } } : fallback)
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)
    const wantsJose = String(req.headers.accept ?? '').includes('application/jose')
    if (answer.status === 200 && fake.sign && wantsJose && path !== '/jwk') {
      return reply(res, 200, 'application/jose', await signed(text, key, fake.tamper))
    }
    const type = typeof answer.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'
    reply(res, answer.status, type, text)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, 'text/plain', String(err)))
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  fake.url = `http://127.0.0.1:${port}`
  fake.jwkUrl = `${fake.url}/jwk`
  return fake
}

function addFixtureRoutes(routes: Map<string, Answer>, name: FixtureName): void {
  const answer = loadFixture(name)
  const id = FIXTURE_IDENTIFIERS[name]
  routes.set(`/identifier/${id}`, { status: 200, body: answer })
  routes.set(`/info/${id}`, { status: 200, body: infoOnly(answer) })
  for (const process of processesOf(answer)) {
    routes.set(`/identifier/${id}/process/${process}`, { status: 200, body: forProcess(answer, process) })
  }
}

async function signed(text: string, key: SigningKey, tamper: boolean): Promise<string> {
  const jws = await new CompactSign(new TextEncoder().encode(text))
    .setProtectedHeader({ alg: 'RS256', kid: key.jwk.kid })
    .sign(key.privateKey)
  if (!tamper) return jws
  // a payload that differs by one trailing space: same JSON, different bytes, so the signature fails
  const [header, , signature] = jws.split('.')
  return `${header}.${Buffer.from(`${text} `).toString('base64url')}.${signature}`
}

function reply(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function pathOf(url: string): string {
  const path = url.split('?')[0] ?? '/'
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}
