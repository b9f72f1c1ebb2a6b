import { X509Certificate } from 'node:crypto'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../util/time.js'
import { CatalogueError } from './catalog-load.js'
import { registrySasKey } from './sas-key.js'
import { startServiceRegistry } from './server.js'
import { capturingLogger, type TempDir, tempDir } from './test-support.js'

const clock = new ManualClock('2026-03-10T10:00:00+01:00')

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function folder(): TempDir {
  const d = tempDir()
  cleanups.push(() => d.remove())
  return d
}

/** A catalogue with `dpe` as its DPE settings (none when undefined) and no receivers: none are asked. */
function catalogueWith(d: TempDir, dpe: unknown): string {
  return d.file('catalog.json', JSON.stringify({ settings: dpe === undefined ? {} : { dpe } }))
}

async function start(d: TempDir, catalogPath: string) {
  const sr = await startServiceRegistry({
    port: 0,
    catalogPath,
    dataDir: `${d.path}/data`,
    logger: capturingLogger().logger,
    clock,
    watch: false,
  })
  cleanups.push(() => sr.close())
  return sr
}

async function get(url: string, accept?: string) {
  const res = await fetch(url, { headers: accept ? { accept } : {} })
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
}

/** The payload of `jws` verified against the registry's published key, and its protected header. */
async function verified(baseUrl: string, jws: string) {
  const { keys } = JSON.parse((await get(`${baseUrl}/jwk`)).text) as { keys: JWK[] }
  const { payload } = await compactVerify(jws, await importJWK(keys[0]!, 'RS256'), { algorithms: ['RS256'] })
  return { key: new TextDecoder().decode(payload), header: decodeProtectedHeader(jws), jwk: keys[0]! }
}

describe('GET /sastoken', () => {
  it('answers the generated key as a JWS signed with the registry key, at both roots, whatever Accept says', async () => {
    const d = folder()
    const sr = await start(d, catalogueWith(d, { sasKey: { generated: 'service-bus' } }))
    const answer = await get(`${sr.url}/sastoken`, 'application/json')
    expect(answer).toMatchObject({ status: 200, type: 'application/jose' })
    const { key, header, jwk } = await verified(sr.url, answer.text)
    const file = `${d.path}/data/keys/service-bus.sas-key`
    expect(key).toBe(readFileSync(file, 'utf8').trim())
    expect(statSync(file).mode & 0o777).toBe(0o600)
    // the form of an Azure key: 32 random bytes in base64
    expect(Buffer.from(key, 'base64')).toHaveLength(32)
    expect(Object.keys(header)).toEqual(['alg', 'x5c', 'kid'])
    expect(header).toMatchObject({ alg: 'RS256', x5c: jwk.x5c, kid: await calculateJwkThumbprint(jwk) })
    // the x5c certificate alone verifies it too (what a client without the JWK set would use)
    const cert = new X509Certificate(Buffer.from(header.x5c![0]!, 'base64'))
    await expect(compactVerify(answer.text, cert.publicKey)).resolves.toBeTruthy()
    const underContext = await get(`${sr.url}/adressetjeneste/sastoken`)
    expect((await verified(sr.url, underContext.text)).key).toBe(key)
  })

  it('keeps the generated key across a restart, and hands the Service Bus stand-in the same key and name', async () => {
    const d = folder()
    const catalogPath = catalogueWith(d, { sasKeyName: 'MoveDPE-localPolicy', sasKey: { generated: 'sb' } })
    const first = await start(d, catalogPath)
    const key = (await verified(first.url, (await get(`${first.url}/sastoken`)).text)).key
    await first.close()
    const again = await start(d, catalogPath)
    expect((await verified(again.url, (await get(`${again.url}/sastoken`)).text)).key).toBe(key)
    expect(await registrySasKey({ dataDir: `${d.path}/data`, catalogPath })).toEqual({
      keyName: 'MoveDPE-localPolicy',
      key,
    })
  })

  it('answers a literal key as its UTF-8 text, and the key name defaults to the test environment’s', async () => {
    const d = folder()
    const catalogPath = catalogueWith(d, { sasKey: 'nøkkel=æøå+/' })
    const sr = await start(d, catalogPath)
    expect((await verified(sr.url, (await get(`${sr.url}/sastoken`)).text)).key).toBe('nøkkel=æøå+/')
    expect(await registrySasKey({ dataDir: `${d.path}/data`, catalogPath })).toEqual({
      keyName: 'MoveDPE-pilotPolicy',
      key: 'nøkkel=æøå+/',
    })
  })

  it('is 404 with no body when the catalogue configures no key, and the Service Bus stand-in is told null', async () => {
    const d = folder()
    for (const dpe of [undefined, { sasKeyName: 'MoveDPE-pilotPolicy' }]) {
      const catalogPath = catalogueWith(d, dpe)
      const sr = await start(d, catalogPath)
      expect(await get(`${sr.url}/sastoken`, 'application/jose')).toMatchObject({ status: 404, text: '' })
      expect(await registrySasKey({ dataDir: `${d.path}/data`, catalogPath })).toBeNull()
      await sr.close()
    }
  })

  it('serves the key of a reloaded catalogue', async () => {
    const d = folder()
    const catalogPath = catalogueWith(d, { sasKey: 'first' })
    const sr = await start(d, catalogPath)
    expect((await verified(sr.url, (await get(`${sr.url}/sastoken`)).text)).key).toBe('first')
    writeFileSync(catalogPath, readFileSync(catalogueWith(d, { sasKey: 'second' })))
    await sr.reload()
    expect((await verified(sr.url, (await get(`${sr.url}/sastoken`)).text)).key).toBe('second')
  })
})

describe('registrySasKey', () => {
  it('makes one key however many ask at once, before the registry has started, and the registry serves it', async () => {
    const d = folder()
    const catalogPath = catalogueWith(d, { sasKey: { generated: 'sb' } })
    const dataDir = `${d.path}/data`
    const keys = await Promise.all(Array.from({ length: 8 }, () => registrySasKey({ dataDir, catalogPath })))
    expect(new Set(keys.map((k) => k?.key)).size).toBe(1)
    expect(readdirSync(`${dataDir}/keys`)).toEqual(['sb.sas-key'])
    const sr = await start(d, catalogPath)
    expect((await verified(sr.url, (await get(`${sr.url}/sastoken`)).text)).key).toBe(keys[0]!.key)
  })

  it('reads the built-in sandbox catalogue when given no path: a generated key for MoveDPE-pilotPolicy', async () => {
    const d = folder()
    const shared = await registrySasKey({ dataDir: d.path })
    expect(shared).toEqual({
      keyName: 'MoveDPE-pilotPolicy',
      key: readFileSync(`${d.path}/keys/service-bus.sas-key`, 'utf8').trim(),
    })
  })

  it('refuses a catalogue whose key cannot be a file name, or is empty, naming the place', async () => {
    const d = folder()
    for (const sasKey of [{ generated: '../elsewhere' }, '']) {
      const catalogPath = catalogueWith(d, { sasKey })
      const refused = await registrySasKey({ dataDir: d.path, catalogPath }).catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(CatalogueError)
      const [problem, ...more] = (refused as CatalogueError).problems
      expect(more).toEqual([])
      expect(problem!.path).toMatch(/^settings\.dpe\.sasKey/)
    }
  })

  it('refuses a key file that holds no key, saying how to fix it', async () => {
    const d = folder()
    const catalogPath = catalogueWith(d, { sasKey: { generated: 'sb' } })
    await registrySasKey({ dataDir: `${d.path}/data`, catalogPath })
    writeFileSync(`${d.path}/data/keys/sb.sas-key`, '\n')
    await expect(registrySasKey({ dataDir: `${d.path}/data`, catalogPath })).rejects.toThrow(
      /holds no SAS key: delete it to have one made/,
    )
  })
})
