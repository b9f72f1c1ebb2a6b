import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { afterEach, describe, expect, it } from 'vitest'
import { decryptStream } from '../../packaging/cms.js'
import { startServiceRegistry } from '../service-registry/server.js'
import { startSvarUt } from './server.js'
import { SANDBOX_PASSWORD } from './settings.js'
import {
  basic,
  capturingLogger,
  encryptTo,
  fiksHeaders,
  forsendelse,
  harness,
  KONTO_A,
  multipart,
  ORG_A,
  ORG_B,
  tempDir,
  unzip,
} from './test-support.js'

const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()))
})

async function start(opts: Parameters<typeof harness>[0] = {}) {
  const h = await harness(opts)
  open.push(h)
  return h
}

const PDF = Buffer.from('%PDF-1.4 reliability')
const toB = (extra: Record<string, unknown> = {}) =>
  forsendelse({ mottaker: { navn: 'B', digitalId: ORG_B }, ...extra })

describe('a restart', () => {
  it('keeps forsendelser, documents, statuses, hendelser and SvarUt’s key pair', async () => {
    const h = await start()
    const cert = h.svarut.certificatePem
    const { id } = await (await h.send(toB(), [{ name: 'vedtak.pdf', bytes: PDF }])).json()
    const read = await (await h.send(forsendelse(), [{ name: 'vedtak.pdf', bytes: PDF }])).json()
    await h.call(`/sandbox/api/forsendelser/${read.id}/read`, { method: 'POST' })
    // downloaded before the restart, acknowledged after it: the receiver's crash window
    const before = await h.call(`/tjenester/svarinn/forsendelse/${id}`, {
      headers: { authorization: basic(ORG_B) },
    })
    expect(before.status).toBe(200)
    await before.arrayBuffer()
    await h.restart()
    expect(h.svarut.certificatePem).toBe(cert)
    const list = await (
      await h.call('/tjenester/svarinn/mottaker/hentNyeForsendelser', {
        headers: { authorization: basic(ORG_B) },
      })
    ).json()
    expect(list.map((f: { id: string }) => f.id)).toEqual([id])
    const again = await h.call(`/tjenester/svarinn/forsendelse/${id}`, {
      headers: { authorization: basic(ORG_B) },
    })
    const zip = await buffer(
      Readable.from([Buffer.from(await again.arrayBuffer())]).pipe(decryptStream(h.b.keyPem)),
    )
    expect((await unzip(zip)).get('vedtak.pdf')).toEqual(PDF)
    const kvitter = await h.call(`/tjenester/svarinn/kvitterMottak/forsendelse/${id}`, {
      method: 'POST',
      headers: { authorization: basic(ORG_B) },
    })
    expect(kvitter.status).toBe(200)
    const items = await (await h.call('/sandbox/api/forsendelser')).json()
    expect(items.map((i: { status: string }) => i.status)).toEqual(['LEST', 'LEST'])
    expect(items[0].downloads).toBe(2)
    // a sender sees it the same way after the restart (a new forsendelse would work too)
    expect((await h.send(toB(), [{ name: 'vedtak.pdf', bytes: PDF }])).status).toBe(200)
  })
})

describe('faults', () => {
  it('a 503 stores nothing; a dropped answer stores it, and the eksternRef lookup finds it', async () => {
    // onRequest draws for errorRate, then onSend for dropResponseRate (not after a 503); then all pass
    const draws = [0, 1, 0]
    const h = await start({
      faults: { errorRate: 0.5, dropResponseRate: 0.5, random: () => draws.shift() ?? 1 },
    })
    const f = toB()
    const failed = await h.send(f, [{ name: 'vedtak.pdf', bytes: PDF }])
    expect(failed.status).toBe(503)
    expect((await failed.json()).message).toMatch(/Injected fault/)
    expect(await (await h.call('/sandbox/api/forsendelser')).json()).toEqual([])
    // the next send is stored, then its answer is lost
    await expect(h.send(f, [{ name: 'vedtak.pdf', bytes: PDF }])).rejects.toThrow()
    const items = await (await h.call('/sandbox/api/forsendelser')).json()
    expect(items).toHaveLength(1)
    const lookup = await h.call(`/api/v2/kontoer/${KONTO_A}/forsendelser?eksternRef=${f.eksternReferanse}`, {
      headers: fiksHeaders(ORG_A),
    })
    expect(lookup.status).toBe(200)
    expect(await lookup.json()).toEqual({ forsendelseIds: [items[0].id] })
  })

  it('latency delays every API call but not the sandbox', async () => {
    const h = await start({ faults: { latencyMs: 300 } })
    let t = Date.now()
    await h.call('/api/v2/forsendelsestyper', { headers: fiksHeaders(ORG_A) })
    expect(Date.now() - t).toBeGreaterThanOrEqual(290)
    t = Date.now()
    await h.call('/sandbox/api/forsendelser')
    expect(Date.now() - t).toBeLessThan(290)
  })
})

describe('receiver certificates from the ServiceRegistry', () => {
  it('encrypts a download to the organisation’s certificate published at /virksert/{orgnr}', async () => {
    const srDir = tempDir()
    const dir = tempDir()
    const log = capturingLogger()
    const sr = await startServiceRegistry({ port: 0, dataDir: srDir.path, logger: log.logger, watch: false })
    const svarut = await startSvarUt({
      port: 0,
      dataDir: dir.path,
      logger: log.logger,
      settings: { serviceRegistryUrl: sr.url },
    })
    open.push({
      close: async () => {
        await svarut.close()
        await sr.close()
        srDir.remove()
        dir.remove()
      },
    })
    const h = { url: svarut.url }
    const { body, contentType } = multipart([
      { name: 'forsendelse', body: JSON.stringify(toB()) },
      { name: 'f', filename: 'vedtak.pdf', body: await encryptTo(svarut.certificatePem, PDF) },
    ])
    const sent = await fetch(`${h.url}/api/v3/kontoer/${KONTO_A}/forsendelser/organisasjon`, {
      method: 'POST',
      headers: { ...fiksHeaders(ORG_A), 'content-type': contentType },
      body: new Uint8Array(body),
    })
    const { id } = await sent.json()
    const dl = await fetch(`${h.url}/tjenester/svarinn/forsendelse/${id}`, {
      headers: { authorization: basic(ORG_B, SANDBOX_PASSWORD) },
    })
    expect(dl.status).toBe(200)
    const key = readFileSync(join(srDir.path, 'keys', `${ORG_B}.key.pem`), 'utf8')
    const zip = await buffer(Readable.from([Buffer.from(await dl.arrayBuffer())]).pipe(decryptStream(key)))
    expect((await unzip(zip)).get('vedtak.pdf')).toEqual(PDF)
  })
})
