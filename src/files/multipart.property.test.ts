import { readFile } from 'node:fs/promises'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BOUNDARY,
  inChunks,
  multipartBody,
  request,
  sha256,
  TooLarge,
  useTempArea,
} from './multipart.fixtures.js'
import { discardMultipart, MultipartError, readMultipart } from './multipart.js'

const area = useTempArea()

describe('readMultipart, property-based', () => {
  const nameChar = fc.constantFrom('a', 'Z', '0', ' ', ';', '=', '"', '\\', "'", '*', 'æ', '€', '/')
  const name = fc.string({ unit: nameChar, minLength: 1, maxLength: 8 })
  // contents made of the delimiter's own pieces, so near-misses land across chunk edges
  const byte = fc.constantFrom(0x0d, 0x0a, 0x2d, ...Buffer.from(BOUNDARY), 0x00, 0xff)
  const content = fc
    .array(byte, { maxLength: 60 })
    .map((bytes) => Buffer.from(bytes))
    .filter((b) => !b.includes(`\r\n--${BOUNDARY}`))
  const quote = (v: string) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`
  const part = fc.record({ name, filename: fc.option(name, { nil: undefined }), content })
  const parts = fc.uniqueArray(part, {
    maxLength: 5,
    selector: (p) => (p.filename === undefined ? p.name : `file:${p.name}`),
  })
  const chunkSizes = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 })

  const toBody = (ps: Array<{ name: string; filename: string | undefined; content: Buffer }>) =>
    multipartBody(
      ps.map((p) => ({
        headers: [
          `Content-Disposition: form-data; name=${quote(p.name)}${p.filename === undefined ? '' : `; filename=${quote(p.filename)}`}`,
        ],
        content: p.content,
      })),
    )

  it('gives back every part of a well-formed body however it is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(parts, chunkSizes, async (ps, sizes) => {
        const result = await readMultipart(request(inChunks(toBody(ps), sizes)), {
          ...area.options,
          maxFields: 10,
        })
        const files = ps.filter((p) => p.filename !== undefined && p.name !== 'sbd')
        const fields = ps.filter((p) => p.filename === undefined && p.name !== 'sbd')
        expect(result.fields).toEqual(
          new Map(fields.map((p) => [p.name, new TextDecoder().decode(p.content)])),
        )
        expect(result.files.map((f) => [f.fieldName, f.filename, f.size, f.sha256])).toEqual(
          files.map((p) => [p.name, p.filename, p.content.length, sha256(p.content)]),
        )
        for (const [i, file] of result.files.entries())
          expect(await readFile(file.tempPath)).toEqual(files[i]!.content)
        await discardMultipart(result)
        expect(await area.files()).toEqual([])
      }),
      { numRuns: 150 },
    )
  })

  it('never crashes and never leaves a temp file behind on damaged bodies', async () => {
    const damage = fc.oneof(
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    )
    type Damage =
      | { kind: 'cut'; at: number }
      | { kind: 'insert'; at: number; bytes: Uint8Array }
      | { kind: 'flip'; at: number; bit: number }
    const apply = (body: Buffer, d: Damage): Buffer => {
      const at = d.at % (body.length + 1)
      if (d.kind === 'cut') return body.subarray(0, at)
      if (d.kind === 'insert')
        return Buffer.concat([body.subarray(0, at), Buffer.from(d.bytes), body.subarray(at)])
      const copy = Buffer.from(body)
      if (at < copy.length) copy[at]! ^= 1 << d.bit
      return copy
    }
    const limits = fc.record({
      maxFileBytes: fc.integer({ min: 0, max: 80 }),
      maxParts: fc.integer({ min: 1, max: 6 }),
    })
    await fc.assert(
      fc.asyncProperty(
        parts,
        fc.array(damage, { minLength: 1, maxLength: 3 }),
        chunkSizes,
        limits,
        async (ps, ds, sizes, lim) => {
          const body = ds.reduce(apply, toBody(ps))
          try {
            const result = await readMultipart(request(inChunks(body, sizes)), { ...area.options, ...lim })
            await discardMultipart(result)
          } catch (err) {
            if (!(err instanceof MultipartError || err instanceof TooLarge)) throw err
          }
          expect(await area.files()).toEqual([])
        },
      ),
      { numRuns: 300 },
    )
  })

  it('refuses random bytes with a MultipartError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), chunkSizes, async (bytes, sizes) => {
        await expect(
          readMultipart(request(inChunks(Buffer.from(bytes), sizes)), area.options),
        ).rejects.toThrow(MultipartError)
        expect(await area.files()).toEqual([])
      }),
      { numRuns: 200 },
    )
  })
})
