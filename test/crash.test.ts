import { createHash, randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buffer } from 'node:stream/consumers'
import { afterEach, describe, expect, it } from 'vitest'
import { openDb } from '../src/db/open.js'
import { withSmallSendsInDatabase } from '../src/files/choose-store.js'
import { createDbPayloadStore } from '../src/files/db-payload-store.js'
import { createLocalPayloadStore } from '../src/files/payload-store.js'
import { sweepOrphanPayloads } from '../src/messages/out/orphans.js'
import { makeIdentity } from '../src/packaging/test-support.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { createTestStore, STORES, type TestStore, warnIfPostgresSkipped } from './support/db.js'
import { type FakeRegistry, startFakeRegistry } from './support/fake-registry.js'
import { arkivmeldingSbd } from './support/ip.js'
import { type IpProcess, spawnIp } from './support/process.js'

warnIfPostgresSkipped()

function pemKeystore(dir: string): string {
  const id = makeIdentity(dir, 'business')
  const path = join(dir, 'business.pem')
  writeFileSync(path, `${id.keyPem}\n${id.certPem}\n`)
  return path
}

/**
 * SIGKILL at a random moment while one-step sends and uploads are in flight, then a restart on the
 * same data: every message that got a 200 is there exactly once, with all its files intact, its
 * conversation, one OPPRETTET and (when sent) one send job; nothing in flight is left half-stored.
 */
describe.each(STORES)('a SIGKILL during sends on %s', (kind) => {
  let store: TestStore
  let registry: FakeRegistry
  let ip: IpProcess | undefined
  afterEach(async () => {
    await ip?.kill()
    await registry?.close()
    await store?.cleanup()
  })

  it('loses nothing acknowledged and leaves nothing half-stored', async () => {
    store = await createTestStore(kind)
    registry = await startFakeRegistry()
    registry.useAllFixtures()
    const filedir = join(store.dir, 'messages')
    const properties = {
      'difi.move.org.number': '910077473',
      'difi.move.serviceregistryEndpoint': registry.url,
      'difi.datasource.url': store.url,
      'difi.move.nextmove.filedir': filedir,
      'difi.security.enable': 'false',
      'difi.ssl.enabled': 'false',
      'difi.move.feature.enableDPO': 'true',
      // DPO needs the business certificate; its broker is a closed port, so sends wait and retry
      'difi.move.org.keystore.path': pemKeystore(store.dir),
      'difi.move.org.keystore.type': 'PEM',
      'difi.move.dpo.brokerserviceUrl': 'http://127.0.0.1:9/broker/api/v1',
      'difi.move.dpo.altinnTokenExchangeUrl':
        'http://127.0.0.1:9/authentication/api/v1/exchange/maskinporten',
      'server.port': '0',
      'server.address': '127.0.0.1',
    }
    const acknowledged = new Map<string, { files: Map<string, string> }>()
    for (let round = 0; round < 3; round++) {
      ip = await spawnIp(store.dir, properties)
      const stop = { now: false }
      const workers = Array.from({ length: 6 }, (_, i) =>
        sendLoop(ip!.url, i % 2 === 0 ? 'multipart' : 'steps', stop, acknowledged),
      )
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 600))
      await ip.kill('SIGKILL')
      stop.now = true
      await Promise.allSettled(workers)
    }
    expect(acknowledged.size).toBeGreaterThan(5)

    // restart once more: the start-up sweep runs, then check the store
    ip = await spawnIp(store.dir, properties)
    await ip.kill('SIGTERM')
    const db = await openDb(store.datasource, { cwd: store.dir })
    try {
      // with SQLite the start-up sweep has already removed files no row names; with PostgreSQL it
      // leaves them 10 minutes for other instances, so sweep here without that grace
      // the store the process used, their defaults: on SQLite files, with small one-step sends in the
      // database; on PostgreSQL the database
      const database = createDbPayloadStore(db, { filedir })
      const payloads =
        kind === 'sqlite' ? withSmallSendsInDatabase(database, createLocalPayloadStore(filedir)) : database
      const swept = await sweepOrphanPayloads(db, payloads, 0)
      if (kind === 'sqlite') expect(swept).toBe(0)
      const messages = await db.kysely.selectFrom('out_messages').selectAll().execute()
      const conversations = await db.kysely.selectFrom('conversations').selectAll().execute()
      const statuses = await db.kysely.selectFrom('message_statuses').selectAll().execute()
      const files = await db.kysely.selectFrom('out_files').selectAll().execute()
      const jobs = await db.kysely.selectFrom('jobs').selectAll().execute()

      for (const [messageId, { files: expected }] of acknowledged) {
        const rows = messages.filter((m) => m.message_id === messageId)
        expect(rows, `acknowledged ${messageId}`).toHaveLength(1)
        const mine = files.filter((f) => f.message_fk === rows[0]!.id)
        expect(new Map(mine.map((f) => [f.filename, f.sha256]))).toEqual(expected)
        expect(jobs.filter((j) => j.message_id === messageId)).toHaveLength(1)
      }
      // every stored message, acknowledged or not, is whole
      for (const m of messages) {
        const convs = conversations.filter((c) => c.message_id === m.message_id)
        expect(convs).toHaveLength(1)
        expect(statuses.filter((s) => s.conversation_fk === convs[0]!.id).map((s) => s.status)).toEqual([
          'OPPRETTET',
        ])
        expect(jobs.filter((j) => j.message_id === m.message_id).length).toBe(m.state === 'SENDING' ? 1 : 0)
      }
      expect(conversations.length).toBe(messages.length)
      // every file row has its bytes, and no stored payload is without a row
      for (const f of files) {
        const bytes = await buffer(payloads.read(f.storage_key))
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256)
      }
      expect(await payloads.list('out')).toEqual(files.map((f) => f.storage_key).sort())
    } finally {
      await db.close()
    }
  }, 120_000)
})

async function sendLoop(
  url: string,
  mode: 'multipart' | 'steps',
  stop: { now: boolean },
  acknowledged: Map<string, { files: Map<string, string> }>,
) {
  while (!stop.now) {
    const messageId = randomUUID()
    const doc = Buffer.from(`dokument ${messageId} `.repeat(2000))
    const xml = arkivmeldingXml({ files: ['dokument.txt'] })
    const files = new Map([
      ['arkivmelding.xml', sha256(Buffer.from(xml))],
      ['dokument.txt', sha256(doc)],
    ])
    const sbd = arkivmeldingSbd({ messageId, hoveddokument: 'dokument.txt' })
    try {
      if (mode === 'multipart') {
        const form = new FormData()
        form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
        form.append('Arkivmelding', new Blob([xml], { type: 'application/xml' }), 'arkivmelding.xml')
        form.append('Dokument', new Blob([new Uint8Array(doc)], { type: 'text/plain' }), 'dokument.txt')
        const res = await fetch(`${url}/api/messages/out/multipart`, { method: 'POST', body: form })
        if (res.status === 200) acknowledged.set(messageId, { files })
        else if (res.status !== 503) throw new Error(`multipart answered ${res.status}: ${await res.text()}`)
      } else {
        const ok = (r: Response) => {
          if (r.status !== 200) throw new Error(`answered ${r.status}`)
        }
        ok(
          await fetch(`${url}/api/messages/out`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(sbd),
          }),
        )
        for (const [name, body, type] of [
          ['arkivmelding.xml', xml, 'application/xml'],
          ['dokument.txt', new Uint8Array(doc), 'text/plain'],
        ] as const) {
          ok(
            await fetch(`${url}/api/messages/out/${messageId}`, {
              method: 'PUT',
              headers: { 'content-type': type, 'content-disposition': `attachment; filename=${name}` },
              body,
            }),
          )
        }
        ok(await fetch(`${url}/api/messages/out/${messageId}`, { method: 'POST' }))
        acknowledged.set(messageId, { files })
      }
    } catch (error) {
      // the kill cuts requests off; anything else is a real failure
      if (
        !stop.now &&
        !String((error as Error).message).match(/fetch failed|other side closed|ECONNRESET|ECONNREFUSED/)
      ) {
        throw error
      }
      return
    }
  }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}
