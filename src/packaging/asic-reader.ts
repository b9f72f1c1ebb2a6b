// ASiC-E reader for untrusted input. yauzl needs random access, so a stream is spooled to a temp file
// first. Every entry is checked against the limits from the central directory before a byte is
// inflated, and again while it streams (sizes in the central directory can lie); each entry is
// written to its own temp file under a generated name, so entry names never reach the filesystem
// (when only checking, `discardData`, the documents are hashed and written nowhere). The zip level is
// in asic-entries.ts.

import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { AsicError, type ExtractedEntry, extractEntries, isMeta, limit } from './asic-entries.js'
import { type SignatureCheck, verifyDetached } from './asic-signature.js'

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
   * only the small entries the checks read (mimetype, manifest.xml, META-INF/) reach the disk, each
   * bounded while it streams. `files` then name no paths.
   */
  discardData?: boolean
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
  /** the folder holding every extracted file: the caller removes it when done */
  dir: string
  signatureValid: boolean
  signatureError: string | null
  signerCertPem: string | null
}

/** the entries read into memory (manifests, signature) */
const MAX_META_BYTES = 1024 * 1024

type Extracted = ExtractedEntry

export async function readAsic(source: Readable | string, opts: ReadAsicOptions): Promise<ReadAsicResult> {
  const dir = await mkdtemp(join(opts.tempDir, 'asic-'))
  try {
    let zipPath = source as string
    if (typeof source !== 'string') {
      zipPath = join(dir, '.spool.zip')
      await pipeline(
        source,
        limit(opts.maxTotalBytes + MAX_META_BYTES, 'the container'),
        createWriteStream(zipPath),
      )
    }
    const extracted = await extract(zipPath, dir, opts)
    if (zipPath !== source) await rm(zipPath, { force: true })
    return await verify(extracted, dir)
  } catch (e) {
    await rm(dir, { recursive: true, force: true })
    throw e
  }
}

async function extract(zipPath: string, dir: string, opts: ReadAsicOptions): Promise<Map<string, Extracted>> {
  return extractEntries(zipPath, {
    ...opts,
    // checking only: the documents are hashed, never written; the entries read into memory are small,
    // and held to that as they inflate
    pathFor: (name, order) => (!opts.discardData || isMeta(name) ? join(dir, String(order)) : null),
    maxFor: (name) => (opts.discardData && isMeta(name) ? MAX_META_BYTES : opts.maxEntryBytes),
  })
}

async function small(found: Map<string, Extracted>, name: string): Promise<Buffer | null> {
  const e = found.get(name)
  if (!e) return null
  if (e.size > MAX_META_BYTES) throw new AsicError('limit', `${name} is larger than ${MAX_META_BYTES} bytes`)
  return readFile(e.path)
}

async function verify(found: Map<string, Extracted>, dir: string): Promise<ReadAsicResult> {
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
