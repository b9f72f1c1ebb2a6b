// The DPI "dokumentpakke": the ASiC-E encrypted to the mailbox or print provider as CMS (the reference's
// CreateCMSEncryptedAsice), written to a temp file while its SHA-256 is taken. The business message
// carries that digest and is signed before the upload, so the package is made first and uploaded from
// the file afterwards.

import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { encryptStream } from './cms.js'
import { type WriteDpiAsicOptions, writeDpiAsic } from './dpi-asic.js'

export interface DpiPackage {
  path: string
  size: number
  /** base64 SHA-256 of the CMS bytes */
  sha256: string
  remove(): Promise<void>
}

export interface WriteDpiPackageOptions extends WriteDpiAsicOptions {
  recipientCertPem: string
  tempDir: string
  signal?: AbortSignal
}

/**
 * Writes the package to a new file in `tempDir`; on any failure or abort the file is removed and the
 * error thrown (AsicWriteError or CmsError for what no retry can fix).
 */
export async function writeDpiPackage(o: WriteDpiPackageOptions): Promise<DpiPackage> {
  // the folder may not be there yet: nothing else needs it where a send's files were all held in memory
  await mkdir(o.tempDir, { recursive: true })
  // RSA-OAEP with SHA-256 and AES-256-CBC, as the reference (the DPI text says OAEP with SHA-1; receivers take both).
  // Made before the container, whose first source opens at once: a bad certificate leaves nothing open.
  const encrypt = encryptStream(o.recipientCertPem)
  const asic = writeDpiAsic(o)
  const path = join(o.tempDir, `dpi-${randomUUID()}.cms`)
  const hash = createHash('sha256')
  let size = 0
  const tap = new Transform({
    transform(chunk: Buffer, _e, done) {
      hash.update(chunk)
      size += chunk.length
      done(null, chunk)
    },
  })
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 })
  try {
    await pipeline(asic, encrypt, tap, out, { signal: o.signal })
  } catch (e) {
    asic.destroy()
    // the pipeline may fail before the file is even opened, which then happens after: wait until the
    // stream has let go of it, or the removal comes first and the opened file stays behind
    if (!out.closed) await new Promise<void>((done) => out.once('close', () => done()))
    await rm(path, { force: true })
    throw e
  }
  return { path, size, sha256: hash.digest('base64'), remove: () => rm(path, { force: true }) }
}
