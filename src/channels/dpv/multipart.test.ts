import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import busboy from 'busboy'
import { describe, expect, it } from 'vitest'
import { multipartBody } from './multipart.js'

interface Parsed {
  fields: [string, string][]
  files: { name: string; filename: string; mimeType: string; sha256: string; size: number }[]
}

/** parses the body back as a server would (busboy, the parser under @fastify/multipart) */
async function parse(contentType: string, body: Readable): Promise<Parsed> {
  const out: Parsed = { fields: [], files: [] }
  const bb = busboy({ headers: { 'content-type': contentType }, defParamCharset: 'utf8' })
  bb.on('field', (name, value) => out.fields.push([name, value]))
  bb.on('file', (name, stream, info) => {
    const hash = createHash('sha256')
    let size = 0
    stream.on('data', (c: Buffer) => {
      hash.update(c)
      size += c.length
    })
    stream.on('end', () =>
      out.files.push({
        name,
        filename: info.filename ?? '',
        mimeType: info.mimeType,
        sha256: hash.digest('hex'),
        size,
      }),
    )
  })
  await pipeline(body, bb)
  return out
}

async function length(body: Readable): Promise<number> {
  let n = 0
  for await (const c of body) n += (c as Buffer).length
  return n
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe('the streaming multipart encoder', () => {
  it('writes fields and files a parser reads back byte for byte, and says its exact length', async () => {
    const a = randomBytes(300_000)
    const b = Buffer.from('\r\n--not-a-boundary\r\n')
    const fields = [
      { name: 'recipients[0]', value: 'urn:altinn:organization:identifier-no:910094092' },
      { name: 'correspondence.content.messageTitle', value: 'Nye lysrør "første"' },
      { name: 'correspondence.content.messageBody', value: 'linje 1\r\nlinje 2' },
    ]
    const files = [
      { name: 'attachments', filename: 'vedtak.pdf', contentType: 'application/pdf', size: a.length },
      { name: 'attachments', filename: 'særskilt "b".txt', contentType: 'text/plain', size: b.length },
    ]
    const bytes = { 'vedtak.pdf': a, 'særskilt "b".txt': b } as Record<string, Buffer>
    const body = multipartBody(
      fields,
      files.map((f) => ({
        ...f,
        open: () => Readable.from([bytes[f.filename]!.subarray(0, 7), bytes[f.filename]!.subarray(7)]),
      })),
    )
    expect(await length(body.stream())).toBe(body.length)
    const parsed = await parse(body.contentType, body.stream())
    expect(parsed.fields).toEqual(fields.map((f) => [f.name, f.value]))
    expect(parsed.files).toEqual([
      {
        name: 'attachments',
        filename: 'vedtak.pdf',
        mimeType: 'application/pdf',
        sha256: sha(a),
        size: a.length,
      },
      // a name that is not ASCII goes in filename* too, which keeps it whole, quotes included
      {
        name: 'attachments',
        filename: 'særskilt "b".txt',
        mimeType: 'text/plain',
        sha256: sha(b),
        size: b.length,
      },
    ])
  })

  it('fails the body when a file is not the size recorded for it', async () => {
    const body = multipartBody(
      [],
      [
        {
          name: 'attachments',
          filename: 'a.txt',
          contentType: 'text/plain',
          size: 10,
          open: () => Readable.from([Buffer.from('short')]),
        },
      ],
    )
    await expect(length(body.stream())).rejects.toThrow(/a.txt is 5 bytes, not the 10/)
  })

  it('reads a file only as fast as the body is consumed', async () => {
    let produced = 0
    const chunk = Buffer.alloc(64 * 1024)
    const total = 64 * 1024 * 1024
    const source = new Readable({
      read() {
        if (produced >= total) return this.push(null)
        produced += chunk.length
        this.push(chunk)
      },
    })
    const body = multipartBody(
      [],
      [
        {
          name: 'attachments',
          filename: 'big.bin',
          contentType: 'application/octet-stream',
          size: total,
          open: () => source,
        },
      ],
    )
    const stream = body.stream()
    const it = stream[Symbol.asyncIterator]()
    await it.next()
    await it.next()
    await new Promise((r) => setTimeout(r, 50))
    // only what the stream buffers ahead has been read, not the whole 64 MiB
    expect(produced).toBeLessThan(2 * 1024 * 1024)
    stream.destroy()
  })
})
