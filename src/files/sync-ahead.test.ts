import { randomBytes } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { syncingWriteStream } from './sync-ahead.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sync-ahead-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** what a handle was asked to do, in order; `behave` may replace its datasync or writev */
function watched(
  handle: FileHandle,
  behave: {
    datasync?: () => Promise<void>
    writev?: (buffers: Buffer[]) => Promise<{ bytesWritten: number }>
  } = {},
) {
  const calls: string[] = []
  const proxy = new Proxy(handle, {
    get(target, name, receiver) {
      const own = Reflect.get(target, name, receiver)
      if (typeof own !== 'function') return own
      return (...args: unknown[]) => {
        calls.push(String(name))
        const replaced = behave[name as keyof typeof behave] as ((...a: unknown[]) => unknown) | undefined
        return replaced ? replaced(...args) : own.apply(target, args)
      }
    },
  })
  return { handle: proxy, calls }
}

const MiB = 1024 * 1024

describe('a syncing write stream', () => {
  it('writes every byte in order, whatever the chunks, and fsyncs at its end when flushing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 5000 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.boolean(),
        async (chunks, aheadBytes, flush) => {
          const path = join(dir, 'out')
          const { handle, calls } = watched(await open(path, 'w'))
          await pipeline(
            Readable.from(chunks.map((c) => Buffer.from(c))),
            syncingWriteStream(handle, { flush, ahead: true, aheadBytes }),
          )
          expect((await readFile(path)).equals(Buffer.concat(chunks))).toBe(true)
          // the end's fsync, then the close; never a close before a writeback that was started
          const last = calls.filter((c) => c === 'sync' || c === 'close' || c === 'datasync')
          expect(last.at(-1)).toBe('close')
          expect(calls.filter((c) => c === 'sync').length).toBe(flush ? 1 : 0)
          const total = chunks.reduce((n, c) => n + c.length, 0)
          if (total < aheadBytes) expect(calls).not.toContain('datasync')
        },
      ),
      { numRuns: 60 },
    )
  })

  it('writes back as it goes, one writeback at a time, and only while asked to', async () => {
    const path = join(dir, 'big')
    let release: () => void = () => {}
    let running = 0
    let most = 0
    const { handle, calls } = watched(await open(path, 'w'), {
      // each writeback held until the next chunk has been written, to see that none starts beside it
      datasync: async () => {
        running++
        most = Math.max(most, running)
        await new Promise<void>((r) => {
          release = r
        })
        running--
      },
    })
    let wanted = false
    const out = syncingWriteStream(handle, { flush: true, ahead: () => wanted, aheadBytes: MiB })
    const piece = randomBytes(MiB)
    const write = (b: Buffer) => new Promise<void>((r, j) => out.write(b, (e) => (e ? j(e) : r())))
    await write(piece)
    await write(piece)
    expect(calls).not.toContain('datasync')
    wanted = true
    await write(piece)
    expect(calls.filter((c) => c === 'datasync').length).toBe(1)
    await write(piece)
    await write(piece)
    // the first is still under way: no second one
    expect(calls.filter((c) => c === 'datasync').length).toBe(1)
    release()
    await new Promise((r) => setImmediate(r))
    await write(piece)
    expect(calls.filter((c) => c === 'datasync').length).toBe(2)
    const closed = new Promise((r) => out.once('close', r))
    out.end()
    // the end waits for the writeback under way before its own fsync
    await new Promise((r) => setTimeout(r, 20))
    expect(calls).not.toContain('sync')
    release()
    await closed
    expect(most).toBe(1)
    expect(calls.slice(-2)).toEqual(['sync', 'close'])
    expect((await readFile(path)).length).toBe(6 * MiB)
  })

  it('fails when a writeback fails: the bytes may not be on disk', async () => {
    const path = join(dir, 'failing')
    const { handle, calls } = watched(await open(path, 'w'), {
      datasync: async () => {
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })
      },
    })
    const chunks = Array.from({ length: 8 }, () => randomBytes(MiB))
    await expect(
      pipeline(
        Readable.from(chunks),
        syncingWriteStream(handle, { flush: true, ahead: true, aheadBytes: MiB }),
      ),
    ).rejects.toThrow(/EIO/)
    expect(calls).not.toContain('sync')
    expect(calls.at(-1)).toBe('close')
  })

  it('closes its handle only after a writeback under way when destroyed', async () => {
    const path = join(dir, 'destroyed')
    let release: () => void = () => {}
    const { handle, calls } = watched(await open(path, 'w'), {
      datasync: () =>
        new Promise<void>((r) => {
          release = () => {
            calls.push('datasync done')
            r()
          }
        }),
    })
    const out = syncingWriteStream(handle, { flush: true, ahead: true, aheadBytes: MiB })
    await new Promise<void>((r, j) => out.write(randomBytes(2 * MiB), (e) => (e ? j(e) : r())))
    const closed = new Promise((r) => out.once('close', r))
    const failed = new Promise((r) => out.once('error', r))
    out.destroy(new Error('the client went away'))
    await new Promise((r) => setTimeout(r, 20))
    expect(calls).not.toContain('close')
    release()
    await closed
    expect(((await failed) as Error).message).toBe('the client went away')
    expect(calls.slice(-2)).toEqual(['datasync done', 'close'])
  })

  it('asks a flush function at its end, once every byte is written', async () => {
    for (const wanted of [true, false]) {
      const path = join(dir, `asked-${wanted}`)
      const { handle, calls } = watched(await open(path, 'w'))
      let written = -1
      await pipeline(
        Readable.from([Buffer.alloc(100), Buffer.alloc(23)]),
        syncingWriteStream(handle, {
          flush: () => {
            written = calls.filter((c) => c === 'writev').length
            return wanted
          },
          ahead: false,
        }),
      )
      expect(written).toBeGreaterThan(0)
      expect(calls.filter((c) => c === 'sync').length).toBe(wanted ? 1 : 0)
    }
  })

  it('goes on after a short write from where it stopped', async () => {
    const path = join(dir, 'short')
    const real = await open(path, 'w')
    const { handle } = watched(real, {
      // the file takes at most 1000 bytes of each vectored write
      writev: async (buffers) => real.write(Buffer.concat(buffers).subarray(0, 1000)),
    })
    const chunks = Array.from({ length: 5 }, () => randomBytes(3333))
    await pipeline(Readable.from(chunks), syncingWriteStream(handle, { flush: false, ahead: false }))
    expect((await readFile(path)).equals(Buffer.concat(chunks))).toBe(true)
  })

  it('opens a path with the flags given, and fails as fs does', async () => {
    const path = join(dir, 'by-path')
    await pipeline(
      Readable.from([Buffer.from('one')]),
      syncingWriteStream(path, { flush: true, ahead: false }),
    )
    await expect(
      pipeline(
        Readable.from([Buffer.from('two')]),
        syncingWriteStream(path, { flush: true, ahead: false, flags: 'wx' }),
      ),
    ).rejects.toMatchObject({ code: 'EEXIST' })
    expect((await readFile(path)).toString()).toBe('one')
  })
})
