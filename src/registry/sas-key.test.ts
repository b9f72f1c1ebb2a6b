import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { registrySasKey } from '../standins/service-registry/sas-key.js'
import { startServiceRegistry } from '../standins/service-registry/server.js'
import { capturingLogger, type TempDir, tempDir } from '../standins/service-registry/test-support.js'
import { ManualClock } from '../util/time.js'
import { createServiceRegistryClient, type ServiceRegistryClientOptions } from './client.js'
import {
  NotFoundInServiceRegistryError,
  ServiceRegistryLookupError,
  ServiceRegistryUnavailableError,
} from './errors.js'
import { SAS_KEY_TTL_MS } from './sas-key.js'

// The client against the ServiceRegistry stand-in over HTTP: what it hands out at /sastoken, signed
// with its own key, is what the client must give DPE, and nothing else.

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

type Registry = Awaited<ReturnType<typeof startServiceRegistry>>

/** The stand-in with a catalogue whose DPE key is `sasKey` (none when undefined); `setKey` changes it. */
async function registry(sasKey: unknown) {
  const dir: TempDir = tempDir('sas-key-')
  cleanups.push(() => dir.remove())
  const write = (key: unknown) =>
    dir.file('catalog.json', JSON.stringify({ settings: key === undefined ? {} : { dpe: { sasKey: key } } }))
  const catalogPath = write(sasKey)
  const sr: Registry = await startServiceRegistry({
    port: 0,
    catalogPath,
    dataDir: `${dir.path}/data`,
    logger: capturingLogger().logger,
    watch: false,
  })
  cleanups.push(() => sr.close())
  return {
    sr,
    shared: () => registrySasKey({ dataDir: `${dir.path}/data`, catalogPath }),
    async setKey(key: unknown) {
      write(key)
      await sr.reload()
    },
  }
}

interface Hold {
  /** called once the registry's answer has been read */
  read(): void
  /** the answer goes on when this settles */
  release: Promise<void>
}

/**
 * A pass-through in front of `target` that counts /sastoken requests, may swap the payload of its JWS,
 * and may hold the next answer back after reading it from the registry.
 */
async function proxy(target: string) {
  const state = {
    sastokenRequests: 0,
    tamper: false,
    url: '',
    hold: undefined as Hold | undefined,
    /** the Authorization header of each /sastoken request */
    authorizations: [] as (string | undefined)[],
  }
  const server: Server = createServer(async (req, res) => {
    const path = req.url ?? '/'
    const upstream = await fetch(`${target}${path}`, { headers: { accept: req.headers.accept ?? '*/*' } })
    let body = await upstream.text()
    if (path.endsWith('/sastoken')) {
      state.sastokenRequests++
      state.authorizations.push(req.headers.authorization)
      const hold = state.hold
      state.hold = undefined
      if (hold) {
        hold.read()
        await hold.release
      }
      if (state.tamper && upstream.status === 200) {
        const [header, , signature] = body.split('.')
        body = `${header}.${Buffer.from('a key of our own').toString('base64url')}.${signature}`
      }
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return state
}

/** A promise and its resolve (Node.js 20 has no Promise.withResolvers). */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

function client(endpoint: string, clock: ManualClock, more: Partial<ServiceRegistryClientOptions> = {}) {
  const c = createServiceRegistryClient({
    endpoint,
    signEnable: false,
    jwkUrl: `${endpoint}/jwk`,
    timeoutMs: 2000,
    cacheTtlSeconds: 300,
    printLookup: true,
    betaFeatures: false,
    clock,
    ...more,
  })
  cleanups.push(() => c.close())
  return c
}

describe('ServiceRegistry client: the Service Bus SAS key', () => {
  it('is the payload of /sastoken verified against the JWK set, signing on or off: the key the Service Bus stand-in accepts', async () => {
    const { sr, shared } = await registry({ generated: 'service-bus' })
    const clock = new ManualClock()
    const expected = (await shared())!.key
    expect(await client(sr.url, clock).sasKey()).toBe(expected)
    expect(await client(sr.url, clock, { signEnable: true }).sasKey()).toBe(expected)
    // under the real service's context path too
    expect(await client(`${sr.url}/adressetjeneste`, clock).sasKey()).toBe(expected)
  })

  it('carries the Maskinporten token it is given, and without one keeps the last key it had', async () => {
    const { sr } = await registry('the real key')
    const front = await proxy(sr.url)
    const sr1 = client(front.url, new ManualClock())
    expect(await sr1.sasKey({ bearer: async () => 'mp-token' })).toBe('the real key')
    expect(front.authorizations).toEqual(['Bearer mp-token'])
    // Maskinporten down: no call without a token, and the key the registry gave last is still good
    sr1.invalidateSasKey()
    const failing = { bearer: () => Promise.reject(new Error('Maskinporten is down')) }
    expect(await sr1.sasKey(failing)).toBe('the real key')
    expect(front.authorizations).toHaveLength(1)
    const fresh = client(front.url, new ManualClock())
    await expect(fresh.sasKey(failing)).rejects.toThrow(
      /No Maskinporten token for GET .*sastoken: Maskinporten is down/,
    )
  })

  it('refuses a tampered JWS, and does not fall back to the last good key for it', async () => {
    const { sr } = await registry('the real key')
    const front = await proxy(sr.url)
    const sr1 = client(front.url, new ManualClock())
    expect(await sr1.sasKey()).toBe('the real key')
    front.tamper = true
    sr1.invalidateSasKey()
    const refused = sr1.sasKey()
    await expect(refused).rejects.toBeInstanceOf(ServiceRegistryLookupError)
    await expect(refused).rejects.toThrow(/Bad signature in response from service registry .*sastoken/)
  })

  it('is kept for a day, and asked for again after invalidateSasKey()', async () => {
    const { sr, setKey } = await registry('first')
    const clock = new ManualClock()
    const sr1 = client(sr.url, clock)
    expect(await sr1.sasKey()).toBe('first')
    await setKey('second')
    clock.advance(SAS_KEY_TTL_MS - 1)
    expect(await sr1.sasKey()).toBe('first')
    clock.advance(1)
    expect(await sr1.sasKey()).toBe('second')
    await setKey('third')
    expect(await sr1.sasKey()).toBe('second')
    sr1.invalidateSasKey()
    expect(await sr1.sasKey()).toBe('third')
  })

  it('does not keep a key fetched before an invalidation that arrives after it', async () => {
    const { sr, setKey } = await registry('old key')
    const front = await proxy(sr.url)
    const sr1 = client(front.url, new ManualClock())
    const read = signal()
    const release = signal()
    front.hold = { read: read.resolve, release: release.promise }
    const before = sr1.sasKey()
    await read.promise
    // Service Bus said 401 while the registry's old answer was on its way
    await setKey('new key')
    sr1.invalidateSasKey()
    expect(await sr1.sasKey()).toBe('new key')
    release.resolve()
    expect(await before).toBe('old key')
    expect(await sr1.sasKey()).toBe('new key')
    expect(front.sastokenRequests).toBe(2)
  })

  it('makes one request for callers that ask at once', async () => {
    const { sr } = await registry('shared key')
    const front = await proxy(sr.url)
    const sr1 = client(front.url, new ManualClock())
    const keys = await Promise.all([sr1.sasKey(), sr1.sasKey(), sr1.sasKey()])
    expect(keys).toEqual(['shared key', 'shared key', 'shared key'])
    expect(front.sastokenRequests).toBe(1)
  })

  it('is the last good key while the registry is down, and says so', async () => {
    const { sr } = await registry('kept key')
    const stale: Error[] = []
    const clock = new ManualClock()
    const sr1 = client(sr.url, clock, { onStaleSasKey: (e) => stale.push(e) })
    expect(await sr1.sasKey()).toBe('kept key')
    await sr.close()
    sr1.invalidateSasKey()
    expect(await sr1.sasKey()).toBe('kept key')
    clock.advance(SAS_KEY_TTL_MS)
    expect(await sr1.sasKey()).toBe('kept key')
    expect(stale).toHaveLength(2)
    expect(stale[0]).toBeInstanceOf(ServiceRegistryUnavailableError)
    expect(stale[0]!.message).toContain(`${sr.url}/sastoken`)
  })

  it('is a ServiceRegistryUnavailableError while the registry is down when no key was ever fetched', async () => {
    const { sr } = await registry('never fetched')
    await sr.close()
    const down = client(sr.url, new ManualClock()).sasKey()
    await expect(down).rejects.toBeInstanceOf(ServiceRegistryUnavailableError)
    await expect(down).rejects.toThrow(/connection refused/)
  })

  it('is not found when the registry has no key, even after a good one (the registry is believed)', async () => {
    const { sr, setKey } = await registry('old key')
    const sr1 = client(sr.url, new ManualClock())
    expect(await sr1.sasKey()).toBe('old key')
    await setKey(undefined)
    sr1.invalidateSasKey()
    const missing = sr1.sasKey()
    await expect(missing).rejects.toBeInstanceOf(NotFoundInServiceRegistryError)
    await expect(missing).rejects.toThrow(/has no Service Bus SAS key: GET .*\/sastoken answered 404/)
  })
})
