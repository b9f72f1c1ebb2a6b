// ASiC-E writer, streaming in constant memory: each document is read twice, one at a time, first for
// its SHA-256, size, CRC-32 and whether it compresses, then into the zip (zip-writer.ts), stored when
// it does not compress. The layout is the reference's (felleslosninger/efm-asic
// AbstractAsicWriter / CadesAsicWriter): stored `mimetype` first, eFormidling `manifest.xml`, the
// documents with the primary first, then META-INF/ASiCManifest.xml, the CAdES signature over it and
// the OASIS META-INF/manifest.xml. The ASiCManifest needs every digest, so it is added to the zip only
// once the last document has streamed through.

import { createHash, randomUUID } from 'node:crypto'
import { addAbortSignal, type Readable } from 'node:stream'
import { setImmediate } from 'node:timers/promises'
import { crc32, deflateRawSync } from 'node:zlib'
import { signDetached } from './asic-signature.js'
import {
  ASIC_MIMETYPE,
  asicManifestXml,
  type DataObject,
  eformidlingManifestXml,
  oasisManifestXml,
} from './asic-xml.js'
import { documentNamesProblem } from './document-names.js'
import { type ZipEntry, type ZipStreamEntry, zipStream } from './zip-writer.js'

export {
  AsicError,
  type AsicErrorReason,
  type ReadAsicOptions,
  type ReadAsicResult,
  readAsic,
} from './asic-reader.js'

export interface AsicDocument {
  filename: string
  mimeType: string
  title?: string | null
  primary: boolean
  /**
   * opened only when the document's turn comes, so at most one source is open at a time; opened twice
   * (to hash it, then to write it), each time from the start, giving the same bytes
   */
  open: () => Readable
  /**
   * what was counted of the bytes as they were stored: then the first opening reads no more than the
   * start the deflate decision needs, and the writing checks the size and CRC-32 (a file changed since
   * fails the send, as it does when the first reading counted them)
   */
  known?: KnownDocument
}

export interface KnownDocument {
  size: number
  /** unsigned */
  crc32: number
  sha256: Buffer
}

export interface WriteAsicOptions {
  /** full `ICD:orgnr`, e.g. 0192:910077473 */
  sender: string
  receiver: string
  /** in dokumentnummer order; the primary one is moved first */
  documents: AsicDocument[]
  signer: { keyPem: string; certPem: string; chainPem?: string[] }
  now?: () => Date
}

/** The title the reference's example manifest shows when the document has none. */
const DEFAULT_TITLE = 'Hoveddokument'

/** Orders documents as the reference: the primary one first, the rest as given. */
export function orderDocuments<T extends { primary: boolean }>(docs: T[]): T[] {
  const i = docs.findIndex((d) => d.primary)
  return i <= 0 ? [...docs] : [docs[i]!, ...docs.slice(0, i), ...docs.slice(i + 1)]
}

/** A container that cannot be written however often it is tried: a send fails for good on it. */
export class AsicWriteError extends Error {
  override name = 'AsicWriteError'
  /** read by the send jobs: another attempt would fail the same way */
  readonly retryable = false
}

export function writeAsic(opts: WriteAsicOptions): Readable {
  if (opts.documents.length === 0) throw new AsicWriteError('an ASiC-E needs at least one document')
  const refused = documentNamesProblem(opts.documents.map((d) => d.filename))
  if (refused) throw new AsicWriteError(refused)
  const mtime = (opts.now ?? (() => new Date()))()
  return zipStream((signal) => asicEntries(opts, mtime, signal), {
    mtime,
    comment: `mimetype=${ASIC_MIMETYPE}`,
  })
}

async function* asicEntries(
  opts: WriteAsicOptions,
  mtime: Date,
  signal: AbortSignal,
): AsyncGenerator<ZipEntry> {
  const docs = orderDocuments(opts.documents)
  // as the reference: stored, first, no extra field, so `mimetype` can be read at a fixed offset
  yield { name: 'mimetype', data: Buffer.from(ASIC_MIMETYPE), method: 'store' }
  const first = docs[0]!
  const manifest = eformidlingManifestXml(opts.receiver, opts.sender, {
    filename: first.filename,
    mimeType: first.mimeType,
    title: first.title ?? DEFAULT_TITLE,
  })
  yield { name: 'manifest.xml', data: manifest, method: 'deflate' }
  const objects: DataObject[] = [
    { uri: 'manifest.xml', mimeType: 'application/xml', sha256: sha256(manifest) },
  ]
  for (const doc of docs) {
    const { entry, sha256 } = await documentEntry(doc, signal)
    objects.push({ uri: doc.filename, mimeType: doc.mimeType, sha256 })
    yield entry
  }
  const sigUri = `META-INF/signature-${randomUUID()}.p7s`
  const asicManifest = asicManifestXml(objects, sigUri)
  const signature = await signDetached(asicManifest, opts.signer, mtime)
  yield { name: 'META-INF/ASiCManifest.xml', data: asicManifest, method: 'deflate' }
  yield { name: sigUri, data: signature, method: 'deflate' }
  yield { name: 'META-INF/manifest.xml', data: oasisManifestXml(objects), method: 'deflate' }
}

/** how much of a document's start is deflated to decide whether the whole is worth deflating */
const SAMPLE_BYTES = 64 * 1024
/** how many bytes the first reading takes before it lets the event loop turn */
const TURN_BYTES = 1024 * 1024
/** deflated only when the sample shrinks below this share of its size */
const DEFLATE_BELOW = 0.9

/**
 * A document's zip entry, from a first reading of its source: SHA-256 (for the signed manifest), size
 * and CRC-32 (so an incompressible document is stored with them in its local header, no data
 * descriptor, which Java's ZipInputStream requires of stored entries), and whether it compresses. The
 * writer reads the source a second time and fails when that gives other bytes (a file replaced).
 *
 * The choice: the first 64 KiB deflated at level 1 (about 1 ms) must shrink by 10 % or more. PDF,
 * JPEG, PNG, ZIP-based office files and encrypted data shrink by a few percent at most, and deflating
 * them costs far more than the bytes saved (Node's deflate runs at about 35 MiB/s against AES at about
 * 650 MiB/s on our bench machine); XML and text shrink by more than half. A document whose start is
 * unlike its rest is rare and only costs size or time, never correctness.
 *
 * With `known` (counted as the document was stored), only the sample is read here.
 */
export async function documentEntry(
  doc: { filename: string; open: () => Readable; known?: KnownDocument | undefined },
  signal: AbortSignal,
): Promise<{ entry: ZipStreamEntry; sha256: Buffer }> {
  if (doc.known) {
    const { size, crc32, sha256 } = doc.known
    const method = (await compresses(doc.open(), signal)) ? 'deflate' : 'store'
    return { entry: { name: doc.filename, open: doc.open, method, size, crc32 }, sha256 }
  }
  const hash = createHash('sha256')
  let [crc, size] = [0, 0]
  const sample: Buffer[] = []
  let [sampled, sinceTurn] = [0, 0]
  for await (const chunk of addAbortSignal(signal, doc.open()) as AsyncIterable<Buffer>) {
    hash.update(chunk)
    crc = crc32(chunk, crc)
    size += chunk.length
    // a source that never waits (bytes in memory) would otherwise keep timers, I/O and an abort from running
    sinceTurn += chunk.length
    if (sinceTurn >= TURN_BYTES) {
      sinceTurn = 0
      await setImmediate()
    }
    if (sampled < SAMPLE_BYTES) {
      const part = Buffer.from(chunk.subarray(0, SAMPLE_BYTES - sampled))
      sample.push(part)
      sampled += part.length
    }
  }
  const deflate = worthDeflating(Buffer.concat(sample))
  return {
    entry: { name: doc.filename, open: doc.open, method: deflate ? 'deflate' : 'store', size, crc32: crc },
    sha256: hash.digest(),
  }
}

/** The deflate decision of documentEntry from the start of `source` alone; the rest is not read. */
async function compresses(source: Readable, signal: AbortSignal): Promise<boolean> {
  const sample: Buffer[] = []
  let sampled = 0
  try {
    for await (const chunk of addAbortSignal(signal, source) as AsyncIterable<Buffer>) {
      const part = chunk.subarray(0, SAMPLE_BYTES - sampled)
      sample.push(part)
      sampled += part.length
      if (sampled >= SAMPLE_BYTES) break
    }
  } finally {
    source.destroy()
  }
  return worthDeflating(Buffer.concat(sample))
}

/** the decision, from a document's first SAMPLE_BYTES */
function worthDeflating(sample: Buffer): boolean {
  return sample.length > 0 && deflateRawSync(sample, { level: 1 }).length < DEFLATE_BELOW * sample.length
}

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest()
