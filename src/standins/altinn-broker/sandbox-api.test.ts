import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { type AltinnBrokerStandIn, type BrokerFaults, startAltinnBroker } from './server.js'
import { brokerClient, capturingLogger, initBody, ORG_A, ORG_B, ORG_C, tempDir } from './test-support.js'

/** The sandbox API through real HTTP: what the broker holds, and how often each file went out whole. */
const dirs: ReturnType<typeof tempDir>[] = []
const brokers: AltinnBrokerStandIn[] = []
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()))
  for (const d of dirs.splice(0)) d.remove()
})

async function start(opts: { dir?: ReturnType<typeof tempDir>; faults?: BrokerFaults } = {}) {
  const dir = opts.dir ?? tempDir()
  if (!opts.dir) dirs.push(dir)
  const broker = await startAltinnBroker({
    port: 0,
    dataDir: dir.path,
    logger: capturingLogger().logger,
    faults: opts.faults,
  })
  brokers.push(broker)
  const client = brokerClient(broker.url)
  const [a, b, c] = await Promise.all([
    client.exchange(ORG_A),
    client.exchange(ORG_B),
    client.exchange(ORG_C),
  ])
  const publish = async (bytes: Buffer, sender = a, from = ORG_A, to = [ORG_B]) => {
    const id = (await client.initialize(sender, initBody(from, to))).json().fileTransferId as string
    expect((await client.upload(sender, id, bytes)).status).toBe(200)
    return id
  }
  const sandbox = async (path: string) => {
    const res = await fetch(`${broker.url}/sandbox/api${path}`)
    return { status: res.status, type: res.headers.get('content-type'), body: await res.json() }
  }
  return { broker, client, dir, a, b, c, publish, sandbox }
}

describe('GET /sandbox/api/filetransfers', () => {
  it('lists every transfer with no token, oldest first, filtered by sender or recipient in either form', async () => {
    const { b, publish, sandbox } = await start()
    const first = await publish(randomBytes(1000))
    const second = await publish(randomBytes(10), b, ORG_B, [ORG_C])
    const all = await sandbox('/filetransfers')
    expect(all.status).toBe(200)
    expect(all.type).toMatch(/^application\/json/)
    expect(all.body.map((t: { fileTransferId: string }) => t.fileTransferId)).toEqual([first, second])
    expect(all.body[0]).toEqual({
      fileTransferId: first,
      sendersFileTransferReference: expect.any(String),
      sender: ORG_A,
      recipients: [{ recipient: ORG_B, status: 'Initialized' }],
      fileTransferStatus: 'Published',
      fileTransferSize: 1000,
      created: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      downloads: 0,
    })
    const ids = async (query: string) =>
      (await sandbox(`/filetransfers${query}`)).body.map((t: { fileTransferId: string }) => t.fileTransferId)
    expect(await ids('?sender=910077473')).toEqual([second])
    expect(await ids('?sender=0192:910075918')).toEqual([first])
    expect(await ids('?recipient=910094092')).toEqual([second])
    expect(await ids('?recipient=0192:910077473')).toEqual([first])
    expect(await ids('?sender=910075918&recipient=910094092')).toEqual([])
  })

  it('shows one transfer by id, and 404 as ProblemDetails for one it does not hold', async () => {
    const { publish, sandbox } = await start()
    const id = await publish(randomBytes(5))
    expect((await sandbox(`/filetransfers/${id.toUpperCase()}`)).body).toMatchObject({
      fileTransferId: id,
      downloads: 0,
    })
    const missing = await sandbox('/filetransfers/00000000-0000-0000-0000-000000000000')
    expect(missing.status).toBe(404)
    expect(missing.type).toMatch(/^application\/problem\+json/)
  })
})

describe('the download counter', () => {
  it('counts each whole download, keeps the count across a restart, and not a refused one or a HEAD', async () => {
    const { broker, client, dir, a, b, publish, sandbox } = await start()
    const bytes = randomBytes(300_000)
    const id = await publish(bytes)
    // the sender may not download: an error answer is no download
    expect((await client.download(a, id)).status).toBe(403)
    expect(
      (
        await fetch(`${broker.url}/broker/api/v1/filetransfer/${id}/download`, {
          method: 'HEAD',
          headers: { authorization: `Bearer ${b}` },
        })
      ).status,
    ).toBe(200)
    for (let i = 1; i <= 2; i++) {
      const got = await client.download(b, id)
      expect(got.bytes.equals(bytes)).toBe(true)
      expect(await downloadsOnceSettled(sandbox, id, i)).toBe(i)
    }
    // closing waits for every answer, so a late count of the refused call or the HEAD would show now
    await broker.close()
    const again = await start({ dir })
    expect((await again.sandbox(`/filetransfers/${id}`)).body.downloads).toBe(2)
  })

  it('does not count a download the recipient cut off mid-body', async () => {
    const { broker, b, publish, sandbox } = await start()
    // far more than the sockets' buffers hold, so the body is still going out when the client leaves
    const id = await publish(randomBytes(48 * 1024 * 1024))
    const received = await cutOff(`${broker.url}/broker/api/v1/filetransfer/${id}/download`, b)
    expect(received).toBeGreaterThan(0)
    expect(received).toBeLessThan(48 * 1024 * 1024)
    // the server sees the reset within moments; a count taken on 'close' would show by then
    await sleep(300)
    expect((await sandbox(`/filetransfers/${id}`)).body).toMatchObject({ downloads: 0 })
  })

  it('does not count a download whose answer a fault dropped, and the sandbox API suffers no fault', async () => {
    const drop = { now: false }
    const faults = { dropResponseRate: 0.5, random: () => (drop.now ? 0 : 0.99) }
    const { broker, client, dir, b, publish, sandbox } = await start({ faults })
    const id = await publish(randomBytes(100_000))
    drop.now = true
    await expect(client.download(b, id)).rejects.toThrow()
    drop.now = false
    expect((await client.download(b, id)).status).toBe(200)
    expect(await downloadsOnceSettled(sandbox, id, 1)).toBe(1)
    await broker.close()
    expect((await (await start({ dir })).sandbox(`/filetransfers/${id}`)).body.downloads).toBe(1)
  })
})

/**
 * The count once it reaches `expected` (or 2 s pass): the server counts on the response's 'finish',
 * which can come just after the client has read the last byte and asked again.
 */
async function downloadsOnceSettled(
  sandbox: (path: string) => Promise<{ body: { downloads: number } }>,
  id: string,
  expected: number,
): Promise<number> {
  const until = Date.now() + 2000
  for (;;) {
    const { downloads } = (await sandbox(`/filetransfers/${id}`)).body
    if (downloads === expected || Date.now() > until) return downloads
    await sleep(10)
  }
}

/** Starts a download, takes its first chunk, then resets the connection; the bytes it got. */
function cutOff(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let got = 0
      res.once('data', (chunk: Buffer) => {
        got += chunk.length
        req.destroy()
        resolve(got)
      })
    })
    req.on('error', (e) => {
      if (!req.destroyed) reject(e)
    })
    req.end()
  })
}
