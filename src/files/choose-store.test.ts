import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createTestStore, STORES } from '../../test/support/db.js'
import { load, MINIMAL_ENV } from '../config/test-helpers.js'
import { createPayloadStore, payloadStoreKind } from './choose-store.js'
import { createLocalPayloadStore, type PayloadStore } from './payload-store.js'

const KEY = 'difi.move.nextmove.use-db-persistence'

describe('difi.move.nextmove.use-db-persistence', () => {
  it('is null when left at its default, and what was set otherwise', () => {
    expect(load().nextmove.useDbPersistence).toBeNull()
    expect(load({ file: `${KEY}=true` }).nextmove.useDbPersistence).toBe(true)
    expect(load({ file: `${KEY}=false` }).nextmove.useDbPersistence).toBe(false)
    const env = { ...MINIMAL_ENV, DIFI_MOVE_NEXTMOVE_USEDBPERSISTENCE: 'false' }
    expect(load({ env }).nextmove.useDbPersistence).toBe(false)
  })

  it.each([
    [null, 'sqlite', 'files'],
    [null, 'postgres', 'database'],
    [true, 'sqlite', 'database'],
    [true, 'postgres', 'database'],
    [false, 'sqlite', 'files'],
    [false, 'postgres', 'files'],
  ] as const)('set to %j on %s chooses %s', (useDbPersistence, kind, chosen) => {
    expect(payloadStoreKind({ nextmove: { ...load().nextmove, useDbPersistence } }, kind)).toBe(chosen)
  })
})

describe.each(STORES)('createPayloadStore on %s', (kind) => {
  it.each([null, true, false])(
    'set to %j: the bytes land where payloadStoreKind says',
    async (useDbPersistence) => {
      const ts = await createTestStore(kind)
      const db = await ts.open()
      const cwd = await mkdtemp(join(tmpdir(), 'choose-store-'))
      try {
        const config = { nextmove: { ...load().nextmove, filedir: 'messages', useDbPersistence } }
        const store = createPayloadStore({ config, db, cwd })
        await store.write('m/a', Readable.from([Buffer.from('x')]), {
          maxBytes: 1,
          onLimit: () => new Error('limit'),
        })
        const rows = await db.kysely.selectFrom('payloads').select('key').execute()
        const files = await readdir(join(cwd, 'messages')).catch(() => [])
        if (payloadStoreKind(config, kind) === 'database') {
          expect(rows).toEqual([{ key: 'm/a' }])
          expect(files.filter((f) => f !== '.tmp')).toEqual([])
        } else {
          expect(rows).toEqual([])
          expect(files).toContain('m')
        }
        expect(store.tempDir).toBe(join(cwd, 'messages', '.tmp'))
      } finally {
        await db.close()
        await ts.cleanup()
        await rm(cwd, { recursive: true, force: true })
      }
    },
  )
})

describe.each(STORES)('the database store over earlier payload files, on %s', (kind) => {
  it('reads what an earlier start kept in files, prefers the database, and removes from both', async () => {
    const ts = await createTestStore(kind)
    const db = await ts.open()
    const cwd = await mkdtemp(join(tmpdir(), 'choose-store-'))
    const put = (store: PayloadStore, key: string, text: string) =>
      store.write(key, Readable.from([Buffer.from(text)]), {
        maxBytes: 100,
        onLimit: () => new Error('limit'),
      })
    const text = async (r: Readable) => {
      const chunks: Buffer[] = []
      for await (const c of r) chunks.push(c as Buffer)
      return Buffer.concat(chunks).toString()
    }
    try {
      // as an earlier start left them: payloads in the folder
      const earlier = createLocalPayloadStore(join(cwd, 'messages'))
      await put(earlier, 'm1/1-a', 'old file')
      await put(earlier, 'm2/1-b', 'shadowed')
      const config = { nextmove: { ...load().nextmove, filedir: 'messages', useDbPersistence: true } }
      const store = createPayloadStore({ config, db, cwd })
      await put(store, 'm2/1-b', 'in the database')
      await put(store, 'm3/1-c', 'new')
      expect(await text(store.read('m1/1-a'))).toBe('old file')
      expect(await text(store.read('m2/1-b'))).toBe('in the database')
      expect(await text(store.read('m3/1-c'))).toBe('new')
      await expect(text(store.read('m4/1-d'))).rejects.toMatchObject({ code: 'ENOENT' })
      expect([await store.exists('m1/1-a'), await store.exists('m4/1-d')]).toEqual([true, false])
      expect(await store.list('')).toEqual(['m1/1-a', 'm2/1-b', 'm3/1-c'])
      await store.removeDir('m1')
      await store.remove('m2/1-b')
      expect(await store.list('')).toEqual(['m3/1-c'])
      expect(await earlier.list('')).toEqual([])
    } finally {
      await db.close()
      await ts.cleanup()
      await rm(cwd, { recursive: true, force: true })
    }
  })
})
