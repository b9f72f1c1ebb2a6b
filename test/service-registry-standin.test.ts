import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startServiceRegistry } from '../src/standins/service-registry/server.js'
import { capturingLogger, tempDir } from '../src/standins/service-registry/test-support.js'
import { startTestIp, type TestIp } from './support/ip.js'

/**
 * The integration point against the ServiceRegistry stand-in, both for real on sockets, with signed
 * answers (`difi.move.sign.enable=true`). A small proxy sits between them so the test can see that
 * the answers were signed, and can tamper with one.
 */

const SANDBOX = new URL('../sandbox/catalog.json', import.meta.url)
const sandbox = JSON.parse(readFileSync(SANDBOX, 'utf8')) as {
  organisations: { orgnr: string }[]
  persons: { fnr: string }[]
}
const PROCESSES = [
  null,
  'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
  'urn:no:difi:profile:einnsyn:innsynskrav:ver1.0',
  'urn:no:difi:profile:digitalpost:vedtak:ver1.0',
]
const LEVELS = [null, 4]
const RECEIVERS = [
  ...sandbox.organisations.map((o) => o.orgnr),
  ...sandbox.persons.map((p) => p.fnr),
  'her-id:8143548',
  '974720760', // an organisation the catalogue does not list
  '11720340021', // a person it does not list
]

const dir = tempDir()
const catalogPath = dir.file('catalog.json', readFileSync(SANDBOX, 'utf8'))
const log = capturingLogger()
let sr: Awaited<ReturnType<typeof startServiceRegistry>>
let proxy: Proxy
let ip: TestIp

beforeAll(async () => {
  sr = await startServiceRegistry({ port: 0, catalogPath, dataDir: `${dir.path}/data`, logger: log.logger })
  proxy = await startProxy(sr.url)
  ip = await startTestIp('sqlite', {
    overrides: {
      'difi.move.serviceregistryEndpoint': proxy.url,
      'difi.move.sign.enable': 'true',
      // every capabilities call asks the registry, so an edit shows at once
      'difi.move.serviceregistry.cache-ttl-seconds': '0',
    },
  })
})

afterAll(async () => {
  await ip?.close()
  await proxy?.close()
  await sr?.close()
  dir.remove()
})

function capabilities(receiver: string, process: string | null, securityLevel: number | null = null) {
  const query = new URLSearchParams()
  if (process) query.set('process', process)
  if (securityLevel !== null) query.set('securityLevel', String(securityLevel))
  return ip.json(`/api/capabilities/${receiver}${query.size > 0 ? `?${query}` : ''}`)
}

/** What the stand-in answers the integration point's own lookup, unsigned. */
async function registryAnswer(receiver: string, process: string | null, securityLevel: number | null) {
  const level = securityLevel === null ? '' : `?securityLevel=${securityLevel}`
  const res = await fetch(`${sr.url}/identifier/${receiver}${process ? `/process/${process}` : ''}${level}`)
  return { status: res.status, body: res.status === 200 ? await res.json() : undefined }
}

describe('the integration point against the stand-in', () => {
  it('answers capabilities for every sandbox receiver as the reference would from the same answers', async () => {
    const statuses = new Set<number>()
    const cases = RECEIVERS.flatMap((r) => PROCESSES.flatMap((p) => LEVELS.map((l) => [r, p, l] as const)))
    for (const [receiver, process, level] of cases) {
      const expected = await registryAnswer(receiver, process, level)
      const got = await capabilities(receiver, process, level)
      const what = `${receiver} ${process ?? '(all processes)'} level ${level}`
      statuses.add(expected.status)
      if (expected.status === 200) {
        expect(got.status, what).toBe(200)
        // key order too: the reference writes process, serviceIdentifier, postAddress, returnAddress, ...
        expect(JSON.stringify(got.body), what).toBe(JSON.stringify(referenceCapabilities(expected.body)))
      } else {
        // the registry's 404 is the caller's 404; its 400 (level 4 not met) is our 502 (the reference: 500)
        expect(got.status, what).toBe(expected.status === 404 ? 404 : 502)
      }
    }
    expect([...statuses].sort()).toEqual([200, 400, 404])
    const lookups = proxy.seen.filter((s) => s.path.startsWith('/identifier/') && s.status === 200)
    expect(lookups.length).toBeGreaterThan(RECEIVERS.length)
    expect(
      lookups.every((s) => s.accept.startsWith('application/jose') && s.type === 'application/jose'),
    ).toBe(true)
    expect(proxy.seen.some((s) => s.path === '/jwk')).toBe(true)
  })

  it('covers every kind of receiver in the sandbox', async () => {
    const kinds = new Set<string>()
    for (const receiver of RECEIVERS) {
      const got = await capabilities(receiver, null)
      for (const c of (
        got.body as { capabilities?: { serviceIdentifier: string; documentTypes: { type?: string }[] }[] }
      ).capabilities ?? []) {
        kinds.add(`${c.serviceIdentifier} ${c.documentTypes.map((d) => d.type).join('+')}`)
      }
    }
    for (const kind of [
      'DPO arkivmelding',
      'DPV arkivmelding',
      'DPF arkivmelding',
      'DPE innsynskrav',
      'DPE publisering',
      'DPO avtalt',
      'DPI digital',
      'DPI print',
      'DPV digital_dpv',
    ]) {
      expect([...kinds]).toContain(kind)
    }
  })

  it('refuses a malformed receiver or process with 400 before asking the registry, not a 502', async () => {
    const asked = proxy.seen.length
    const cases = [
      [
        '9'.repeat(400),
        null,
        /^receiverIdentifier '9{40}… \(400 characters\)' is not an organisation number/,
      ],
      ['910077473:x', null, /^receiverIdentifier '910077473:x' is not/],
      ['abc', null, /^receiverIdentifier 'abc' is not/],
      ['910077473', 'a%2Fb', /^process 'a\/b' is not a process identifier/],
      ['910077473', 'a%3Bb', /^process 'a;b' is not/],
      ['910077473', 'x'.repeat(301), /^process 'x{40}… \(301 characters\)' is not/],
    ] as const
    for (const [receiver, process, message] of cases) {
      const got = await ip.json<Record<string, unknown>>(
        `/api/capabilities/${receiver}${process ? `?process=${process}` : ''}`,
      )
      expect(got.status, receiver).toBe(400)
      expect(got.body).toMatchObject({
        status: 400,
        error: 'Bad Request',
        exception: 'java.lang.IllegalArgumentException',
        message: expect.stringMatching(message),
        path: `/api/capabilities/${receiver}`,
      })
    }
    expect(proxy.seen.slice(asked)).toEqual([])
    // what the registry can parse is still asked: an unknown but well-formed organisation is its 404
    expect((await capabilities('0192:974720760', null)).status).toBe(404)
  })

  it('refuses an answer whose signature does not hold', async () => {
    proxy.tamper = true
    try {
      const got = await capabilities('910094092', null)
      expect(got.status).toBe(502)
      expect(JSON.stringify(got.body)).toContain('Bad signature in response from service registry')
    } finally {
      proxy.tamper = false
    }
    expect((await capabilities('910094092', null)).status).toBe(200)
  })

  it('follows an edited catalogue within seconds, without a restart; a broken edit is reported and ignored', async () => {
    const original = readFileSync(catalogPath, 'utf8')
    const administrasjon = PROCESSES[1]!
    const serviceOf = async () => {
      const got = await capabilities('910094092', administrasjon)
      return (got.body as { capabilities: { serviceIdentifier: string }[] }).capabilities[0]
        ?.serviceIdentifier
    }
    try {
      expect(await serviceOf()).toBe('DPV')
      const edited = JSON.parse(original)
      Object.assign(edited.organisations[4], {
        certificate: { generated: '910094092' },
        DPO: { processes: [administrasjon] },
      })
      const started = Date.now()
      writeFileSync(catalogPath, JSON.stringify(edited, null, 2))
      await vi.waitFor(async () => expect(await serviceOf()).toBe('DPO'), { timeout: 5000, interval: 100 })
      expect(Date.now() - started).toBeLessThan(5000)

      const errors = () =>
        log
          .lines()
          .filter((l) => l.level === 50)
          .map((l) => String(l.msg))
      writeFileSync(catalogPath, '{ "organisations": [ }')
      await vi.waitFor(() => expect(errors().at(-1)).toMatch(/line 1, column \d+: not valid JSON/), {
        timeout: 5000,
        interval: 100,
      })
      expect(await serviceOf()).toBe('DPO')

      edited.organisations[4].DPE = { processes: [administrasjon] }
      writeFileSync(catalogPath, JSON.stringify(edited))
      await vi.waitFor(
        () =>
          expect(errors().at(-1)).toContain(
            `organisations[4].DPE.processes[0]: "${administrasjon}" is a ARKIVMELDING process`,
          ),
        { timeout: 5000, interval: 100 },
      )
      expect(await serviceOf()).toBe('DPO')
    } finally {
      writeFileSync(catalogPath, original)
    }
    await vi.waitFor(async () => expect(await serviceOf()).toBe('DPV'), { timeout: 5000, interval: 100 })
  })
})

// --- the reference's CapabilitiesFactory (felleslosninger/efm-integrasjonspunkt), written out ---

const MESSAGE_TYPES = [
  'status',
  'feil',
  'arkivmelding',
  'arkivmelding_kvittering',
  'avtalt',
  'digital',
  'digital_dpv',
  'print',
  'dialogmelding',
  'dialogmelding_kvittering',
  'innsynskrav',
  'publisering',
  'einnsyn_kvittering',
]
const SERVICES = ['DPO', 'DPV', 'DPI', 'DPF', 'DPE', 'DPH']
const ADDRESS_FIELDS = ['name', 'street', 'postalCode', 'postalArea', 'country']
type Obj = Record<string, any>

function referenceCapabilities(answer: Obj): Obj {
  return {
    capabilities: (answer.serviceRecords as Obj[]).map((r) => {
      const service = SERVICES.includes(r.service?.identifier) ? r.service.identifier : 'UNKNOWN'
      const dpi = service === 'DPI'
      const documentTypes = (r.documentTypes as string[]).map((standard) => {
        const type = MESSAGE_TYPES.find((t) => standard.endsWith(`::${t}`))
        return type ? { type, standard } : { standard }
      })
      return withoutNulls({
        process: r.process ?? null,
        serviceIdentifier: service,
        postAddress: dpi ? address(r, 'postAddress') : null,
        returnAddress: dpi ? address(r, 'returnAddress') : null,
        documentTypes,
        digitalPostAddress: dpi
          ? withoutNulls({ supplier: r.orgnrPostkasse ?? null, address: r.postkasseAdresse ?? null })
          : null,
      })
    }),
  }
}

/** The client's `PostAddress`: a missing key is five empty strings, an explicit null is no address. */
function address(record: Obj, key: string): Obj | null {
  if (!(key in record)) return Object.fromEntries(ADDRESS_FIELDS.map((f) => [f, '']))
  const a = record[key]
  return a === null
    ? null
    : withoutNulls(Object.fromEntries(ADDRESS_FIELDS.map((f) => [f, f in a ? a[f] : ''])))
}

function withoutNulls(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null))
}

// --- a proxy that records what passes, and can tamper with a signed answer ---

interface Proxy {
  url: string
  seen: { path: string; accept: string; status: number; type: string }[]
  tamper: boolean
  close(): Promise<void>
}

async function startProxy(target: string): Promise<Proxy> {
  const proxy: Proxy = { url: '', seen: [], tamper: false, close: async () => {} }
  const server: Server = createServer(async (req, res) => {
    const accept = String(req.headers.accept ?? '')
    const upstream = await fetch(`${target}${req.url}`, { headers: { accept } })
    const type = upstream.headers.get('content-type') ?? ''
    let body = await upstream.text()
    proxy.seen.push({ path: (req.url ?? '').split('?')[0]!, accept, status: upstream.status, type })
    if (proxy.tamper && type === 'application/jose') body = tampered(body)
    res.writeHead(upstream.status, type ? { 'content-type': type } : {})
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  proxy.close = () => new Promise((resolve) => server.close(() => resolve()))
  return proxy
}

/** The same JWS with DPV turned into DPO in its payload: the header and signature stay. */
function tampered(jws: string): string {
  const [header, payload, signature] = jws.split('.')
  const text = Buffer.from(payload!, 'base64url').toString('utf8').replaceAll('"DPV"', '"DPO"')
  return `${header}.${Buffer.from(text).toString('base64url')}.${signature}`
}
