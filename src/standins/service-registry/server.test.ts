import { X509Certificate } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import fc from 'fast-check'
import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../util/time.js'
import { CatalogueError } from './catalog-load.js'
import { startServiceRegistry } from './server.js'
import { capturingLogger, keyPaths, PROCESS, tempDir } from './test-support.js'

const SANDBOX = new URL('../../../sandbox/catalog.json', import.meta.url)
const SAMPLES = new URL('../../../../shared/reference/data/samples/service-registry/', import.meta.url)
const sample = (name: string) => JSON.parse(readFileSync(new URL(name, SAMPLES), 'utf8'))
const JOSE = 'application/jose, application/json'

const dir = tempDir()
const catalogPath = dir.file('catalog.json', readFileSync(SANDBOX, 'utf8'))
const log = capturingLogger()
let sr: Awaited<ReturnType<typeof startServiceRegistry>>

beforeAll(async () => {
  const clock = new ManualClock('2026-03-10T10:00:00+01:00')
  sr = await startServiceRegistry({
    port: 0,
    catalogPath,
    dataDir: `${dir.path}/data`,
    logger: log.logger,
    clock,
    watch: false,
  })
})
afterAll(async () => {
  await sr?.close()
  dir.remove()
})

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${sr.url}${path}`, { headers })
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
}

/** A request with the path exactly as written (fetch would normalise dot segments). */
function rawGet(path: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(sr.url)
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      let text = ''
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end()
  })
}

function isSubsequence(small: string[], big: string[]): boolean {
  let i = 0
  for (const k of big) if (k === small[i]) i++
  return i === small.length
}

describe('the stand-in', () => {
  it('says what it serves when it starts, and answers /health', async () => {
    const started = log.lines().find((l) => String(l.msg).includes('serves'))
    expect(started).toMatchObject({
      organisations: 8,
      persons: 4,
      healthUnits: 1,
      processes: 22,
      catalogue: catalogPath,
    })
    expect(await get('/health')).toEqual({ status: 200, type: 'application/json', text: '{"status":"UP"}' })
  })

  it.runIf(existsSync(SAMPLES))(
    'writes the infoRecord and service records in the samples’ shape: names, order, nulls',
    async () => {
      const org = JSON.parse((await get('/identifier/910076787')).text)
      const dpeSample = sample('910075935.json')
      expect(keyPaths(org.infoRecord)).toEqual(keyPaths(dpeSample.infoRecord))
      expect(org.infoRecord.postadresse).toBeNull()
      // the samples predate securityLevel and resource, which the current reference always writes
      const ours = keyPaths(org.serviceRecords[0])
      expect(isSubsequence(keyPaths(dpeSample.serviceRecords[0]), ours)).toBe(true)
      expect(ours.filter((k) => !keyPaths(dpeSample.serviceRecords[0]).includes(k))).toEqual([
        'service.securityLevel',
        'service.resource',
      ])
      const dpo = JSON.parse((await get(`/identifier/910075918/process/${PROCESS.administrasjon}`)).text)
      expect(isSubsequence(keyPaths(sample('910075918-administrasjon.json')), keyPaths(dpo))).toBe(true)
      expect(dpo.serviceRecords[0].service).toMatchObject({ securityLevel: null, resource: null })
    },
  )

  it.runIf(existsSync(SAMPLES))(
    'writes DPI records with every field of the sample, the DPI fields after service (current reference)',
    async () => {
      const person = JSON.parse((await get('/identifier/01819040180')).text)
      const ours = keyPaths(person.serviceRecords[0])
      for (const key of keyPaths(sample('09118532322.json').serviceRecords[0])) expect(ours).toContain(key)
      expect(ours.slice(ours.indexOf('service.resource') + 1)).toEqual([
        'orgnrPostkasse',
        'postkasseAdresse',
        'mobilnummer',
        'kanVarsles',
        'epostAdresse',
        'fysiskPost',
        'postAddress',
        'returnAddress',
        'spraak',
      ])
    },
  )

  it('signs 200 answers when Accept prefers application/jose, over the exact JSON, with the key at /jwk', async () => {
    const jwks = JSON.parse((await get('/jwk')).text) as { keys: JWK[] }
    expect(jwks.keys).toHaveLength(1)
    const jwk = jwks.keys[0]!
    expect(Object.keys(jwk)).toEqual(['kty', 'use', 'alg', 'kid', 'x5c', 'n', 'e'])
    expect(jwk.kid).toBe(await calculateJwkThumbprint(jwk, 'sha256'))
    const x5c = new X509Certificate(Buffer.from(jwk.x5c![0]!, 'base64'))
    expect(x5c.publicKey.export({ format: 'jwk' })).toMatchObject({ n: jwk.n, e: jwk.e })
    const key = await importJWK(jwk, 'RS256')
    for (const path of [
      '/identifier/910077473',
      `/identifier/910075918/process/${PROCESS.innsynskrav}`,
      '/info/01819040180',
      '/virksert/910075918',
    ]) {
      const signed = await get(path, { accept: JOSE })
      expect(signed.type).toBe('application/jose')
      expect(decodeProtectedHeader(signed.text)).toEqual({ alg: 'RS256', x5c: jwk.x5c, kid: jwk.kid })
      const { payload } = await compactVerify(signed.text, key)
      expect(new TextDecoder().decode(payload)).toBe((await get(path)).text)
    }
  })

  it('answers JSON unless the client prefers JOSE, and never signs an error', async () => {
    const path = '/identifier/910094092'
    for (const accept of [
      '',
      '*/*',
      'application/json',
      'application/json, application/jose',
      'application/jose;q=0.5, */*',
      'text/html',
    ]) {
      expect((await get(path, accept ? { accept } : {})).type, accept).toBe('application/json')
    }
    expect((await get(path, { accept: 'text/plain, application/jose' })).type).toBe('application/jose')
    const missing = await get('/identifier/974720760', { accept: JOSE })
    expect(missing).toEqual({
      status: 404,
      type: 'application/json',
      text: '{"error_code":"","error_description":"Entity with identifier \'974720760\' not found."}',
    })
  })

  it('answers /virksert as PEM text and /info for a stranger with an empty 404', async () => {
    const pem = await get('/virksert/910077473')
    expect(pem.type).toBe('text/plain;charset=UTF-8')
    expect(new X509Certificate(pem.text).subject).toContain('serialNumber=910077473')
    expect(await get('/info/974720760')).toEqual({ status: 404, type: null, text: '' })
    expect(JSON.parse((await get('/info/910094092')).text).serviceRecords).toEqual([])
  })

  it('answers under the real service’s context path too', async () => {
    expect((await get('/adressetjeneste/identifier/910229028')).text).toBe(
      (await get('/identifier/910229028')).text,
    )
    expect((await get('/adressetjeneste/jwk')).status).toBe(200)
  })

  it('answers a bad value with Spring’s 400 page, and unknown paths with its 404', async () => {
    const bad = await get('/identifier/910075918?securityLevel=high')
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.text)).toEqual({
      timestamp: '2026-03-10T09:00:00.000+00:00',
      status: 400,
      error: 'Bad Request',
      path: '/identifier/910075918',
    })
    expect((await get('/identifier/910075918?print=maybe')).status).toBe(400)
    expect((await get('/identifier/910075918?securityLevel=99999999999')).status).toBe(400)
    expect(JSON.parse((await get('/nothing/here')).text)).toMatchObject({
      status: 404,
      error: 'Not Found',
      path: '/nothing/here',
    })
  })

  it('keeps its keys across a restart on the same data folder', async () => {
    const again = await startServiceRegistry({
      port: 0,
      catalogPath,
      dataDir: `${dir.path}/data`,
      logger: capturingLogger().logger,
      watch: false,
    })
    try {
      expect(JSON.parse(await fetch(`${again.url}/jwk`).then((r) => r.text()))).toEqual(
        JSON.parse((await get('/jwk')).text),
      )
      expect(await fetch(`${again.url}/virksert/910075918`).then((r) => r.text())).toBe(
        (await get('/virksert/910075918')).text,
      )
    } finally {
      await again.close()
    }
  })

  it('takes an edited catalogue on reload, and keeps the previous one when the edit is broken', async () => {
    const original = readFileSync(catalogPath, 'utf8')
    try {
      const edited = JSON.parse(original)
      edited.organisations.find((o: { orgnr: string }) => o.orgnr === '910094092').DPF = {
        securityLevels: [4],
      }
      writeFileSync(catalogPath, JSON.stringify(edited))
      await sr.reload()
      expect(JSON.parse((await get('/identifier/910094092')).text).serviceRecords[0].service).toMatchObject({
        identifier: 'DPF',
        securityLevel: 4,
      })
      writeFileSync(catalogPath, original.replace('"910094092"', '"910094093"'))
      const refused = await sr.reload().catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(CatalogueError)
      const logged = log.lines().at(-1)!
      expect(logged.level).toBe(50)
      expect(String(logged.msg)).toContain('organisations[4].orgnr: "910094093" fails the mod-11 check')
      expect((await get('/identifier/910094092')).status).toBe(200)
      expect(JSON.parse((await get('/identifier/910094092')).text).serviceRecords[0].service.identifier).toBe(
        'DPF',
      )
    } finally {
      writeFileSync(catalogPath, original)
      await sr.reload()
    }
  })
})

describe('bad input', () => {
  it('never crashes the server: any identifier is 200, 400 or 404 with a JSON body', async () => {
    const identifier = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.stringMatching(/^(\d{9}|\d{11}|0192:\d{9}|her-id:\d{1,12})$/),
    )
    await fc.assert(
      fc.asyncProperty(identifier, fc.option(fc.string({ maxLength: 40 })), async (id, process) => {
        const path = `/identifier/${encodeURIComponent(id)}${process === null ? '' : `/process/${encodeURIComponent(process)}`}`
        const res = await get(path)
        expect([200, 400, 404], `${path} → ${res.status} ${res.text}`).toContain(res.status)
        if (res.text) JSON.parse(res.text)
      }),
      { numRuns: 150 },
    )
  })

  it('turns any query value into an answer or a 400', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 30 }), fc.string({ maxLength: 10 }), async (level, print) => {
        const query = `securityLevel=${encodeURIComponent(level)}&print=${encodeURIComponent(print)}&conversationId=${encodeURIComponent(level)}`
        const res = await get(`/identifier/910229028?${query}`)
        expect([200, 400]).toContain(res.status)
      }),
      { numRuns: 100 },
    )
  })

  it('refuses path tricks as Spring Security’s firewall does', async () => {
    for (const path of [
      '/identifier/..%2F..%2Fetc%2Fpasswd',
      '/identifier/910075918/../../etc/passwd',
      '/identifier/%2e%2e/jwk',
      '/identifier/910075918;jsessionid=1',
      '/identifier//910075918',
      '/identifier/910075918%00',
      '/identifier/910075918%5C..',
      '/identifier/910075918/process/urn%2Fno',
      '/virksert/..%252F..%252Fkeys',
    ]) {
      const res = await rawGet(path)
      expect(res.status, path).toBe(400)
      expect(JSON.parse(res.text)).toMatchObject({ status: 400, error: 'Bad Request' })
    }
  })

  it('answers huge requests with a 4xx and keeps serving', async () => {
    const long = await get(`/identifier/${'9'.repeat(3000)}`)
    expect([400, 414]).toContain(long.status)
    const huge = await rawGet(`/identifier/910075918?conversationId=${'x'.repeat(100_000)}`)
    expect([400, 414, 431]).toContain(huge.status)
    expect((await get('/health')).status).toBe(200)
  })
})

describe('absurd security levels', () => {
  it('are 400 where they cannot be numbers; any whole number is routed as the reference routes it', async () => {
    expect((await get('/identifier/910229028?securityLevel=3.5')).status).toBe(400)
    expect((await get('/identifier/910229028?securityLevel=-1')).status).toBe(200)
    expect((await get('/identifier/910094092?securityLevel=4')).status).toBe(400)
    expect(
      JSON.parse(
        (await get(`/identifier/910075918/process/${PROCESS.planBygg}?securityLevel=2147483647`)).text,
      ).serviceRecords[0].service.identifier,
    ).toBe('DPO')
  })
})
