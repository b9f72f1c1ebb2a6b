import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { liveMemorySampler } from '../../../test/support/live-memory.js'
import { ManualClock } from '../../util/time.js'
import { correspondenceClient, file, ipFields, streamUpload } from './correspondence/test-support.js'
import { type AltinnBrokerOptions, startAltinnBroker } from './server.js'
import { capturingLogger, tempDir } from './test-support.js'

// What survives a restart, what the injected faults do to the Correspondence API, and a 100 MiB
// attachment through the upload in constant memory.

const dirs: ReturnType<typeof tempDir>[] = []
const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()))
  for (const d of dirs.splice(0)) d.remove()
})

async function start(opts: Partial<AltinnBrokerOptions> & { dataDir: string }) {
  const broker = await startAltinnBroker({ port: 0, logger: capturingLogger().logger, ...opts })
  open.push(broker)
  return { broker, client: correspondenceClient(broker.url) }
}

function dataDir(): string {
  const d = tempDir()
  dirs.push(d)
  return d.path
}

describe('restart', () => {
  it('keeps correspondences, files, keys and tokens, and publishes what fell due while it was down', async () => {
    const path = dataDir()
    const clock = new ManualClock('2026-03-10T10:00:00Z')
    const first = await start({ dataDir: path, clock, correspondence: { publishDelayMs: 10_000 } })
    const token = await first.client.token()
    const fields = ipFields({}, clock.now())
    const res = await first.client.upload(token, fields, [file('test.txt', 'kept')])
    expect(res.status).toBe(200)
    const { correspondenceId: id } = res.json().correspondences[0]
    const [attachmentId] = res.json().attachmentIds
    await first.broker.close()

    clock.advance(10_000)
    const second = await start({ dataDir: path, clock, correspondence: { publishDelayMs: 10_000 } })
    const overview = await second.client.overview(token, id)
    expect(overview.status).toBe(200)
    expect(overview.json()).toMatchObject({ status: 'Published', published: '2026-03-10T10:00:10.000+00:00' })
    expect((await second.client.upload(token, fields, [file('test.txt', 'kept')])).status).toBe(409)
    const bytes = await fetch(`${second.broker.url}/sandbox/correspondence/${id}/attachments/${attachmentId}`)
    expect(await bytes.text()).toBe('kept')
  })

  it('drops the temp files of an upload cut short, at the next start', async () => {
    const path = dataDir()
    const { broker, client } = await start({ dataDir: path })
    const token = await client.token()
    expect((await client.upload(token, ipFields(), [file('test.txt', 'x')])).status).toBe(200)
    await broker.close()
    const tmp = join(path, 'correspondence', 'tmp')
    mkdirSync(tmp, { recursive: true })
    writeFileSync(join(tmp, 'cut-short.part'), 'half a file')
    await start({ dataDir: path })
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([])
    expect(readdirSync(join(path, 'correspondence', 'attachments')).length).toBe(1)
  })
})

describe('faults', () => {
  /** draws for the fault hooks: 0 triggers a fault, anything else (the default 1) does not */
  const draws: number[] = []
  const random = () => draws.shift() ?? 1
  const faults = { errorRate: 0.5, dropResponseRate: 0.5, random }

  it('fails an upload with 503 before storing anything', async () => {
    const { client } = await start({ dataDir: dataDir(), correspondence: { faults } })
    const token = await client.token()
    const fields = ipFields()
    draws.push(0)
    const res = await client.upload(token, fields, [file('test.txt', 'x')])
    expect(res.status).toBe(503)
    expect((await client.sandbox('')).json()).toEqual([])
    expect((await client.upload(token, fields, [file('test.txt', 'x')])).status).toBe(200)
  })

  it('stores an upload and then drops the answer, so the retry gets 409 and one correspondence exists', async () => {
    const { client } = await start({ dataDir: dataDir(), correspondence: { faults } })
    const token = await client.token()
    const fields = ipFields()
    draws.push(1, 0) // no error before, a drop after
    await expect(client.upload(token, fields, [file('test.txt', 'x')])).rejects.toThrow()
    const retry = await client.upload(token, fields, [file('test.txt', 'x')])
    expect(retry.status).toBe(409)
    expect((await client.sandbox('')).json()).toHaveLength(1)
  })

  it('fails the overview too, and spares the health probe and the sandbox', async () => {
    const { client } = await start({ dataDir: dataDir(), correspondence: { faults } })
    const token = await client.token()
    const id = (await client.upload(token, ipFields(), [file('test.txt', 'x')])).json().correspondences[0]
      .correspondenceId
    draws.push(0)
    expect((await client.overview(token, id)).status).toBe(503)
    draws.push(0, 0)
    expect((await client.call('/health-probe')).status).toBe(200)
    expect((await client.sandbox(`/${id}`)).status).toBe(200)
    expect(draws).toEqual([0, 0])
    draws.length = 0
    expect((await client.overview(token, id)).status).toBe(200)
  })
})

describe('memory', () => {
  it('streams a 100 MiB attachment to disk in constant memory, byte-identical', async () => {
    const { broker, client } = await start({ dataDir: dataDir() })
    const token = await client.token()
    const total = 100 * 1024 * 1024
    // what is alive after full collections, not RSS, which a busy machine fills with garbage it has
    // yet to collect (Node.js 24 collects buffers late)
    const memory = liveMemorySampler()
    memory.phase = 'upload'
    let next = 0
    const hash = createHash('sha256')
    const piece = Buffer.alloc(64 * 1024, 0x61)
    for (let n = 0; n < total / piece.length; n++) hash.update(piece)
    const fields = ipFields({ 'correspondence.content.attachments[0].fileName': 'big.zip' })
    const res = await streamUpload(broker.url, token, fields, 'big.zip', total, (sent) => {
      if (sent < next) return
      next += 5 * 1024 * 1024
      memory.sample()
    })
    expect(res.status, res.text).toBe(200)
    memory.phase = 'after'
    memory.stop()
    expect(memory.samples.upload).toBeGreaterThanOrEqual(19)
    // holding the body would add 100 MiB
    const { growth, said } = memory.report()
    expect(growth, said).toBeLessThan(32 * 1024 * 1024)
    const id = JSON.parse(res.text).correspondences[0].correspondenceId
    const item = (await client.sandbox(`/${id}`)).json()
    expect(item.attachments[0]).toMatchObject({
      fileName: 'big.zip',
      size: total,
      sha256: hash.digest('hex'),
    })
  }, 60_000)
})
