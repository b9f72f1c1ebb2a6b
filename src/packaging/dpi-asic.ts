// The ASiC-E of a DPI document package, streamed in constant memory: documents are read twice, one at
// a time, to hash them and then into the zip (stored when they do not compress, as asic.ts documentEntry
// decides), and META-INF/signatures.xml (which needs every
// digest) is added once the last one has passed. The layout follows the reference (felleslosninger/efm-asic
// XadesAsicWriter, efm-common CreateAsice) except where noted.

import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { AsicWriteError, documentEntry, orderDocuments } from './asic.js'
import { ASIC_MIMETYPE } from './asic-xml.js'
import { documentNamesProblem } from './document-names.js'
import { type SdpDocument, type SdpManifest, sdpManifestXml } from './sdp-manifest.js'
import { type SignedObject, type XadesSigner, xadesSignaturesXml } from './xades.js'
import { type ZipEntry, zipStream } from './zip-writer.js'

export interface DpiAsicDocument extends SdpDocument {
  /** opened when the document's turn comes, twice (to hash it, then to write it), giving the same bytes */
  open: () => Readable
}

export interface DpiMetadataFile {
  filename: string
  mimeType: string
  open: () => Readable
}

export interface WriteDpiAsicOptions {
  manifest: SdpManifest
  documents: readonly DpiAsicDocument[]
  /** the contents of the metadata files the documents name (`SdpDocument.metadata`) */
  metadataFiles?: readonly DpiMetadataFile[]
  signer: XadesSigner
  now: () => Date
}

interface Entry {
  filename: string
  mimeType: string
  open: () => Readable
}

/** Throws AsicWriteError (synchronously) when the package cannot be written however often it is tried. */
export function writeDpiAsic(o: WriteDpiAsicOptions): Readable {
  if (o.documents.length === 0) throw new AsicWriteError('a DPI package needs at least one document')
  const docs = orderDocuments([...o.documents])
  // checks the XSD's limits, among them href 4..100 characters
  const manifest = sdpManifestXml(o.manifest, docs)
  const entries: Entry[] = [...docs, ...metadataEntries(docs, o.metadataFiles ?? [])]
  const refused = documentNamesProblem(entries.map((e) => e.filename))
  if (refused) throw new AsicWriteError(refused)

  const mtime = o.now()
  return zipStream((signal) => dpiEntries(o, manifest, entries, signal), {
    mtime,
    comment: `mimetype=${ASIC_MIMETYPE}`,
  })
}

async function* dpiEntries(
  o: WriteDpiAsicOptions,
  manifest: Buffer,
  entries: Entry[],
  signal: AbortSignal,
): AsyncGenerator<ZipEntry> {
  // as the reference: stored, first, entry and zip comment naming the type, no extra field
  yield {
    name: 'mimetype',
    data: Buffer.from(ASIC_MIMETYPE),
    method: 'store',
    comment: `mimetype=${ASIC_MIMETYPE}`,
  }
  yield { name: 'manifest.xml', data: manifest, method: 'deflate' }
  const objects: SignedObject[] = [
    { uri: 'manifest.xml', mimeType: 'application/xml', sha256: sha256(manifest) },
  ]
  for (const e of entries) {
    const { entry, sha256 } = await documentEntry(e, signal)
    objects.push({ uri: e.filename, mimeType: e.mimeType, sha256 })
    yield entry
  }
  // signed when the last byte has passed: the profile wants SigningTime within seconds of the signing
  const signatures = xadesSignaturesXml(objects, o.signer, o.now())
  yield { name: 'META-INF/signatures.xml', data: signatures, method: 'deflate' }
  // no META-INF/manifest.xml: the DPI ASiC profile says it shall not be present (the reference writes one)
}

/**
 * The metadata files after the documents, in the documents' order: every one the manifest names (the
 * reference packs only the main document's, though the manifest names the attachments' too).
 */
function metadataEntries(docs: readonly DpiAsicDocument[], files: readonly DpiMetadataFile[]): Entry[] {
  const byName = new Map(files.map((f) => [f.filename, f]))
  const named = new Map<string, Entry>()
  for (const d of docs) {
    if (!d.metadata) continue
    const file = byName.get(d.metadata.filename)
    if (!file)
      throw new AsicWriteError(
        `the metadata file ${JSON.stringify(d.metadata.filename)} of ${d.filename} is missing`,
      )
    if (file.mimeType !== d.metadata.mimeType)
      throw new AsicWriteError(
        `the metadata file ${JSON.stringify(file.filename)} is ${file.mimeType}, but ${d.filename} names it ${d.metadata.mimeType}`,
      )
    named.set(file.filename, file)
  }
  const unnamed = files.find((f) => !named.has(f.filename))
  if (unnamed)
    throw new AsicWriteError(`no document names the metadata file ${JSON.stringify(unnamed.filename)}`)
  return [...named.values()]
}

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest()
