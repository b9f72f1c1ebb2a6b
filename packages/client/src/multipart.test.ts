import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import busboy from 'busboy'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { IntegrasjonspunktError } from './errors.js'
import { Progress, type ProgressEvent, prepareFiles } from './files.js'
import { multipartBody } from './multipart.js'

interface Part {
  name: string
  filename?: string
  mimeType: string
  data: Buffer
}

/** Reads a body back with busboy, a parser that shares no code with ours. */
async function parse(contentType: string, body: Buffer): Promise<Part[]> {
  const parts: Part[] = []
  const bb = busboy({ headers: { 'content-type': contentType }, defParamCharset: 'utf8' })
  bb.on('field', (name, value, info) =>
    parts.push({ name, mimeType: info.mimeType, data: Buffer.from(value) }),
  )
  bb.on('file', (name, stream, info) => {
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () =>
      parts.push({ name, filename: info.filename, mimeType: info.mimeType, data: Buffer.concat(chunks) }),
    )
  })
  await new Promise((done, fail) => {
    bb.on('close', done)
    bb.on('error', fail)
    Readable.from([body]).pipe(bb)
  })
  return parts
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c))
  return Buffer.concat(chunks)
}

describe('the multipart body', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'client-multipart-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('carries the SBD and each file, with the exact length, and counts progress per 64 KiB', async () => {
    const big = Buffer.alloc(200_000, 7)
    await writeFile(join(dir, 'stor.pdf'), big)
    const files = await prepareFiles([
      { path: join(dir, 'stor.pdf'), title: 'Blåbær "stor"' },
      { data: '<a/>', filename: 'arkivmelding.xml', title: 'Arkivmelding' },
      { data: new Uint8Array(0), filename: 'tom.txt' },
    ])
    const events: ProgressEvent[] = []
    const body = multipartBody('{"sbd":true}', files, new Progress(files, (p) => events.push(p)))
    const bytes = await collect(body.open())
    expect(bytes.length).toBe(body.length)
    const parts = await parse(body.contentType, bytes)
    // the big one compared once, by itself: a deep diff of 200 kB is slow
    expect(parts[1]!.data.equals(big)).toBe(true)
    parts[1]!.data = Buffer.alloc(0)
    expect(parts).toEqual([
      { name: 'sbd', mimeType: 'application/json', data: Buffer.from('{"sbd":true}') },
      { name: 'Blåbær "stor"', filename: 'stor.pdf', mimeType: 'application/pdf', data: Buffer.alloc(0) },
      {
        name: 'Arkivmelding',
        filename: 'arkivmelding.xml',
        mimeType: 'application/xml',
        data: Buffer.from('<a/>'),
      },
      { name: 'tom.txt', filename: 'tom.txt', mimeType: 'text/plain', data: Buffer.alloc(0) },
    ])
    const big1 = events.filter((e) => e.filename === 'stor.pdf')
    expect(big1.map((e) => e.fileSent)).toEqual([65_536, 131_072, 196_608, 200_000])
    expect(events.at(-1)).toEqual({
      filename: 'tom.txt',
      fileBytes: 0,
      fileSent: 0,
      totalBytes: 200_004,
      totalSent: 200_004,
    })

    // a second attempt reads the files again and counts from zero again
    events.length = 0
    expect((await collect(body.open())).equals(bytes)).toBe(true)
    expect(events[0]).toMatchObject({ filename: 'stor.pdf', fileSent: 65_536, totalSent: 65_536 })
  })

  it('refuses missing files and repeated filenames before anything is sent', async () => {
    await expect(prepareFiles([{ path: join(dir, 'nope.pdf') }])).rejects.toThrow(
      /Cannot read the attachment/,
    )
    await expect(prepareFiles([{ path: dir }])).rejects.toThrow(/is not a file/)
    await expect(
      prepareFiles([
        { data: 'a', filename: 'x.txt' },
        { data: 'b', filename: 'x.txt' },
      ]),
    ).rejects.toThrow(IntegrasjonspunktError)
  })

  it('fails, rather than sending a wrong length, when a file changes while it is sent', async () => {
    const path = join(dir, 'growing.txt')
    await writeFile(path, 'abc')
    const [file] = await prepareFiles([{ path }])
    await writeFile(path, 'abcdef')
    const chunks: Uint8Array[] = []
    const reading = (async () => {
      for await (const c of file!.chunks()) chunks.push(c)
    })()
    await expect(reading).rejects.toThrow(/changed while it was sent/)
  })
})
