import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  countingSource,
  manualSource,
  noLimit,
  onLimit,
  payloadStoreContract,
  waitFor,
} from './payload-store.contract.js'
import { createLocalPayloadStore, type PayloadStore, TEMP_DIR } from './payload-store.js'

const tempFilesIn = (root: string) => readdir(join(root, TEMP_DIR)).catch(() => [] as string[])

describe('the payload store contract, on local disk', () => {
  payloadStoreContract(async (clock) => {
    const root = await mkdtemp(join(tmpdir(), 'payload-store-'))
    const store = createLocalPayloadStore(root, { clock })
    const tempSizes = async () =>
      Promise.all((await tempFilesIn(root)).map(async (n) => (await stat(join(root, TEMP_DIR, n))).size))
    let crashes = 0
    return {
      store,
      staged: async () => (await tempFilesIn(root)).length,
      stagedBytes: async () => (await tempSizes()).reduce((a, b) => a + b, 0),
      async leaveStaged(at) {
        await mkdir(store.tempDir, { recursive: true })
        const path = join(store.tempDir, `crashed-${crashes++}.part`)
        await writeFile(path, 'x')
        await utimes(path, at, at)
      },
      backdate: (key, at) => utimes(join(root, ...key.split('/')), at, at),
      close: () => rm(root, { recursive: true, force: true }),
    }
  })
})

describe('on disk', () => {
  let root: string
  let store: PayloadStore
  const tempFiles = () => tempFilesIn(root)

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'payload-store-'))
    store = createLocalPayloadStore(root)
  })

  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('keeps a key as a path under the root, and stages in <root>/.tmp', async () => {
    expect(store.tempDir).toBe(join(root, TEMP_DIR))
    await store.write('m1/1-a', Readable.from([Buffer.from('bytes')]), noLimit)
    expect(await readFile(join(root, 'm1', '1-a'), 'utf8')).toBe('bytes')
    const source = manualSource()
    const writing = store.write('m2/a', source, noLimit)
    source.push(Buffer.alloc(10))
    await waitFor(async () => (await tempFiles()).length === 1)
    expect(existsSync(join(root, 'm2', 'a'))).toBe(false)
    source.push(null)
    await writing
    expect(await tempFiles()).toEqual([])
  })

  it('removes the temp file when the disk refuses the final rename', async () => {
    await writeFile(join(root, 'blocker'), 'a file where a folder should be')
    await expect(store.write('blocker/a', Readable.from([Buffer.from('x')]), noLimit)).rejects.toThrow(
      /EEXIST|ENOTDIR/,
    )
    expect(await tempFiles()).toEqual([])
  })

  it('lists no temp file, even one named like a key', async () => {
    await mkdir(join(root, TEMP_DIR, 'm1'), { recursive: true })
    await writeFile(join(root, TEMP_DIR, 'm1', 'a'), 'x')
    expect(await store.list('')).toEqual([])
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
