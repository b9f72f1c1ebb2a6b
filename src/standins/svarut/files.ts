import { createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs'
import { rename } from 'node:fs/promises'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CmsError, decryptStream } from '../../packaging/cms.js'
import { badRequest } from './errors.js'
import type { SvarUtKeys } from './keys.js'

/**
 * Documents as plaintext files under `<dataDir>/files/<forsendelseId>/<index>`; uploads stream to
 * `<dataDir>/tmp/` first (dropped at start: what a crash left there was never acknowledged).
 */
export function createDocumentFiles(dataDir: string) {
  const tmp = join(dataDir, 'tmp')
  const dir = join(dataDir, 'files')
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  mkdirSync(dir, { recursive: true })
  const path = (id: string, idx: number) => join(dir, id, String(idx))
  return {
    tmp,
    path,
    /**
     * The plaintext of an uploaded part: decrypted with SvarUt's key when the forsendelse says `kryptert`
     * (a part that does not decrypt is refused, as SvarUt cannot read it), measured on the way.
     */
    async plaintext(
      part: { tempPath: string; size: number; sha256: string; filename: string },
      kryptert: boolean,
      keys: SvarUtKeys,
    ): Promise<{ tempPath: string; size: number; sha256: string }> {
      if (!kryptert) return part
      const out = join(tmp, `${randomUUID()}.plain`)
      const meter = new Sha256Meter()
      try {
        await pipeline(
          createReadStream(part.tempPath),
          decryptStream(keys.keyPem, keys.certPem),
          meter,
          createWriteStream(out),
        )
      } catch (error) {
        rmSync(out, { force: true })
        if (!(error instanceof CmsError)) throw error
        throw badRequest(
          `Kunne ikke dekryptere ${part.filename} med SvarUts sertifikat: ${error.message}`,
          'UGYLDIG_KRYPTERING',
        )
      } finally {
        rmSync(part.tempPath, { force: true })
      }
      return { tempPath: out, size: meter.size, sha256: meter.digest() }
    },
    async place(id: string, files: { tempPath: string }[]): Promise<void> {
      mkdirSync(join(dir, id), { recursive: true })
      for (const [i, f] of files.entries()) await rename(f.tempPath, path(id, i))
    },
    remove: (id: string) => rmSync(join(dir, id), { recursive: true, force: true }),
    read: (id: string, idx: number) => createReadStream(path(id, idx)),
  }
}

export type DocumentFiles = ReturnType<typeof createDocumentFiles>

class Sha256Meter extends Transform {
  size = 0
  readonly #hash = createHash('sha256')
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null, c?: Buffer) => void) {
    this.size += chunk.length
    this.#hash.update(chunk)
    done(null, chunk)
  }
  digest(): string {
    return this.#hash.digest('hex')
  }
}
