import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { OutFileRow } from '../db/schema.js'
import { createLocalPayloadStore, type PayloadStore } from '../files/payload-store.js'
import { checkPackable } from './outgoing-asic.js'
import { ChannelSendError } from './send-error.js'

function file(dokumentnummer: number, filename: string): OutFileRow {
  return {
    id: dokumentnummer,
    message_fk: 1,
    dokumentnummer,
    filename,
    title: null,
    mime_type: 'application/pdf',
    size: 1,
    primary_document: dokumentnummer === 1 ? 1 : 0,
    storage_key: `out/m1/${dokumentnummer}-${filename}`,
    crc32: null,
    sha256: '',
    created_at: 0,
  }
}

describe('checkPackable', () => {
  let dir: string
  let store: PayloadStore
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'packable-'))
    store = createLocalPayloadStore(dir)
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  const put = (f: OutFileRow) =>
    store.write(f.storage_key, Readable.from([Buffer.from('x')]), {
      maxBytes: 10,
      onLimit: () => new Error('limit'),
    })

  it('passes when every stored file is there', async () => {
    const files = [file(1, 'a.pdf'), file(2, 'b.pdf')]
    for (const f of files) await put(f)
    await expect(checkPackable(store, files)).resolves.toBeUndefined()
  })

  it('names the first missing file in the message order and asks for a retry', async () => {
    const files = [file(1, 'a.pdf'), file(2, 'b.pdf'), file(3, 'c.pdf')]
    await put(files[0]!)
    const error = await checkPackable(store, files).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ChannelSendError)
    expect(error).toMatchObject({
      retryable: true,
      message: 'its stored file b.pdf is missing (ENOENT); tried again until it is back',
    })
  })

  it('refuses for good a name the container cannot hold, before asking the store', async () => {
    const error = await checkPackable(store, [file(1, 'META-INF/manifest.xml')]).catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'ChannelSendError', retryable: false })
    expect((error as Error).message).toMatch(/^the message cannot be packed: /)
  })
})
