import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { type BrokerFaults, startAltinnBroker } from './server.js'
import { openBrokerStore } from './store.js'
import {
  brokerClient,
  capturingLogger,
  initBody,
  ORG_A,
  ORG_B,
  streamUpload,
  tempDir,
} from './test-support.js'

const dirs: ReturnType<typeof tempDir>[] = []
const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()))
  for (const d of dirs.splice(0)) d.remove()
})

async function start(opts: { dataDir?: string; faults?: BrokerFaults; maxFileTransferSize?: number } = {}) {
  let dir = opts.dataDir
  if (!dir) {
    const made = tempDir()
    dirs.push(made)
    dir = made.path
  }
  const log = capturingLogger()
  const broker = await startAltinnBroker({
    port: 0,
    dataDir: dir,
    logger: log.logger,
    faults: opts.faults,
    resource: opts.maxFileTransferSize ? { maxFileTransferSize: opts.maxFileTransferSize } : undefined,
  })
  open.push(broker)
  return { broker, client: brokerClient(broker.url), log, dir }
}

/** A seeded generator (mulberry32), so fault draws repeat from run to run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('the size limit', () => {
  it('stops reading mid-stream, keeps no file, and lets the sender try again', async () => {
    const limit = 64 * 1024
    const dir = tempDir()
    dirs.push(dir)
    const { broker, client, log } = await start({ dataDir: dir.path, maxFileTransferSize: limit })
    const a = await client.exchange(ORG_A)
    const id = (await client.initialize(a, initBody(ORG_A, [ORG_B]))).json().fileTransferId
    const total = 256 * 1024 * 1024
    const res = await streamUpload(broker.url, `/broker/api/v1/filetransfer/${id}/upload`, a, total)
    expect(res.status).toBe(400)
    expect(JSON.parse(res.text).detail).toContain('maxFileTransferSize')
    // the client could push only what the socket buffers hold before the answer came
    expect(res.sent).toBeLessThan(32 * 1024 * 1024)
    const refused = log.lines().find((l) => l.msg === 'upload refused: too large')
    expect(refused?.received).toBeLessThanOrEqual(limit + 65_536)
    expect(readdirSync(join(dir.path, 'files'))).toEqual([])
    expect((await client.overview(a, id)).json().fileTransferStatus).toBe('Initialized')
    expect((await client.upload(a, id, Buffer.alloc(limit, 1))).status).toBe(200)
  })

  it('refuses at once when Content-Length says it is too large', async () => {
    const { client, log } = await start({ maxFileTransferSize: 10 })
    const a = await client.exchange(ORG_A)
    const id = (await client.initialize(a, initBody(ORG_A, [ORG_B]))).json().fileTransferId
    expect((await client.upload(a, id, Buffer.alloc(11))).status).toBe(400)
    expect(log.lines().some((l) => l.msg === 'upload refused: too large')).toBe(false)
    expect((await client.upload(a, id, Buffer.alloc(10))).status).toBe(200)
  })
})

it('keeps transfers and tokens across a restart', async () => {
  const dir = tempDir()
  dirs.push(dir)
  const first = await start({ dataDir: dir.path })
  const a = await first.client.exchange(ORG_A)
  const b = await first.client.exchange(ORG_B)
  const id = (await first.client.initialize(a, initBody(ORG_A, [ORG_B]))).json().fileTransferId
  await first.client.upload(a, id, Buffer.from('survives'))
  await first.broker.close()
  const second = await start({ dataDir: dir.path })
  expect((await second.client.list(b)).json()).toEqual([id])
  expect((await second.client.download(b, id)).bytes.toString()).toBe('survives')
  expect((await second.client.confirm(b, id)).status).toBe(200)
})

it('takes a download that finishes after it has stopped without throwing from the socket event', async () => {
  // the client can have every byte, and stop the stand-in, before the answer's 'finish' is emitted
  const dir = tempDir()
  dirs.push(dir)
  const store = openBrokerStore(dir.path)
  store.close()
  expect(() => store.countDownload('5b0e5a02-3c7e-4e2e-9d1c-2f5f3c1f0e00')).not.toThrow()
})

describe('fault injection', () => {
  it('answers some calls 503 before doing anything', async () => {
    const { client } = await start({ faults: { errorRate: 0.5, random: seeded(42) } })
    let a: string | undefined
    while (!a) a = await client.exchange(ORG_A).catch(() => undefined)
    const statuses: number[] = []
    for (let i = 0; i < 40; i++) statuses.push((await client.initialize(a, initBody(ORG_A, [ORG_B]))).status)
    const failed = statuses.filter((s) => s === 503).length
    expect(failed).toBeGreaterThan(5)
    expect(failed).toBeLessThan(35)
    const res = await client.initialize(a, initBody(ORG_A, [ORG_B]))
    if (res.status === 503) expect(res.type).toMatch(/problem\+json/)
    // only the 200s made transfers: B sees exactly as many as were accepted
    let b: string | undefined
    while (!b) b = await client.exchange(ORG_B).catch(() => undefined)
    let listed: string[] | undefined
    while (!listed) {
      const r = await client.list(b, '?status=Initialized')
      if (r.status === 200) listed = r.json()
    }
    expect(listed.length).toBe(statuses.filter((s) => s === 200).length + (res.status === 200 ? 1 : 0))
  })

  it('does the work and then drops the answer', async () => {
    let drop = false
    const { client } = await start({ faults: { dropResponseRate: 0.5, random: () => (drop ? 0 : 0.99) } })
    const a = await client.exchange(ORG_A)
    const b = await client.exchange(ORG_B)
    drop = true
    await expect(client.initialize(a, initBody(ORG_A, [ORG_B]))).rejects.toThrow()
    drop = false
    const [id] = (await client.list(b, '?status=Initialized')).json()
    expect(id).toBeDefined()
    drop = true
    await expect(client.upload(a, id, Buffer.from('lost answer'))).rejects.toThrow()
    drop = false
    expect((await client.upload(a, id, Buffer.from('again'))).status).toBe(409)
    expect((await client.download(b, id)).bytes.toString()).toBe('lost answer')
  })

  it('waits latencyMs before answering', async () => {
    const { client } = await start({ faults: { latencyMs: 60 } })
    const started = performance.now()
    await client.call('/broker/api/v1/filetransfer')
    expect(performance.now() - started).toBeGreaterThanOrEqual(55)
  })
})

it('never answers 500 to any initialize body', async () => {
  const { client } = await start()
  const a = await client.exchange(ORG_A)
  const field = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string()))
  const body = fc.oneof(
    fc.anything(),
    fc.record(
      {
        fileName: field,
        resourceId: field,
        sendersFileTransferReference: field,
        sender: fc.oneof(field, fc.constant(ORG_A)),
        recipients: fc.oneof(field, fc.array(fc.string(), { maxLength: 3 })),
        propertyList: fc.oneof(field, fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer()))),
        checksum: field,
        disableVirusScan: field,
      },
      { requiredKeys: [] },
    ),
  )
  await fc.assert(
    fc.asyncProperty(body, async (value) => {
      const res = await client.initialize(a, value)
      expect([200, 400, 403]).toContain(res.status)
      if (res.status !== 200) expect(res.type).toMatch(/problem\+json/)
    }),
    { numRuns: 300, seed: 4 },
  )
})
