// What a mailbox provider (or the printer) does with a DPI package before it accepts the letter: open
// the CMS with its own key, read the ASiC-E, check the XAdES signature and that it covers every file,
// and hold the SDP manifest against the business message. It checks what `xmlsec1 --verify` checks
// and what xmlsec1 leaves to the receiver (every file signed exactly once, the CertDigest, the mime
// types against the manifest, the sender and the mailbox address). Each refusal is one sentence for
// the sandbox user; the chain sends it back in a `feil` receipt.
//
// Constant memory: the CMS is decrypted as a stream into a temp file, entries inflate one at a time
// into files, bounded as they stream (asic-entries.ts); only manifest.xml and META-INF/ are read.

import { X509Certificate } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import {
  AsicError,
  type ExtractedEntry,
  extractEntries,
  isMeta,
  limit,
} from '../../packaging/asic-entries.js'
import { ASIC_MIMETYPE } from '../../packaging/asic-xml.js'
import { CmsError, decryptStream } from '../../packaging/cms.js'
import {
  type ParsedSdpDoc,
  type ParsedSdpManifest,
  parseSdpManifest,
  SdpManifestError,
} from '../../packaging/sdp-manifest-read.js'
import { verifyXadesSignatures } from '../../packaging/xades-verify.js'

/** DPI packages are at most 50 MB (the DPI documentation); room above that for the container */
const DEFAULT_MAX_BYTES = 100 * 1024 * 1024
/** 200 attachments, each with a metadata file, the main document and its own, and the container's */
const MAX_ENTRIES = 512
const MAX_RATIO = 100
const MAX_META_BYTES = 1024 * 1024

export interface OpenedDocument {
  href: string
  mime: string
  title: string | null
  path: string
  size: number
}

export type OpenPackageResult =
  | { ok: true; manifest: ParsedSdpManifest; documents: OpenedDocument[] }
  | { ok: false; reason: string }

export interface OpenPackageInput {
  cmsPath: string
  providerKeyPem: string
  providerCertPem: string
  businessMessage: { type: 'digital' | 'utskrift'; avsender: string; postkasseadresse: string | null }
  senderCertPem: string
  /** the letter's own folder: the documents are written here, under names made safe */
  workDir: string
  /** the most the decrypted container, and its entries inflated together, may be */
  maxBytes?: number
}

class Refusal extends Error {}

type Entry = ExtractedEntry

export async function openPackage(o: OpenPackageInput): Promise<OpenPackageResult> {
  await mkdir(o.workDir, { recursive: true })
  const tmp = await mkdtemp(join(o.workDir, '.open-'))
  try {
    const zipPath = join(tmp, 'container.zip')
    await decrypt(o, zipPath)
    const found = await extract(zipPath, tmp, o.maxBytes ?? DEFAULT_MAX_BYTES)
    const manifest = await readManifest(found)
    await checkSignature(found, o.senderCertPem, manifest)
    checkAddressing(manifest, o.businessMessage)
    return { ok: true, manifest, documents: await place(found, manifest, o.workDir) }
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, reason: e.message }
    if (e instanceof AsicError)
      return { ok: false, reason: `The package's ASiC-E container is refused: ${e.message}.` }
    throw e
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

async function decrypt(o: OpenPackageInput, zipPath: string): Promise<void> {
  const max = o.maxBytes ?? DEFAULT_MAX_BYTES
  try {
    await pipeline(
      createReadStream(o.cmsPath),
      decryptStream(o.providerKeyPem, o.providerCertPem),
      limit(max, 'the decrypted package'),
      createWriteStream(zipPath),
    )
  } catch (e) {
    if (e instanceof CmsError)
      throw new Refusal(
        `The package cannot be decrypted with the provider's key (${e.message}); was it encrypted to another certificate?`,
      )
    if (e instanceof AsicError) throw new Refusal(`The package is larger than ${max} bytes once decrypted.`)
    throw e
  }
}

/** Every entry into its own file; the first must be the ASiC-E mimetype, STORED, as ETSI's ASiC asks. */
async function extract(zipPath: string, dir: string, max: number): Promise<Map<string, Entry>> {
  const found = await extractEntries(zipPath, {
    maxEntries: MAX_ENTRIES,
    maxEntryBytes: max,
    maxTotalBytes: max,
    maxRatio: MAX_RATIO,
    pathFor: (_name, order) => join(dir, `entry-${order}`),
    maxFor: (name) => (isMeta(name) ? MAX_META_BYTES : max),
    inspect(name, entry, order) {
      if (
        order === 0 &&
        (name !== 'mimetype' || entry.compressionMethod !== 0 || entry.relativeOffsetOfLocalHeader !== 0)
      )
        throw new Refusal(
          `The package's container does not start with the mimetype entry, stored uncompressed, as ASiC-E requires.`,
        )
    },
  })
  const mimetype = found.get('mimetype')
  if (!mimetype || (await readFile(mimetype.path, 'utf8')) !== ASIC_MIMETYPE)
    throw new Refusal(`The package's mimetype entry does not say ${ASIC_MIMETYPE}.`)
  return found
}

async function readManifest(found: Map<string, Entry>): Promise<ParsedSdpManifest> {
  const entry = found.get('manifest.xml')
  if (!entry) throw new Refusal('The package has no manifest.xml.')
  try {
    return parseSdpManifest(await readFile(entry.path))
  } catch (e) {
    if (e instanceof SdpManifestError)
      throw new Refusal(`The package's manifest.xml is refused: ${e.message}.`)
    throw e
  }
}

/** The signature's references against the files: each file signed once, unchanged, as the manifest types it. */
async function checkSignature(
  found: Map<string, Entry>,
  senderCertPem: string,
  manifest: ParsedSdpManifest,
): Promise<void> {
  const entry = found.get('META-INF/signatures.xml')
  if (!entry) throw new Refusal('The package has no META-INF/signatures.xml.')
  const check = verifyXadesSignatures(await readFile(entry.path))
  if (!check.ok) throw new Refusal(`The package's signature is refused: ${check.reason}.`)
  const signer = new X509Certificate(check.signerCertPem)
  if (!signer.raw.equals(new X509Certificate(senderCertPem).raw))
    throw new Refusal(
      `The package is signed by "${signer.subject.replace(/\n/g, ', ')}", not with the certificate that signed the business message.`,
    )
  const signedMime = new Map<string, string | null>()
  for (const ref of check.references) {
    const file = found.get(ref.uri)
    if (!file) throw new Refusal(`The signature covers ${ref.uri}, which is not in the package.`)
    if (signedMime.has(ref.uri)) throw new Refusal(`The signature covers ${ref.uri} twice.`)
    if (!file.sha256.equals(ref.sha256))
      throw new Refusal(`The document ${ref.uri} does not match its signed digest.`)
    signedMime.set(ref.uri, ref.mimeType)
  }
  for (const name of found.keys())
    if (name !== 'mimetype' && !name.startsWith('META-INF/') && !signedMime.has(name))
      throw new Refusal(`The package holds ${name}, which the signature does not cover.`)
  for (const doc of manifestFiles(manifest, found)) {
    const signed = signedMime.get(doc.href)
    if (signed !== doc.mime)
      throw new Refusal(
        `The signature types ${doc.href} as ${signed ?? 'nothing'}, but manifest.xml as ${doc.mime}.`,
      )
  }
}

/**
 * The files manifest.xml names, each of which must be in the package, and nothing else may be. An
 * attachment's metadata file (`vedlegg/data`) may be missing: the reference names it in the manifest
 * but never puts it in the container (efm-common Parcel), and mailboxes take its packages.
 */
function manifestFiles(
  manifest: ParsedSdpManifest,
  found: Map<string, Entry>,
): { href: string; mime: string; title: string | null }[] {
  const files: { href: string; mime: string; title: string | null }[] = []
  const add = (doc: ParsedSdpDoc, main: boolean): void => {
    files.push({ href: doc.href, mime: doc.mime, title: doc.title })
    if (doc.data && (main || found.has(doc.data.href))) files.push({ ...doc.data, title: null })
  }
  add(manifest.hoveddokument, true)
  for (const v of manifest.vedlegg) add(v, false)
  const named = new Set<string>()
  for (const f of files) {
    if (!found.has(f.href)) throw new Refusal(`manifest.xml names ${f.href}, which is not in the package.`)
    if (named.has(f.href)) throw new Refusal(`manifest.xml names ${f.href} twice.`)
    named.add(f.href)
  }
  for (const name of found.keys())
    if (!isMeta(name) && !named.has(name))
      throw new Refusal(`The package holds ${name}, which manifest.xml does not name.`)
  return files
}

function checkAddressing(manifest: ParsedSdpManifest, bm: OpenPackageInput['businessMessage']): void {
  if (manifest.avsender !== bm.avsender)
    throw new Refusal(
      `manifest.xml names the sender ${manifest.avsender}, but the business message ${bm.avsender}.`,
    )
  if (bm.type === 'digital' && manifest.postkasseadresse !== bm.postkasseadresse)
    throw new Refusal(
      `manifest.xml addresses the mailbox ${manifest.postkasseadresse ?? '(none)'}, but the business message ${bm.postkasseadresse ?? '(none)'}.`,
    )
}

/** The documents, in manifest order, moved into the letter's folder under names that are safe there. */
async function place(
  found: Map<string, Entry>,
  manifest: ParsedSdpManifest,
  workDir: string,
): Promise<OpenedDocument[]> {
  const docs = manifestFiles(manifest, found)
  const out: OpenedDocument[] = []
  for (const [i, doc] of docs.entries()) {
    const entry = found.get(doc.href)!
    const path = join(workDir, `${i}-${safeName(doc.href)}`)
    await rename(entry.path, path)
    out.push({ href: doc.href, mime: doc.mime, title: doc.title, path, size: entry.size })
  }
  return out
}

/** letters, digits, `.`, `-` and `_` kept; anything else (separators, controls, spaces) becomes `_` */
const safeName = (href: string): string =>
  href
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._-]+/gu, '_')
    .slice(0, 100)
