import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../util/time.js'
import { createLocalPayloadStore, type PayloadStore, TEMP_DIR } from './payload-store.js'

class TooLarge extends Error {
  constructor(readonly bytesSeen: number) {
    super(`too large: ${bytesSeen}`)
  }
}

const onLimit = (n: number) => new TooLarge(n)
const noLimit = { maxBytes: Number.POSITIVE_INFINITY, onLimit }

/** A source of `total` bytes in `chunk`-sized pieces that counts how much was pulled from it. */
function countingSource(total: number, chunk = 64 * 1024, onPull = () => {}) {
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

/** A source the test feeds by hand, to look at the disk while a write is under way. */
function manualSource() {
  return new Readable({ read() {} })
}

let root: string
let store: PayloadStore
const tempFiles = () => readdir(join(root, TEMP_DIR)).catch(() => [])

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'payload-store-'))
  store = createLocalPayloadStore(root)
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('write and read', () => {
  it('stores the bytes under the key and returns their size and SHA-256', async () => {
    const data = Buffer.from('Before the law sits a gatekeeper. æøå')
    const result = await store.write(
      'm1/1-a',
      Readable.from([data.subarray(0, 5), data.subarray(5)]),
      noLimit,
    )
    expect(result).toEqual({ size: data.length, sha256: createHash('sha256').update(data).digest('hex') })
    expect(await readFile(join(root, 'm1', '1-a'))).toEqual(data)
    expect(await text(store.read('m1/1-a'))).toBe(data.toString())
    expect(await tempFiles()).toEqual([])
  })

  it('stores an empty payload', async () => {
    const result = await store.write('m1/empty', Readable.from([]), { maxBytes: 0, onLimit })
    expect(result).toEqual({ size: 0, sha256: createHash('sha256').digest('hex') })
    expect(await store.exists('m1/empty')).toBe(true)
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
  })

  it('stops reading soon after the limit: a 10 MB stream with a 1 MB limit', async () => {
    const source = countingSource(10 * 1024 * 1024)
    const err = await store.write('m/big', source.stream, { maxBytes: 1024 * 1024, onLimit }).catch((e) => e)
    expect(err).toBeInstanceOf(TooLarge)
    expect(err.bytesSeen).toBeGreaterThan(1024 * 1024)
    // little more than the limit was read: a chunk or two in flight and the source's read-ahead
    expect(err.bytesSeen).toBeLessThan(1.25 * 1024 * 1024)
    expect(source.pulled()).toBeLessThan(1.25 * 1024 * 1024)
    expect(await tempFiles()).toEqual([])
    expect(existsSync(join(root, 'm', 'big'))).toBe(false)
    // the source is left for the HTTP layer to answer on, not destroyed
    expect(source.stream.destroyed).toBe(false)
  })

  it('removes the temp file when the client aborts (source error)', async () => {
    const source = manualSource()
    const writing = store.write('m/a', source, noLimit)
    source.push(Buffer.alloc(1000))
    await waitFor(async () => (await tempFiles()).length === 1)
    source.destroy(new Error('ECONNRESET'))
    await expect(writing).rejects.toThrow('ECONNRESET')
    expect(await tempFiles()).toEqual([])
    expect(await store.exists('m/a')).toBe(false)
  })

  it('removes the temp file and stops when the signal aborts, even if the source stalls', async () => {
    const source = manualSource()
    const controller = new AbortController()
    const writing = store.write('m/a', source, { ...noLimit, signal: controller.signal })
    source.push(Buffer.alloc(1000))
    await waitFor(async () => (await tempFiles()).length === 1)
    controller.abort()
    await expect(writing).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }))
    expect(await tempFiles()).toEqual([])
  })

  it('removes the temp file when the disk refuses the final rename', async () => {
    await writeFile(join(root, 'blocker'), 'a file where a folder should be')
    await expect(store.write('blocker/a', Readable.from([Buffer.from('x')]), noLimit)).rejects.toThrow(
      /EEXIST|ENOTDIR/,
    )
    expect(await tempFiles()).toEqual([])
  })

  it('never shows a partial file under the key, and replaces an old one atomically', async () => {
    await store.write('m/a', Readable.from([Buffer.from('old content')]), noLimit)
    const source = manualSource()
    const writing = store.write('m/a', source, noLimit)
    source.push(Buffer.from('new '))
    await waitFor(async () => (await tempFiles()).length === 1)
    expect(await readFile(join(root, 'm', 'a'), 'utf8')).toBe('old content')
    source.push(Buffer.from('content'))
    source.push(null)
    await writing
    expect(await readFile(join(root, 'm', 'a'), 'utf8')).toBe('new content')
  })

  it('leaves nothing under a new key while its write is under way', async () => {
    const source = manualSource()
    const writing = store.write('m2/a', source, noLimit)
    source.push(Buffer.alloc(5000))
    await waitFor(async () => (await tempFiles()).length === 1)
    expect(await store.exists('m2/a')).toBe(false)
    expect(existsSync(join(root, 'm2', 'a'))).toBe(false)
    source.push(null)
    await expect(writing).resolves.toEqual(expect.objectContaining({ size: 5000 }))
    expect(await store.exists('m2/a')).toBe(true)
  })

  it('keeps the old payload when a replacing write fails', async () => {
    await store.write('m/a', Readable.from([Buffer.from('old')]), noLimit)
    await expect(store.write('m/a', countingSource(100).stream, { maxBytes: 10, onLimit })).rejects.toThrow(
      TooLarge,
    )
    expect(await readFile(join(root, 'm', 'a'), 'utf8')).toBe('old')
  })

  it('streams 200 MB with far less memory than that', async () => {
    const total = 200 * 1024 * 1024
    const before = process.memoryUsage().rss
    // the second half may not need more than the first did: memory does not grow with the size (each
    // V8 sizes its young generation as it likes, so the absolute figure is only a loose bound)
    const peaks = [before, before]
    const source = countingSource(total, 64 * 1024, () => {
      const half = source.pulled() < total / 2 ? 0 : 1
      peaks[half] = Math.max(peaks[half]!, process.memoryUsage().rss)
    })
    const result = await store.write('m/huge', source.stream, { maxBytes: total, onLimit })
    expect(result.size).toBe(total)
    const [first, second] = peaks as [number, number]
    // holding the stream would add its 100 MB half; a garbage collector's whim stays well under half that
    expect(second - first).toBeLessThan(48 * 1024 * 1024)
    expect(Math.max(first, second) - before).toBeLessThan(100 * 1024 * 1024)
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
    await expect(store.write(key, Readable.from([Buffer.from('x')]), noLimit)).rejects.toThrow(/Payload key/)
    expect(() => store.read(key)).toThrow(/Payload key/)
    await expect(store.remove(key)).rejects.toThrow(/Payload key/)
    await expect(store.removeDir(key)).rejects.toThrow(/Payload key/)
    await expect(store.exists(key)).rejects.toThrow(/Payload key/)
    // '' is the one prefix list accepts: it lists everything
    if (key !== '') await expect(store.list(key)).rejects.toThrow(/Payload key/)
  })

  it('accepts keys like <messageId>/<n>-<uuid>', async () => {
    const key = 'e99e5cd1-74de-4cce-b902-cecdf97dc4f3/1-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0'
    await store.write(key, Readable.from([Buffer.from('x')]), noLimit)
    expect(await store.exists(key)).toBe(true)
  })
})

describe('remove, removeDir, exists, list, adopt', () => {
  beforeEach(async () => {
    for (const key of ['m1/1-a', 'm1/2-b', 'm10/1-c', 'deep/x/y/z']) {
      await store.write(key, Readable.from([Buffer.from(key)]), noLimit)
    }
  })

  it('removes one key, idempotently', async () => {
    await store.remove('m1/1-a')
    await store.remove('m1/1-a')
    expect(await store.exists('m1/1-a')).toBe(false)
    expect(await store.exists('m1/2-b')).toBe(true)
  })

  it("removes a message's folder and nothing else, idempotently", async () => {
    await store.removeDir('m1')
    await store.removeDir('m1')
    expect(await store.list('')).toEqual(['deep/x/y/z', 'm10/1-c'])
  })

  it('tells files from missing keys and folders', async () => {
    expect(await store.exists('m1/2-b')).toBe(true)
    expect(await store.exists('m1/9-none')).toBe(false)
    expect(await store.exists('m1')).toBe(false)
    expect(await store.exists('m1/2-b/under-a-file')).toBe(false)
  })

  it('lists keys under a prefix, sorted, never the temp files', async () => {
    await mkdir(join(root, TEMP_DIR), { recursive: true })
    await writeFile(join(root, TEMP_DIR, 'left.part'), 'x')
    expect(await store.list('m1')).toEqual(['m1/1-a', 'm1/2-b'])
    expect(await store.list('deep/x')).toEqual(['deep/x/y/z'])
    expect(await store.list('nothing-here')).toEqual([])
    expect(await store.list('')).toEqual(['deep/x/y/z', 'm1/1-a', 'm1/2-b', 'm10/1-c'])
  })

  it('adopts a finished temp file from its temp folder under a key', async () => {
    expect(store.tempDir).toBe(join(root, TEMP_DIR))
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
    expect(await tempFiles()).toEqual([])
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
  })

  // /dev/shm is a separate filesystem (tmpfs) on Linux, where rename fails with EXDEV
  it.skipIf(!existsSync('/dev/shm'))('adopts a file from another filesystem by copying it', async () => {
    const elsewhere = await mkdtemp('/dev/shm/payload-adopt-')
    try {
      const temp = join(elsewhere, 'upload.part')
      await writeFile(temp, 'across filesystems')
      await store.adopt('m3/2-y', temp)
      expect(existsSync(temp)).toBe(false)
      expect(await text(store.read('m3/2-y'))).toBe('across filesystems')
      expect(await tempFiles()).toEqual([])
    } finally {
      await rm(elsewhere, { recursive: true, force: true })
    }
  })
})

describe('sweepTemp', () => {
  it('removes only temp files older than the given age', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00Z')
    const swept = createLocalPayloadStore(root, { clock })
    await swept.write('m/kept', Readable.from([Buffer.from('stored')]), noLimit)
    await mkdir(join(root, TEMP_DIR), { recursive: true })
    const at = (iso: string) => new Date(iso)
    for (const [name, time] of [
      ['crashed.part', at('2026-03-01T10:00:00Z')],
      ['older.part', at('2026-02-20T00:00:00Z')],
      ['writing.part', at('2026-03-01T11:59:00Z')],
    ] as const) {
      await writeFile(join(root, TEMP_DIR, name), 'x')
      await utimes(join(root, TEMP_DIR, name), time, time)
    }
    expect(await swept.sweepTemp(60 * 60 * 1000)).toBe(2)
    expect(await tempFiles()).toEqual(['writing.part'])
    expect(await swept.exists('m/kept')).toBe(true)
    expect(await swept.sweepTemp(60 * 60 * 1000)).toBe(0)
  })

  it('returns 0 when there is no temp folder yet', async () => {
    expect(await store.sweepTemp(0)).toBe(0)
  })
})

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  // polls disk state that background I/O is about to change; gives up after about two seconds
  for (let i = 0; i < 400; i++) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error('condition not met')
}
