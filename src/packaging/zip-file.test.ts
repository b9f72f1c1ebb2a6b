import { createHash, randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type yauzl from 'yauzl'
import yazl from 'yazl'
import { entries } from './asic-entries.js'
import { makeTempDir } from './test-support.js'
import { openZipFile, SMALL_ZIP_BYTES } from './zip-file.js'

// The same zip read from a small file (into memory whole), a large one (range by range), its bytes,
// and with its first bytes held apart (`prefix`): the same entries, byte for byte.

let tmp: ReturnType<typeof makeTempDir>
beforeAll(() => {
  tmp = makeTempDir('zip-file-')
})
afterAll(() => tmp.cleanup())

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function zipOf(files: { name: string; data: Buffer }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const f of files) zip.addBuffer(f.data, f.name, { compress: false })
  zip.end()
  const parts: Buffer[] = []
  for await (const c of zip.outputStream as unknown as AsyncIterable<Buffer>) parts.push(c)
  return Buffer.concat(parts)
}

/** each entry's SHA-256 (comparing megabytes of Buffers with toEqual takes seconds) */
async function contents(zip: yauzl.ZipFile): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  try {
    for await (const entry of entries(zip)) {
      const parts: Buffer[] = []
      for await (const c of await zip.openReadStreamPromise(entry)) parts.push(c as Buffer)
      out[entry.fileName] = sha256(Buffer.concat(parts))
    }
  } finally {
    zip.close()
  }
  return out
}

describe('openZipFile', () => {
  const options = { lazyEntries: true, validateEntrySizes: true }
  for (const [what, size] of [
    ['a small zip', 10_000],
    ['a zip larger than SMALL_ZIP_BYTES', SMALL_ZIP_BYTES + 10_000],
  ] as const) {
    it(`reads ${what} alike from its file, its bytes, and with its head held apart`, async () => {
      const files = [
        { name: 'sbd.json', data: Buffer.from('{"a":1}') },
        { name: 'asic.zip', data: randomBytes(size) },
      ]
      const bytes = await zipOf(files)
      const path = join(tmp.dir, `${size}.zip`)
      writeFileSync(path, bytes)
      const want = Object.fromEntries(files.map((f) => [f.name, sha256(f.data)]))
      const whole = await openZipFile(path, options)
      expect(whole.fileSize).toBe(bytes.length)
      expect(await contents(whole)).toEqual(want)
      expect(await contents(await openZipFile(bytes, options))).toEqual(want)
      // the first 100 bytes in memory, the rest in the file
      writeFileSync(path, bytes.subarray(100))
      const split = await openZipFile(path, options, bytes.subarray(0, 100))
      expect(split.fileSize).toBe(bytes.length)
      expect(await contents(split)).toEqual(want)
      expect(await contents(await openZipFile(bytes.subarray(100), options, bytes.subarray(0, 100)))).toEqual(
        want,
      )
    })
  }

  it('fails for a file that is not a zip, small or large', async () => {
    for (const size of [100, SMALL_ZIP_BYTES + 1]) {
      const path = join(tmp.dir, `junk-${size}`)
      writeFileSync(path, Buffer.alloc(size, 1))
      await expect(openZipFile(path, options)).rejects.toThrow(/end of central directory/i)
    }
  })
})
