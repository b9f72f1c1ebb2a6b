// Shared by the multipart tests: bodies written the way clients write them, chunked streams, and a
// fresh temp folder per test.

import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach } from 'vitest'
import type { MultipartOptions } from './multipart.js'

export class TooLarge extends Error {
  constructor(
    readonly fieldName: string,
    readonly filename: string,
  ) {
    super(`The attachment named '${fieldName}' is too large`)
  }
}

export const BOUNDARY = 'XyZ-b0undary'
export const CRLF = '\r\n'

export interface TestPart {
  headers: string[]
  content: string | Buffer
}

/** A multipart body the way clients write it: delimiter, headers, blank line, content. */
export function multipartBody(
  parts: TestPart[],
  options: { boundary?: string; preamble?: string; epilogue?: string } = {},
) {
  const boundary = options.boundary ?? BOUNDARY
  const pieces: Buffer[] = [Buffer.from(options.preamble ?? '')]
  for (const part of parts) {
    pieces.push(Buffer.from(`--${boundary}${CRLF}${part.headers.map((h) => h + CRLF).join('')}${CRLF}`))
    pieces.push(Buffer.from(part.content), Buffer.from(CRLF))
  }
  pieces.push(Buffer.from(`--${boundary}--${CRLF}${options.epilogue ?? ''}`))
  return Buffer.concat(pieces)
}

export function inChunks(body: Buffer, sizes: number[] = [body.length || 1]): Readable {
  const chunks: Buffer[] = []
  for (let at = 0, i = 0; at < body.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length]!)
    chunks.push(body.subarray(at, at + size))
    at += size
  }
  return Readable.from(chunks)
}

export const request = (stream: Readable, contentType = `multipart/form-data; boundary=${BOUNDARY}`) => ({
  headers: { 'content-type': contentType },
  stream,
})

export const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
export const disposition = (name: string, filename?: string) =>
  `Content-Disposition: form-data; name="${name}"${filename === undefined ? '' : `; filename="${filename}"`}`

/** A fresh temp folder and default options for each test; `files()` lists what is left in the folder. */
export function useTempArea() {
  const area = {
    dir: '',
    options: undefined as unknown as MultipartOptions,
    files: () => readdir(area.dir).catch(() => [] as string[]),
  }
  beforeEach(async () => {
    area.dir = await mkdtemp(join(tmpdir(), 'multipart-'))
    area.options = {
      tempDir: area.dir,
      maxFileBytes: 5 * 1024 * 1024,
      onFileTooLarge: (fieldName, filename) => new TooLarge(fieldName, filename),
      maxFields: 5,
      maxFieldBytes: 64 * 1024,
      maxParts: 10,
    }
  })
  afterEach(async () => {
    await rm(area.dir, { recursive: true, force: true })
  })
  return area
}
