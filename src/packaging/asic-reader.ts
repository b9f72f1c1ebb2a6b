// ASiC-E reader for untrusted input. yauzl needs random access, so a stream is spooled to a temp file
// first (a file, the zip's bytes in memory, or a StreamedZip whose entries are read in the order of their
// bytes, zip-file.ts, are read as they are). Every entry is checked against the
// limits from the central directory before a byte is inflated, and again while it streams (sizes in the
// central directory can lie); each entry is written to its own temp file under a generated name, so
// entry names never reach the filesystem. When only checking (`discardData`), the documents are hashed
// and written nowhere, and the small entries the checks read are held in memory: nothing reaches the
// disk. The zip level is in asic-entries.ts.

import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AsicError, type ExtractedEntry, extractEntries, isMeta, limit } from './asic-entries.js'
import { type SignatureCheck, verifyDetached } from './asic-signature.js'
import { isStreamedZip, type StreamedZip } from './zip-file.js'
import type { ScannedEntry } from './zip-scan.js'

export { AsicError, type AsicErrorReason, checkName } from './asic-entries.js'

import {
  ASIC_MIMETYPE,
  type EformidlingManifest,
  parseAsicManifest,
  parseEformidlingManifest,
} from './asic-xml.js'

export interface ReadAsicOptions {
  maxEntries: number
  maxEntryBytes: number
  maxTotalBytes: number
  /** uncompressed / compressed, checked for entries above RATIO_FLOOR bytes */
  maxRatio: number
  /** where the spool file and a folder with the extracted entries are made */
  tempDir: string
  /**
   * Only check the container: the documents are hashed and counted as they inflate, never written;
   * the small entries the checks read (mimetype, manifest.xml, META-INF/) are held in memory, each
   * bounded while it streams and all together by MAX_HELD_META_BYTES. `files` then name no paths, and
   * no folder is made unless a stream is spooled (`dir`).
   */
  discardData?: boolean
  /**
   * The entries as one pass over the zip read them (zip-scan.ts), used in place of reading each again:
   * an entry the directory lists that was not read so, or not alike, is `NotInStreamOrder`.
   */
  scanned?: Map<number, ScannedEntry>
}

export interface AsicFile {
  filename: string
  mimeType: string | null
  path: string
  size: number
  sha256: string
}

export interface ReadAsicResult {
  manifest: EformidlingManifest | null
  files: AsicFile[]
  /** the folder holding every extracted file: the caller removes it when done (null: none was made) */
  dir: string | null
  signatureValid: boolean
  signatureError: string | null
  signerCertPem: string | null
}

/** the entries read into memory (manifests, signature) */
export const MAX_META_BYTES = 1024 * 1024
/**
 * What those entries may hold in memory together, when only checking: a real container's are a few
 * kilobytes (mimetype, two manifests, a signature); more is refused rather than held or spooled.
 */
export const MAX_HELD_META_BYTES = 8 * MAX_META_BYTES

type Extracted = ExtractedEntry

/**
 * `source`: a stream (spooled to a temp file), a file, the zip's bytes, or a StreamedZip (zip-file.ts:
 * its `NotInStreamOrder` and `StreamedZipSourceError` pass as they are).
 */
export async function readAsic(
  source: Readable | string | Buffer | StreamedZip,
  opts: ReadAsicOptions,
): Promise<ReadAsicResult> {
  const spooled = typeof source !== 'string' && !Buffer.isBuffer(source) && !isStreamedZip(source)
  const dir = spooled || !opts.discardData ? await mkdtemp(join(opts.tempDir, 'asic-')) : null
  try {
    let zip = source as string | Buffer | StreamedZip
    if (spooled && dir) {
      zip = join(dir, '.spool.zip')
      await pipeline(
        source,
        limit(opts.maxTotalBytes + MAX_META_BYTES, 'the container'),
        createWriteStream(zip),
      )
    }
    const extracted = await extract(zip, dir, opts)
    if (spooled) await rm(zip as string, { force: true })
    return await verify(extracted, dir)
  } catch (e) {
    if (dir) await rm(dir, { recursive: true, force: true })
    throw e
  }
}

async function extract(
  zip: string | Buffer | StreamedZip,
  dir: string | null,
  opts: ReadAsicOptions,
): Promise<Map<string, Extracted>> {
  let held = 0
  return extractEntries(zip, {
    ...opts,
    // checking only: the documents are hashed, never written; the entries the checks read are held,
    // small, and held to that as they inflate (no more than each declares)
    pathFor: (name, order, entry) => {
      if (!opts.discardData) return join(dir as string, String(order))
      if (!isMeta(name)) return null
      held += Math.min(entry.uncompressedSize, MAX_META_BYTES)
      if (held > MAX_HELD_META_BYTES)
        throw new AsicError(
          'limit',
          `the container's metadata entries hold more than ${MAX_HELD_META_BYTES} bytes together`,
        )
      return 'memory'
    },
    maxFor: (name) => (opts.discardData && isMeta(name) ? MAX_META_BYTES : opts.maxEntryBytes),
  })
}

async function small(found: Map<string, Extracted>, name: string): Promise<Buffer | null> {
  const e = found.get(name)
  if (!e) return null
  if (e.size > MAX_META_BYTES) throw new AsicError('limit', `${name} is larger than ${MAX_META_BYTES} bytes`)
  return e.data ?? readFile(e.path)
}

async function verify(found: Map<string, Extracted>, dir: string | null): Promise<ReadAsicResult> {
  const mimetype = await small(found, 'mimetype')
  if (mimetype?.toString('utf8').trim() !== ASIC_MIMETYPE) {
    throw new AsicError('malformed', `not an ASiC-E container: no mimetype entry with ${ASIC_MIMETYPE}`)
  }
  // older efm-asic writers name it asicmanifest.xml
  const manifestName = [...found.keys()].find((n) => n.toLowerCase() === 'meta-inf/asicmanifest.xml')
  const asicXml = manifestName ? await small(found, manifestName) : null
  if (!asicXml) throw new AsicError('malformed', 'the container has no META-INF/ASiCManifest.xml')
  let parsed: ReturnType<typeof parseAsicManifest>
  try {
    parsed = parseAsicManifest(asicXml)
  } catch (cause) {
    throw new AsicError('malformed', (cause as Error).message, { cause })
  }
  const mimeTypes = checkDigests(found, parsed.objects)
  const sig = await checkSignature(found, parsed.signatureUri, asicXml)
  const eformXml = await small(found, 'manifest.xml')
  let manifest: EformidlingManifest | null = null
  try {
    manifest = eformXml ? parseEformidlingManifest(eformXml) : null
  } catch (cause) {
    throw new AsicError('malformed', (cause as Error).message, { cause })
  }
  const files = [...found.values()]
    .filter((e) => mimeTypes.has(e.name))
    .sort((a, b) => a.order - b.order)
    .map((e) => ({
      filename: e.name,
      mimeType: mimeTypes.get(e.name) ?? null,
      path: e.path,
      size: e.size,
      sha256: e.sha256.toString('hex'),
    }))
  return {
    manifest,
    files,
    dir,
    signatureValid: sig.valid,
    signatureError: sig.reason,
    signerCertPem: sig.signerCertPem,
  }
}

/** Every data file is listed with its digest, and every listed file is there and matches. */
function checkDigests(
  found: Map<string, Extracted>,
  objects: ReturnType<typeof parseAsicManifest>['objects'],
): Map<string, string | null> {
  const listed = new Map<string, string | null>()
  for (const o of objects) {
    const e = found.get(o.uri)
    if (!e) throw new AsicError('digest', `ASiCManifest lists ${o.uri}, which is not in the container`)
    if (!e.sha256.equals(o.sha256))
      throw new AsicError('digest', `the SHA-256 of ${o.uri} does not match ASiCManifest`)
    listed.set(o.uri, o.mimeType)
  }
  for (const name of found.keys()) {
    if (name !== 'mimetype' && !name.startsWith('META-INF/') && !listed.has(name)) {
      throw new AsicError('digest', `${name} is not covered by ASiCManifest`)
    }
  }
  return listed
}

async function checkSignature(
  found: Map<string, Extracted>,
  uri: string | null,
  data: Buffer,
): Promise<SignatureCheck> {
  const name = uri ?? 'META-INF/signature.p7s'
  const p7s = await small(found, name)
  if (!p7s) return { valid: false, signerCertPem: null, reason: `the signature ${name} is missing` }
  return verifyDetached(p7s, data)
}
