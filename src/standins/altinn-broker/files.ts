import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, mkdirSync, type ReadStream, rmSync } from 'node:fs'
import { rename } from 'node:fs/promises'
import { join } from 'node:path'
import { type Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { READ_PIECE_BYTES } from '../../files/payload-store.js'

/** Thrown while streaming when the body passes the resource's limit; `received` counts what was read. */
export class TooLarge extends Error {
  override name = 'TooLarge'
  constructor(
    readonly limit: number,
    readonly received: number,
  ) {
    super(`the file transfer is larger than the resource's maxFileTransferSize of ${limit} bytes`)
  }
}

export interface Stored {
  size: number
  /** MD5 of the bytes, lowercase hex, as Altinn's checksum */
  md5: string
}

/**
 * Payload files under `<dataDir>/files/`: an upload streams to `<id>.part` with the size limit and
 * MD5 counted on the way (never held whole), and is renamed to `<id>` only when complete.
 */
export function createFileStore(dataDir: string) {
  const dir = join(dataDir, 'files')
  mkdirSync(dir, { recursive: true })
  const path = (id: string) => join(dir, id)
  return {
    dir,
    /**
     * Streams `body` to the file. The body is piped, not handed to `pipeline`, so a refusal leaves the
     * request paused but alive: the caller can still answer 400 on the same socket.
     */
    async write(id: string, body: Readable, limit: number): Promise<Stored> {
      const part = `${path(id)}.part`
      const meter = new Meter(limit)
      const aborted = () => {
        if (!body.readableEnded) meter.destroy(new Error('the client aborted the upload'))
      }
      body.once('close', aborted)
      const sink = pipeline(meter, createWriteStream(part))
      body.pipe(meter)
      try {
        await sink
        await rename(part, path(id))
      } catch (error) {
        body.unpipe(meter)
        body.pause()
        rmSync(part, { force: true })
        throw error
      } finally {
        body.off('close', aborted)
      }
      return { size: meter.received, md5: meter.md5() }
    },
    read: (id: string): ReadStream => createReadStream(path(id), { highWaterMark: READ_PIECE_BYTES }),
    remove: (id: string) => rmSync(path(id), { force: true }),
  }
}

export type FileStore = ReturnType<typeof createFileStore>

class Meter extends Transform {
  received = 0
  readonly #hash = createHash('md5')
  constructor(readonly limit: number) {
    super()
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.received += chunk.length
    if (this.received > this.limit) {
      done(new TooLarge(this.limit, this.received))
      return
    }
    this.#hash.update(chunk)
    done(null, chunk)
  }
  md5(): string {
    return this.#hash.digest('hex')
  }
}
