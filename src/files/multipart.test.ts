import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import {
  BOUNDARY,
  disposition,
  inChunks,
  multipartBody,
  request,
  sha256,
  TooLarge,
  useTempArea,
} from './multipart.fixtures.js'
import { discardMultipart, MultipartError, type MultipartOptions, readMultipart } from './multipart.js'

const area = useTempArea()

describe('readMultipart', () => {
  it("reads the reference's restdocs request, unquoted title with spaces included", async () => {
    const boundary = '6o2knFse3p53ty9dmcQvWAIx1zInP11uCfbm'
    const sbd = '{ "standardBusinessDocumentHeader": {} }'
    const text = 'Before the law sits a gatekeeper. To this gatekeeper comes a man from the country...'
    const body = multipartBody(
      [
        {
          headers: ['Content-Disposition: form-data; name=sbd', 'Content-Type: application/json'],
          content: sbd,
        },
        {
          headers: [
            'Content-Disposition: form-data; name=Before The Law; filename=before_the_law.txt',
            'Content-Type: text/plain',
          ],
          content: text,
        },
      ],
      { boundary },
    )
    const contentType = `multipart/form-data;charset=UTF-8; boundary=${boundary}`
    const result = await readMultipart(request(inChunks(body, [7]), contentType), area.options)
    expect(result.sbdPart).toBe(sbd)
    expect(result.fields.size).toBe(0)
    expect(result.files).toEqual([
      {
        fieldName: 'Before The Law',
        filename: 'before_the_law.txt',
        mimeType: 'text/plain',
        size: Buffer.byteLength(text),
        sha256: sha256(text),
        tempPath: expect.stringContaining(area.dir),
      },
    ])
    expect(await readFile(result.files[0]!.tempPath, 'utf8')).toBe(text)
    expect(await area.files()).toHaveLength(1)
  })

  it('reads several files with their titles, filenames and Content-Types as sent, and plain fields', async () => {
    const binary = Buffer.from(`\r\n--${BOUNDARY.slice(0, 5)}\r\n\u0000\u00ff--\r`, 'latin1')
    const body = multipartBody([
      { headers: [disposition('Hoveddokument', 'vedtak.pdf')], content: binary },
      {
        headers: [disposition('Vedlegg 1', 'a.txt'), 'Content-Type: text/plain; charset=UTF-8'],
        content: 'a',
      },
      {
        headers: [
          `Content-Disposition: form-data; name="V2"; filename="fallback.pdf"; filename*=UTF-8''%C3%A6.pdf`,
        ],
        content: '',
      },
      { headers: [disposition('Brev', 'brev æøå.pdf')], content: 'raw UTF-8 name, as browsers send it' },
      {
        headers: [disposition('note'), 'Content-Type: text/plain; charset=ISO-8859-1'],
        content: Buffer.from('blå', 'latin1'),
      },
    ])
    const result = await readMultipart(request(inChunks(body, [3, 50, 1])), area.options)
    expect(result.sbdPart).toBeNull()
    expect(result.fields).toEqual(new Map([['note', 'blå']]))
    expect(result.files.map((f) => [f.fieldName, f.filename, f.mimeType, f.size])).toEqual([
      ['Hoveddokument', 'vedtak.pdf', '', binary.length],
      ['Vedlegg 1', 'a.txt', 'text/plain; charset=UTF-8', 1],
      ['V2', 'æ.pdf', '', 0],
      ['Brev', 'brev æøå.pdf', '', 35],
    ])
    expect(await readFile(result.files[0]!.tempPath)).toEqual(binary)
    expect(result.files[0]!.sha256).toBe(sha256(binary))
    await discardMultipart(result)
    expect(await area.files()).toEqual([])
  })

  it('never takes the sbd part as an attachment, also when it comes with a filename', async () => {
    const body = multipartBody([
      { headers: [disposition('sbd', 'sbd.json'), 'Content-Type: application/json'], content: '{"a":1}' },
      { headers: [disposition('Tittel', 'x.txt')], content: 'x' },
    ])
    const result = await readMultipart(request(inChunks(body)), area.options)
    expect(result.sbdPart).toBe('{"a":1}')
    expect(result.files.map((f) => f.filename)).toEqual(['x.txt'])
    expect(await area.files()).toHaveLength(1)
  })

  it('ignores the preamble and epilogue, allows padding after a boundary, and stops at the closing boundary', async () => {
    const body = multipartBody([{ headers: [disposition('t', 'f.txt')], content: 'data' }], {
      preamble: 'This is a preamble.\r\n',
    })
    const withPadding = Buffer.from(
      body.toString('latin1').replace(`--${BOUNDARY}\r\n`, `--${BOUNDARY}  \t\r\n`),
      'latin1',
    )
    const stream = new Readable({ read() {} })
    stream.push(withPadding)
    stream.push('epilogue that is never read')
    // the stream never ends: the closing boundary alone finishes the body
    const result = await readMultipart(request(stream), area.options)
    expect(result.files.map((f) => f.size)).toEqual([4])
    await discardMultipart(result)
  })

  it('also keeps the bytes of the file named by retain, up to its cap, and creates a missing temp folder', async () => {
    const xml = '<arkivmelding>æ</arkivmelding>'
    const parts = (big: string) =>
      multipartBody([
        { headers: [disposition('Arkivmelding', 'arkivmelding.xml')], content: xml },
        { headers: [disposition('Dokument', 'a.txt')], content: 'a' },
        { headers: [disposition('Stor', big)], content: Buffer.alloc(64, 'b') },
      ])
    const options = {
      ...area.options,
      tempDir: join(area.dir, 'made-on-first-file'),
      retain: { filename: 'arkivmelding.xml', maxBytes: 63 },
    }
    const result = await readMultipart(request(inChunks(parts('big.bin'), [5])), options)
    expect(result.files.map((f) => f.bytes?.toString('utf8'))).toEqual([xml, undefined, undefined])
    expect(await readFile(result.files[0]!.tempPath, 'utf8')).toBe(xml)
    // past the cap the copy is dropped, the file itself is streamed as any other
    const over = await readMultipart(request(inChunks(parts('arkivmelding.xml'), [5])), options)
    expect(over.files.map((f) => f.bytes?.length)).toEqual([Buffer.byteLength(xml), undefined, undefined])
    expect(over.files[2]!.size).toBe(64)
    await discardMultipart(result)
    await discardMultipart(over)
  })

  it('holds file parts in memory, with no temp file, while they fit in inMemoryBytes together', async () => {
    const first = Buffer.alloc(40, 'x')
    const second = Buffer.from('second part, still held')
    // 40 + 23 bytes held; the third outgrows the 100 left and goes to its file, its held bytes first
    const third = Buffer.from(Array.from({ length: 90 }, (_, i) => 65 + (i % 26)))
    const body = multipartBody([
      { headers: [disposition('sbd')], content: '{}' },
      { headers: [disposition('A', 'first.bin')], content: first },
      { headers: [disposition('B', 'second.txt')], content: second },
      { headers: [disposition('C', 'third.txt')], content: third },
    ])
    // 7-byte pieces: the third part is held for several pieces before it moves to its file
    const result = await readMultipart(request(inChunks(body, [7])), { ...area.options, inMemoryBytes: 100 })
    expect(result.sbdPart).toBe('{}')
    expect(result.files.map((f) => [f.filename, f.size, f.sha256, f.tempPath === null])).toEqual([
      ['first.bin', 40, sha256(first), true],
      ['second.txt', 23, sha256(second), true],
      ['third.txt', 90, sha256(third), false],
    ])
    expect(result.files[0]!.bytes).toEqual(first)
    expect(result.files[1]!.bytes).toEqual(second)
    expect(result.files[2]!.bytes).toBeUndefined()
    expect(await readFile(result.files[2]!.tempPath!)).toEqual(third)
    expect(await area.files()).toHaveLength(1)
    await discardMultipart(result)
    expect(await area.files()).toEqual([])
  })

  it("gives a part's memory back when it moves to its file, for the parts after it", async () => {
    const big = Buffer.alloc(150, 'b')
    const small = Buffer.alloc(90, 's')
    const body = multipartBody([
      { headers: [disposition('Big', 'big.bin')], content: big },
      { headers: [disposition('Small', 'small.bin')], content: small },
      {
        headers: [disposition('Arkivmelding', 'arkivmelding.xml')],
        content: '<arkivmelding></arkivmelding>',
      },
    ])
    const options = { ...area.options, inMemoryBytes: 100, retain: { filename: 'big.bin', maxBytes: 200 } }
    const result = await readMultipart(request(inChunks(body, [10])), options)
    expect(result.files.map((f) => f.tempPath === null)).toEqual([false, true, false])
    // retained, though it moved to its file: the copy holds what was held before the move too
    expect(result.files[0]!.bytes).toEqual(big)
    expect(await readFile(result.files[0]!.tempPath!)).toEqual(big)
    expect(result.files[1]!.bytes).toEqual(small)
    // 10 bytes left for it: held for a piece at most, then in its file
    expect(await readFile(result.files[2]!.tempPath!, 'utf8')).toBe('<arkivmelding></arkivmelding>')
    await discardMultipart(result)
    expect(await area.files()).toEqual([])
  })

  it('keeps no temp file of a part held in memory when the body fails after it', async () => {
    const body = multipartBody([
      { headers: [disposition('A', 'a.bin')], content: Buffer.alloc(10, 'a') },
      { headers: [disposition('B', 'b.bin')], content: Buffer.alloc(50, 'b') },
    ])
    const options = { ...area.options, inMemoryBytes: 20, maxFileBytes: 40 }
    await expect(readMultipart(request(inChunks(body, [8])), options)).rejects.toThrow(TooLarge)
    expect(await area.files()).toEqual([])
  })

  it('accepts a file of exactly maxFileBytes', async () => {
    const body = multipartBody([{ headers: [disposition('t', 'f.bin')], content: Buffer.alloc(100, 1) }])
    const result = await readMultipart(request(inChunks(body, [9])), { ...area.options, maxFileBytes: 100 })
    expect(result.files[0]!.size).toBe(100)
  })
})

describe('readMultipart refuses', () => {
  async function expectRefused(
    body: Buffer | Readable,
    error: unknown,
    opts: Partial<MultipartOptions> = {},
  ) {
    const stream = Buffer.isBuffer(body) ? inChunks(body, [5, 64, 1]) : body
    await expect(readMultipart(request(stream), { ...area.options, ...opts })).rejects.toThrow(error as Error)
    expect(await area.files()).toEqual([])
  }

  it('a file over maxFileBytes while streaming it, and cleans up the files before it', async () => {
    const limit = 1024 * 1024
    const head = multipartBody([{ headers: [disposition('small', 's.txt')], content: 'ok' }]).subarray(
      0,
      -`--${BOUNDARY}--\r\n`.length,
    )
    let pulled = 0
    const total = 10 * 1024 * 1024
    const piece = Buffer.alloc(64 * 1024, 0x61)
    const stream = new Readable({
      read() {
        if (pulled === 0)
          this.push(
            Buffer.concat([head, Buffer.from(`--${BOUNDARY}\r\n${disposition('big', 'big.bin')}\r\n\r\n`)]),
          )
        if (pulled >= total) return void this.push(null)
        pulled += piece.length
        this.push(piece)
      },
    })
    const err = await readMultipart(request(stream), { ...area.options, maxFileBytes: limit }).catch((e) => e)
    expect(err).toBeInstanceOf(TooLarge)
    expect(err).toMatchObject({ fieldName: 'big', filename: 'big.bin' })
    expect(pulled).toBeLessThan(1.25 * limit)
    expect(await area.files()).toEqual([])
  })

  it('an sbd part or field over maxFieldBytes', async () => {
    const big = 'x'.repeat(101)
    await expectRefused(
      multipartBody([{ headers: [disposition('sbd')], content: big }]),
      /"sbd" is larger than 100 bytes/,
      {
        maxFieldBytes: 100,
      },
    )
    await expectRefused(
      multipartBody([{ headers: [disposition('sbd', 's.json')], content: big }]),
      MultipartError,
      {
        maxFieldBytes: 100,
      },
    )
    await expectRefused(
      multipartBody([{ headers: [disposition('f')], content: big }]),
      /field "f" is larger/,
      {
        maxFieldBytes: 100,
      },
    )
  })

  it('a truncated body, wherever it stops', async () => {
    const body = multipartBody([
      { headers: [disposition('a', 'a.txt')], content: 'first file' },
      { headers: [disposition('b', 'b.txt'), 'Content-Type: text/plain'], content: 'second file' },
    ])
    for (const cut of [
      0,
      5,
      30,
      body.indexOf('first') + 3,
      body.indexOf('Content-Type') + 4,
      body.length - 3,
    ]) {
      await expectRefused(body.subarray(0, cut), /truncated/)
    }
  })

  it('garbage and a wrong boundary', async () => {
    await expectRefused(Buffer.from('{"this": "is json, not multipart"}'), /truncated/)
    const other = multipartBody([{ headers: [disposition('a', 'a.txt')], content: 'x' }], {
      boundary: 'other',
    })
    await expectRefused(other, /truncated/)
    await expectRefused(Buffer.alloc(100 * 1024, 0x41), /No multipart boundary found/)
  })

  it('a missing or wrong Content-Type', async () => {
    const body = multipartBody([{ headers: [disposition('a', 'a.txt')], content: 'x' }])
    for (const [contentType, message] of [
      ['', /multipart\/form-data with a boundary is required/],
      ['application/json', /must be multipart\/form-data, not application\/json/],
      ['multipart/form-data', /no boundary/],
      ['multipart/form-data; boundary=', /no boundary/],
      ['multipart/form-data; boundary', /Malformed Content-Type/],
      [`multipart/form-data; boundary=${'x'.repeat(201)}`, /1 to 200 printable/],
    ] as const) {
      await expect(readMultipart(request(inChunks(body), contentType), area.options)).rejects.toThrow(message)
    }
    await expect(readMultipart({ headers: {}, stream: inChunks(body) }, area.options)).rejects.toThrow(
      MultipartError,
    )
    expect(await area.files()).toEqual([])
  })

  it('too many parts or fields', async () => {
    const files = Array.from({ length: 4 }, (_, i) => ({
      headers: [disposition(`t${i}`, `${i}.txt`)],
      content: 'x',
    }))
    await expectRefused(multipartBody(files), /Too many multipart parts: at most 3/, { maxParts: 3 })
    const fields = Array.from({ length: 3 }, (_, i) => ({ headers: [disposition(`f${i}`)], content: 'x' }))
    await expectRefused(
      multipartBody([...files.slice(0, 1), ...fields]),
      /Too many multipart fields: at most 2/,
      {
        maxFields: 2,
      },
    )
  })

  it('parts it cannot name, instead of dropping them silently', async () => {
    const part = (headers: string[]) =>
      multipartBody([
        { headers: [disposition('ok', 'ok.txt')], content: 'x' },
        { headers, content: 'y' },
      ])
    await expectRefused(part(['Content-Type: text/plain']), /part 2 has no Content-Disposition/)
    await expectRefused(part(['Content-Disposition: form-data; name']), /part 2: .*"name" has no value/)
    await expectRefused(part(['Content-Disposition: attachment; name=x']), /attachment, expected form-data/)
    await expectRefused(part(['Content-Disposition: form-data; filename=a.txt']), /part 2 has no name/)
    await expectRefused(part(['Content-Disposition form-data']), /Malformed multipart part header line/)
    await expectRefused(part([disposition('x'), disposition('y')]), /header Content-Disposition twice/)
    await expectRefused(part([`X-Big: ${'a'.repeat(17 * 1024)}`]), /more than 16384 bytes of headers/)
  })

  it('a part given twice where only one makes sense', async () => {
    const twice = (name: string) =>
      multipartBody([1, 2].map(() => ({ headers: [disposition(name)], content: '{}' })))
    await expectRefused(twice('sbd'), /"sbd" is given more than once/)
    await expectRefused(twice('note'), /"note" is given more than once/)
  })

  it('text after the boundary on its line', async () => {
    const body = multipartBody([{ headers: [disposition('a', 'a.txt')], content: 'x' }])
    const bad = Buffer.from(
      body.toString('latin1').replace(`--${BOUNDARY}\r\n`, `--${BOUNDARY}junk\r\n`),
      'latin1',
    )
    await expectRefused(bad, /text after the boundary/)
  })

  it('when the client goes away mid-file', async () => {
    const stream = new Readable({ read() {} })
    stream.push(`--${BOUNDARY}\r\n${disposition('a', 'a.bin')}\r\n\r\n${'x'.repeat(5000)}`)
    const reading = readMultipart(request(stream), area.options)
    await waitFor(async () => (await area.files()).length === 1)
    stream.destroy(new Error('ECONNRESET'))
    await expect(reading).rejects.toThrow('ECONNRESET')
    expect(await area.files()).toEqual([])
  })

  it('when the signal aborts while the client stalls', async () => {
    const stream = new Readable({ read() {} })
    stream.push(`--${BOUNDARY}\r\n${disposition('a', 'a.bin')}\r\n\r\n${'x'.repeat(5000)}`)
    const controller = new AbortController()
    const reading = readMultipart(request(stream), { ...area.options, signal: controller.signal })
    await waitFor(async () => (await area.files()).length === 1)
    controller.abort()
    await expect(reading).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }))
    expect(await area.files()).toEqual([])
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
