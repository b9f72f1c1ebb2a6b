// ASiC-E writer, streaming in constant memory: documents flow from their sources through a SHA-256
// into yazl and out, one at a time. The layout is the reference's (felleslosninger/efm-asic
// AbstractAsicWriter / CadesAsicWriter): stored `mimetype` first, eFormidling `manifest.xml`, the
// documents with the primary first, then META-INF/ASiCManifest.xml, the CAdES signature over it and
// the OASIS META-INF/manifest.xml. The ASiCManifest needs every digest, so it is added to the zip only
// once the last document has streamed through.

import { createHash, randomUUID } from 'node:crypto'
import { type PassThrough, pipeline, type Readable, Transform } from 'node:stream'
import yazl from 'yazl'
import { signDetached } from './asic-signature.js'
import {
  ASIC_MIMETYPE,
  asicManifestXml,
  type DataObject,
  eformidlingManifestXml,
  oasisManifestXml,
} from './asic-xml.js'
import { documentNamesProblem } from './document-names.js'

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
  /** opened only when the document's turn comes, so at most one source is open at a time */
  open: () => Readable
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
  const now = opts.now ?? (() => new Date())
  const docs = orderDocuments(opts.documents)
  const zip = new yazl.ZipFile()
  const out = zip.outputStream as PassThrough
  const fail = (err: unknown): void => {
    out.destroy(err instanceof Error ? err : new Error(String(err)))
  }
  zip.on('error', fail)
  const mtime = now()
  // as the reference: stored, first, no extra field, so `mimetype` can be read at a fixed offset
  zip.addBuffer(Buffer.from(ASIC_MIMETYPE), 'mimetype', { compress: false, mtime, forceDosTimestamp: true })
  const first = docs[0]!
  const manifest = eformidlingManifestXml(opts.receiver, opts.sender, {
    filename: first.filename,
    mimeType: first.mimeType,
    title: first.title ?? DEFAULT_TITLE,
  })
  zip.addBuffer(manifest, 'manifest.xml', { mtime })
  const objects: DataObject[] = [
    { uri: 'manifest.xml', mimeType: 'application/xml', sha256: sha256(manifest) },
  ]
  const digests = docs.map((doc) => addHashedEntry(zip, doc, mtime, fail))
  Promise.all(digests)
    .then(async (sums) => {
      for (const [i, d] of docs.entries())
        objects.push({ uri: d.filename, mimeType: d.mimeType, sha256: sums[i]! })
      const sigUri = `META-INF/signature-${randomUUID()}.p7s`
      const asicManifest = asicManifestXml(objects, sigUri)
      const signature = await signDetached(asicManifest, opts.signer, mtime)
      zip.addBuffer(asicManifest, 'META-INF/ASiCManifest.xml', { mtime })
      zip.addBuffer(signature, sigUri, { mtime })
      zip.addBuffer(oasisManifestXml(objects), 'META-INF/manifest.xml', { mtime })
      zip.end({ comment: `mimetype=${ASIC_MIMETYPE}`, forceZip64Format: false })
    })
    .catch(fail)
  return out
}

/**
 * Streams one entry into the zip through a SHA-256; resolves with the digest when it has passed. The
 * source is opened only when yazl reaches the entry; while it streams it is in `open` (when given), so a
 * writer that is abandoned can close it.
 */
export function addHashedEntry(
  zip: yazl.ZipFile,
  entry: { filename: string; open: () => Readable },
  mtime: Date,
  fail: (e: unknown) => void,
  open?: Set<Readable>,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.addReadStreamLazy(entry.filename, { mtime }, (cb) => {
      const hash = createHash('sha256')
      const tap = new Transform({
        transform(chunk: Buffer, _e, done) {
          hash.update(chunk)
          done(null, chunk)
        },
        flush(done) {
          resolve(hash.digest())
          done()
        },
      })
      let source: Readable
      try {
        source = entry.open()
      } catch (e) {
        reject(e)
        return
      }
      open?.add(source)
      // yazl pipes without watching the source for errors; pipeline does, and fails the whole zip
      pipeline(source, tap, (err) => {
        open?.delete(source)
        if (err) {
          reject(err)
          fail(err)
        }
      })
      cb(null, tap)
    })
  })
}

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest()
