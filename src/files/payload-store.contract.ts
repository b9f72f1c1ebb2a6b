// The promises every PayloadStore keeps, run by each store's test file against a real store (disk,
// SQLite, PostgreSQL), so callers can swap one store for another without noticing.

import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { crc32 } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../util/time.js'
import { type PayloadStore, TEMP_DIR } from './payload-store.js'

export class TooLarge extends Error {
  constructor(readonly bytesSeen: number) {
    super(`too large: ${bytesSeen}`)
  }
}

export const onLimit = (n: number) => new TooLarge(n)
export const noLimit = { maxBytes: Number.POSITIVE_INFINITY, onLimit }

/** A store under test and a look at what it holds besides its keys. */
export interface StoreUnderTest {
  store: PayloadStore
  /** unfinished writes: temp files or staged rows */
  staged(): Promise<number>
  /** bytes those unfinished writes hold so far */
  stagedBytes(): Promise<number>
  /** leaves what a write that crashed leaves, last touched at `at` */
  leaveStaged(at: Date): Promise<void>
  /** makes `key` look last written at `at` */
  backdate(key: string, at: Date): Promise<void>
  close(): Promise<void>
}

/** A source of `total` bytes in `chunk`-sized pieces that counts how much was pulled from it. */
export function countingSource(total: number, chunk = 64 * 1024, onPull = () => {}) {
  const piece = Buffer.alloc(chunk, 0x61)
  let pulled = 0
  const stream = new Readable({
    read() {
      onPull()
      if (pulled >= total) return void this.push(null)
      const n = Math.min(chunk, total - pulled)
      pulled += n
      this.push(n === chunk ? piece : piece.subarray(0, n))
    },
  })
  return { stream, pulled: () => pulled }
}

/** A source the test feeds by hand, to look at the store while a write is under way. */
export function manualSource() {
  return new Readable({ read() {} })
}

export async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  // polls state that background I/O is about to change; gives up after about five seconds
  for (let i = 0; i < 1000; i++) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error('condition not met')
}

const HOUR = 60 * 60 * 1000

/**
 * The shared cases. `open` makes a fresh, empty store whose clock is `clock` (set to the real time,
 * since a file's age comes from the real clock).
 */
export function payloadStoreContract(open: (clock: ManualClock) => Promise<StoreUnderTest>): void {
  let clock: ManualClock
  let t: StoreUnderTest
  let store: PayloadStore
  const put = (key: string, content: string | Buffer = key) =>
    store.write(key, Readable.from([Buffer.from(content)]), noLimit)

  beforeEach(async () => {
    clock = new ManualClock(new Date())
    t = await open(clock)
    store = t.store
  })
  afterEach(async () => {
    await t.close()
  })

  describe('write and read', () => {
    it('stores the bytes under the key and returns their size, SHA-256 and CRC-32', async () => {
      const data = Buffer.from('Before the law sits a gatekeeper. æøå')
      const result = await store.write(
        'm1/1-a',
        Readable.from([data.subarray(0, 5), data.subarray(5)]),
        noLimit,
      )
      expect(result).toEqual({
        size: data.length,
        sha256: createHash('sha256').update(data).digest('hex'),
        crc32: crc32(data),
      })
      // the CRC-32 check value (ISO 3309, as zip uses it), counted across pieces
      const nine = await store.write(
        'm1/1-b',
        Readable.from(['1234', '56789'].map((s) => Buffer.from(s))),
        noLimit,
      )
      expect(nine.crc32).toBe(0xcbf43926)
      expect(await text(store.read('m1/1-a'))).toBe(data.toString())
      expect(await t.staged()).toBe(0)
    })

    it('stores an empty payload', async () => {
      const result = await store.write('m1/empty', Readable.from([]), { maxBytes: 0, onLimit })
      expect(result).toEqual({ size: 0, sha256: createHash('sha256').digest('hex'), crc32: 0 })
      expect(await store.exists('m1/empty')).toBe(true)
      expect(await text(store.read('m1/empty'))).toBe('')
    })

    it('errors with ENOENT when reading a key that holds nothing', async () => {
      await expect(text(store.read('m1/none'))).rejects.toMatchObject({ code: 'ENOENT' })
    })

    it('accepts exactly maxBytes and refuses one byte more', async () => {
      await expect(
        store.write('m/a', countingSource(1000, 300).stream, { maxBytes: 1000, onLimit }),
      ).resolves.toEqual(expect.objectContaining({ size: 1000 }))
      const err = await store
        .write('m/b', countingSource(1001, 300).stream, { maxBytes: 1000, onLimit })
        .catch((e) => e)
      expect(err).toBeInstanceOf(TooLarge)
      expect(err.bytesSeen).toBe(1001)
      expect(await store.exists('m/b')).toBe(false)
      expect(await t.staged()).toBe(0)
    })

    it('stops reading soon after the limit: a 10 MB stream with a 1 MB limit', async () => {
      const source = countingSource(10 * 1024 * 1024)
      const err = await store
        .write('m/big', source.stream, { maxBytes: 1024 * 1024, onLimit })
        .catch((e) => e)
      expect(err).toBeInstanceOf(TooLarge)
      expect(err.bytesSeen).toBeGreaterThan(1024 * 1024)
      // little more than the limit was read: a chunk or two in flight and the source's read-ahead
      expect(err.bytesSeen).toBeLessThan(1.25 * 1024 * 1024)
      expect(source.pulled()).toBeLessThan(1.25 * 1024 * 1024)
      expect(await t.staged()).toBe(0)
      expect(await store.exists('m/big')).toBe(false)
      // the source is left for the HTTP layer to answer on, not destroyed
      expect(source.stream.destroyed).toBe(false)
    })

    it('removes the unfinished write when the client aborts (source error)', async () => {
      const source = manualSource()
      const writing = store.write('m/a', source, noLimit)
      source.push(Buffer.alloc(1000))
      await waitFor(async () => (await t.staged()) === 1)
      source.destroy(new Error('ECONNRESET'))
      await expect(writing).rejects.toThrow('ECONNRESET')
      expect(await t.staged()).toBe(0)
      expect(await store.exists('m/a')).toBe(false)
    })

    it('removes the unfinished write and stops when the signal aborts, even if the source stalls', async () => {
      const source = manualSource()
      const controller = new AbortController()
      const writing = store.write('m/a', source, { ...noLimit, signal: controller.signal })
      source.push(Buffer.alloc(1000))
      await waitFor(async () => (await t.staged()) === 1)
      controller.abort()
      await expect(writing).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }))
      expect(await t.staged()).toBe(0)
      expect(source.destroyed).toBe(false)
    })

    it('never shows a partial payload under the key, and replaces an old one atomically', async () => {
      await put('m/a', 'old content')
      const source = manualSource()
      const writing = store.write('m/a', source, noLimit)
      source.push(Buffer.alloc(300 * 1024, 0x6e))
      // bytes of the new payload are stored (not only buffered) while the old one is still served
      await waitFor(async () => (await t.stagedBytes()) >= 64 * 1024)
      expect(await text(store.read('m/a'))).toBe('old content')
      expect(await store.list('m')).toEqual(['m/a'])
      source.push(Buffer.from('content'))
      source.push(null)
      await writing
      expect(await text(store.read('m/a'))).toBe(`${'n'.repeat(300 * 1024)}content`)
      expect(await t.staged()).toBe(0)
    })

    it('leaves nothing under a new key while its write is under way', async () => {
      const source = manualSource()
      const writing = store.write('m2/a', source, noLimit)
      source.push(Buffer.alloc(300 * 1024))
      await waitFor(async () => (await t.stagedBytes()) >= 64 * 1024)
      expect(await store.exists('m2/a')).toBe(false)
      expect(await store.list('')).toEqual([])
      await expect(text(store.read('m2/a'))).rejects.toMatchObject({ code: 'ENOENT' })
      source.push(null)
      await expect(writing).resolves.toEqual(expect.objectContaining({ size: 300 * 1024 }))
      expect(await store.exists('m2/a')).toBe(true)
    })

    it('keeps the old payload when a replacing write fails', async () => {
      await put('m/a', 'old')
      await expect(store.write('m/a', countingSource(100).stream, { maxBytes: 10, onLimit })).rejects.toThrow(
        TooLarge,
      )
      expect(await text(store.read('m/a'))).toBe('old')
    })

    it('reads a payload of many pieces back byte for byte', async () => {
      const data = Buffer.alloc(3 * 1024 * 1024 + 12_345)
      for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251
      const pieces = [data.subarray(0, 1), data.subarray(1, 1_000_000), data.subarray(1_000_000)]
      const result = await store.write('m/many', Readable.from(pieces), noLimit)
      expect(result.sha256).toBe(createHash('sha256').update(data).digest('hex'))
      expect(result.crc32).toBe(crc32(data))
      const back: Buffer[] = []
      for await (const chunk of store.read('m/many')) back.push(chunk as Buffer)
      expect(Buffer.concat(back).equals(data)).toBe(true)
    })
  })

  describe('keys', () => {
    it.each([
      '',
      '/etc/passwd',
      '../outside',
      'm/../../outside',
      'm/./a',
      'm//a',
      'm/',
      '/m',
      'm\\a',
      'C:/x',
      'm/a\u0000b',
      'm/a\nb',
      '.',
      '..',
      `${TEMP_DIR}/x`,
    ])('refuses %j in every method', async (key) => {
      await expect(store.write(key, Readable.from([Buffer.from('x')]), noLimit)).rejects.toThrow(
        /Payload key/,
      )
      expect(() => store.read(key)).toThrow(/Payload key/)
      await expect(store.remove(key)).rejects.toThrow(/Payload key/)
      await expect(store.removeDir(key)).rejects.toThrow(/Payload key/)
      await expect(store.exists(key)).rejects.toThrow(/Payload key/)
      await expect(store.missing([key])).rejects.toThrow(/Payload key/)
      // '' is the one prefix list accepts: it lists everything
      if (key !== '') await expect(store.list(key)).rejects.toThrow(/Payload key/)
      expect(await t.staged()).toBe(0)
    })

    it('accepts keys like <messageId>/<n>-<uuid>, and tells keys apart by case and wildcards', async () => {
      const key = 'e99e5cd1-74de-4cce-b902-cecdf97dc4f3/1-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0'
      await put(key)
      expect(await store.exists(key)).toBe(true)
      await put('M_1/a')
      await put('m%1/b')
      expect(await store.list('m_1')).toEqual([])
      expect(await store.list('M_1')).toEqual(['M_1/a'])
      await store.removeDir('m_1')
      await store.removeDir('mx1')
      expect(await store.list('')).toEqual(['M_1/a', key, 'm%1/b'].sort())
    })
  })

  describe('remove, removeDir, exists, list, adopt', () => {
    beforeEach(async () => {
      for (const key of ['m1/1-a', 'm1/2-b', 'm10/1-c', 'deep/x/y/z']) await put(key)
    })

    it('removes one key, idempotently', async () => {
      await store.remove('m1/1-a')
      await store.remove('m1/1-a')
      expect(await store.exists('m1/1-a')).toBe(false)
      expect(await store.exists('m1/2-b')).toBe(true)
      await expect(text(store.read('m1/1-a'))).rejects.toMatchObject({ code: 'ENOENT' })
    })

    it("removes a message's folder and nothing else, idempotently", async () => {
      await store.removeDir('m1')
      await store.removeDir('m1')
      expect(await store.list('')).toEqual(['deep/x/y/z', 'm10/1-c'])
      await store.removeDir('deep/x')
      expect(await store.list('')).toEqual(['m10/1-c'])
    })

    it('tells a folder from the names that sort just before and after it, and keeps every name under it', async () => {
      // '/' sorts between ' ', '-', '.' and '0'; names under the folder may hold any character
      const under = ['m1/ø', 'm1/~', 'm1/Z', 'm1/ /x', 'm1/\u{1F600}', 'm1/日本']
      const beside = ['m1 x/a', 'm1-x/a', 'm1.x/a', 'm1!/a', 'm0/a', 'm1x/a', 'm1ø/a', 'm2/a']
      for (const key of [...under, ...beside]) await put(key)
      expect(await store.list('m1')).toEqual(['m1/1-a', 'm1/2-b', ...under].sort())
      await store.removeDir('m1')
      expect(await store.list('')).toEqual(['deep/x/y/z', 'm10/1-c', ...beside].sort())
    })

    it('tells stored keys from missing keys and folders', async () => {
      expect(await store.exists('m1/2-b')).toBe(true)
      expect(await store.exists('m1/9-none')).toBe(false)
      expect(await store.exists('m1')).toBe(false)
      expect(await store.exists('m1/2-b/under-a-file')).toBe(false)
    })

    it('tells which of several keys are missing, in their order, with one answer for all', async () => {
      expect(await store.missing([])).toEqual([])
      expect(await store.missing(['m1/2-b', 'm1/1-a'])).toEqual([])
      expect(
        await store.missing(['m1/9-none', 'm1/2-b', 'm1', 'deep/x/y/z', 'm1/2-b/under-a-file', 'm2/a']),
      ).toEqual(['m1/9-none', 'm1', 'm1/2-b/under-a-file', 'm2/a'])
      await expect(store.missing(['m1/2-b', '../escape'])).rejects.toThrow(/Payload key/)
    })

    it('lists keys under a prefix, sorted, never unfinished writes', async () => {
      await t.leaveStaged(clock.now())
      expect(await store.list('m1')).toEqual(['m1/1-a', 'm1/2-b'])
      expect(await store.list('deep/x')).toEqual(['deep/x/y/z'])
      expect(await store.list('nothing-here')).toEqual([])
      expect(await store.list('')).toEqual(['deep/x/y/z', 'm1/1-a', 'm1/2-b', 'm10/1-c'])
    })

    it('lists only keys last written longer ago than olderThanMs when asked', async () => {
      await t.backdate('m1/2-b', new Date(clock.now().getTime() - 2 * HOUR))
      await t.backdate('deep/x/y/z', new Date(clock.now().getTime() - 30 * 60 * 1000))
      expect(await store.list('', { olderThanMs: HOUR })).toEqual(['m1/2-b'])
      expect(await store.list('m1', { olderThanMs: 10 * 60 * 1000 })).toEqual(['m1/2-b'])
      expect(await store.list('', { olderThanMs: 10 * 60 * 1000 })).toEqual(['deep/x/y/z', 'm1/2-b'])
    })

    it('adopts a finished temp file from its temp folder under a key', async () => {
      await mkdir(store.tempDir, { recursive: true })
      const temp = join(store.tempDir, 'upload.part')
      await writeFile(temp, 'from multipart')
      await store.adopt('m3/1-x', temp)
      expect(existsSync(temp)).toBe(false)
      expect(await text(store.read('m3/1-x'))).toBe('from multipart')
    })

    it("adopts a message's files together, into one or several new folders", async () => {
      await mkdir(store.tempDir, { recursive: true })
      const files = ['m4/1-a', 'm4/2-b', 'm5/x/1-c'].map((key, i) => ({
        key,
        tempPath: join(store.tempDir, `${i}.part`),
      }))
      for (const f of files) await writeFile(f.tempPath, `bytes of ${f.key}`)
      await store.adoptAll(files)
      for (const f of files) {
        expect(existsSync(f.tempPath)).toBe(false)
        expect(await text(store.read(f.key))).toBe(`bytes of ${f.key}`)
      }
      expect(await t.staged()).toBe(0)
    })

    it('reports a file that cannot be adopted only after the others have settled', async () => {
      await mkdir(store.tempDir, { recursive: true })
      const present = join(store.tempDir, 'present.part')
      await writeFile(present, 'here')
      const files = [
        { key: 'm6/1-a', tempPath: join(store.tempDir, 'missing.part') },
        { key: 'm6/2-b', tempPath: present },
      ]
      await expect(store.adoptAll(files)).rejects.toMatchObject({ code: 'ENOENT' })
      // the caller cleans up by key: nothing is still moving under it
      expect(await store.list('m6')).toEqual(['m6/2-b'])
      expect(await t.staged()).toBe(0)
    })
  })

  describe('sweepTemp', () => {
    it('removes only unfinished writes older than the given age', async () => {
      await put('m/kept', 'stored')
      await t.backdate('m/kept', new Date(clock.now().getTime() - 30 * 24 * HOUR))
      const ago = (ms: number) => new Date(clock.now().getTime() - ms)
      await t.leaveStaged(ago(2 * HOUR))
      await t.leaveStaged(ago(30 * 24 * HOUR))
      await t.leaveStaged(ago(60 * 1000))
      expect(await t.staged()).toBe(3)
      expect(await store.sweepTemp(HOUR)).toBe(2)
      expect(await t.staged()).toBe(1)
      expect(await text(store.read('m/kept'))).toBe('stored')
      expect(await store.sweepTemp(HOUR)).toBe(0)
    })

    it('returns 0 when there is nothing to sweep', async () => {
      expect(await store.sweepTemp(0)).toBe(0)
    })
  })
}
