import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { createTestStore, STORES } from '../../test/support/db.js'
import { load, MINIMAL_ENV } from '../config/test-helpers.js'
import { createPayloadStore, payloadStoreKind, smallSendsInDatabase } from './choose-store.js'
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
      // in the folder, in the database, in both, in neither
      expect(await store.missing(['m1/1-a', 'm3/1-c', 'm2/1-b', 'm4/1-d'])).toEqual(['m4/1-d'])
      expect(await store.list('')).toEqual(['m1/1-a', 'm2/1-b', 'm3/1-c'])
      await store.removeDir('m1')
      await store.remove('m2/1-b')
      expect(await store.list('')).toEqual(['m3/1-c'])
      expect(await earlier.list('')).toEqual([])
      if (kind === 'postgres') {
        // a folder in both: the database's part removed by the caller's statement, the files after it
        await put(earlier, 'm5/1-e', 'old file')
        await put(store, 'm5/2-f', 'new')
        const removal = store.removeDirInStatement!('m5')
        await sql`with p as (${removal.clause(sql<boolean>`true`)}) select 1`.execute(db.kysely)
        expect(await store.list('m5')).toEqual(['m5/1-e'])
        await removal.after()
        expect(await store.list('')).toEqual(['m3/1-c'])
      }
    } finally {
      await db.close()
      await ts.cleanup()
      await rm(cwd, { recursive: true, force: true })
    }
  })
})

describe('the file store with small one-step sends in the database', () => {
  it('is what SQLite gets with use-db-persistence left unset, and only then', () => {
    const with_ = (useDbPersistence: boolean | null) => ({
      nextmove: { ...load().nextmove, useDbPersistence },
    })
    expect(smallSendsInDatabase(with_(null), 'sqlite')).toBe(true)
    expect(smallSendsInDatabase(with_(false), 'sqlite')).toBe(false)
    expect(smallSendsInDatabase(with_(true), 'sqlite')).toBe(false)
    expect(smallSendsInDatabase(with_(null), 'postgres')).toBe(false)
  })

  it.each([
    [null, true],
    [false, false],
  ] as const)('set to %j on SQLite: insertInTransaction offered: %j', async (useDbPersistence, offered) => {
    const ts = await createTestStore('sqlite')
    const db = await ts.open()
    const cwd = await mkdtemp(join(tmpdir(), 'choose-store-'))
    try {
      const config = { nextmove: { ...load().nextmove, filedir: 'messages', useDbPersistence } }
      const store = createPayloadStore({ config, db, cwd })
      expect(typeof store.insertInTransaction === 'function').toBe(offered)
      // temp files are renamed into place: they must be fsynced first, as in the file store
      expect(store.tempFilesNeedSync).toBe(true)
    } finally {
      await db.close()
      await ts.cleanup()
      await rm(cwd, { recursive: true, force: true })
    }
  })

  it('inserts in the caller transaction, writes everything else to files, reads and removes both', async () => {
    const ts = await createTestStore('sqlite')
    const db = await ts.open()
    const cwd = await mkdtemp(join(tmpdir(), 'choose-store-'))
    const text = async (r: Readable) => Buffer.concat(await r.toArray()).toString()
    try {
      const config = { nextmove: { ...load().nextmove, filedir: 'messages', useDbPersistence: null } }
      const store = createPayloadStore({ config, db, cwd })
      const data = Buffer.from('a small file')
      const sha256 = createHash('sha256').update(data).digest('hex')
      await db.kysely.transaction().execute(async (trx) => {
        await store.insertInTransaction!(trx, [{ key: 'm1/1-a', data, sha256 }])
      })
      await store.write('m1/2-b', Readable.from([Buffer.from('uploaded')]), {
        maxBytes: 100,
        onLimit: () => new Error('limit'),
      })
      expect(await db.kysely.selectFrom('payloads').select('key').execute()).toEqual([{ key: 'm1/1-a' }])
      expect(await readdir(join(cwd, 'messages', 'm1'))).toEqual(['2-b'])
      expect(await text(store.read('m1/1-a'))).toBe('a small file')
      expect(await text(store.read('m1/2-b'))).toBe('uploaded')
      expect([await store.exists('m1/1-a'), await store.exists('m1/2-b')]).toEqual([true, true])
      expect(await store.missing(['m1/2-b', 'm1/3-c', 'm1/1-a'])).toEqual(['m1/3-c'])
      expect(await store.list('m1')).toEqual(['m1/1-a', 'm1/2-b'])
      await store.removeDir('m1')
      expect(await store.list('')).toEqual([])
      expect(await db.kysely.selectFrom('payloads').select('key').execute()).toEqual([])
    } finally {
      await db.close()
      await ts.cleanup()
      await rm(cwd, { recursive: true, force: true })
    }
  })
})
