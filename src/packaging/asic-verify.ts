// Checking a received ASiC-E before it is queued (issue 13): the CMS the sender encrypted to us is
// decrypted into memory when it is small (most messages), else read as it decrypts, once: each entry
// is read where its local header puts it, and its directory, at the end, must confirm every one
// (zip-scan.ts). Only an acceptance is taken from that pass; a container it cannot accept is read
// again by yauzl alone as it decrypts a second time, front to back, its directory from the tail the
// first pass kept (zip-file.ts `StreamedZip`). A container whose entries do not lie in the order its
// directory lists them is then decrypted to a temp file and read from there. The container is
// read without keeping its documents: each is hashed and counted as it inflates, bounded in size and
// ratio, and thrown away. What is checked: the CAdES signature over ASiCManifest.xml, every digest it
// lists, that every document is listed, and that the signing certificate is the one the
// ServiceRegistry holds for the sender. Nothing of it is kept.

import type { X509Certificate } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline as pipelineCallback, type Readable, Transform } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { pipeline } from 'node:stream/promises'
import { READ_PIECE_BYTES } from '../files/payload-store.js'
import { drained } from '../util/async.js'
import { isMeta, RATIO_FLOOR } from './asic-entries.js'
import { AsicError, MAX_HELD_META_BYTES, MAX_META_BYTES, readAsic } from './asic-reader.js'
import { CmsError, type DecryptTransform, decryptStream, decryptStreamWithin } from './cms.js'
import { certificateOf } from './parsed-keys.js'
import { NotInStreamOrder, type StreamedZip } from './zip-file.js'
import { type ScannedEntry, scannedZip, type ZipScan, type ZipScanLimits, ZipScanner } from './zip-scan.js'

/**
 * `signature`: the signature, a digest, an unlisted document or the signer does not hold (someone
 * changed or forged it); `container`: it cannot be read or is refused for its size (broken, a zip bomb).
 */
export type AsicRefusal = 'signature' | 'container'

export type AsicVerdict = { ok: true } | { ok: false; kind: AsicRefusal; reason: string }

export interface VerifyAsicOptions {
  /** the CMS EnvelopedData as received */
  cmsPath: string
  /** its size, when known: a CMS of at most SMALL_CMS_BYTES is decrypted in memory */
  cmsSize?: number
  /** our business key and certificate: the CMS is encrypted to them */
  keys: { keyPem: string; certPem: string }
  /** where the decrypted container is spooled (and removed) */
  tempDir: string
  /** the most the documents may inflate to, together */
  maxBytes: number
  /** the most a document (over 1 MiB) or the whole container may inflate per compressed byte */
  maxRatio: number
  maxEntries: number
  /**
   * The certificate the signature must be made with (PEM), asked only once the container is known to
   * be well formed; null when the sender has none. Throw for "ask again later": the check then throws.
   */
  expectedSigner: () => Promise<string | null>
  /** who that certificate belongs to, for the reason text */
  signerName: string
  /**
   * What a decryption of this very CMS read as it arrived (ArrivalScan): used in place of a pass of
   * its own when it read `cmsSize` bytes of message
   */
  scanned?: ScannedCms | null
}

const refuse = (reason: string, kind: AsicRefusal = 'signature'): AsicVerdict => ({ ok: false, kind, reason })

/** a CMS this small, or smaller, is decrypted in memory (with its container, twice this at most) */
export const SMALL_CMS_BYTES = 1024 * 1024

/** Refusals are a verdict; a failure that may pass (a disk fault, the ServiceRegistry) throws. */
export async function verifyEncryptedAsic(o: VerifyAsicOptions): Promise<AsicVerdict> {
  if (o.cmsSize !== undefined && o.cmsSize <= SMALL_CMS_BYTES) return check(o, () => decryptInMemory(o))
  let scan: ZipScan
  try {
    scan = o.scanned && o.scanned.cmsBytes === o.cmsSize ? o.scanned : await scanDecrypted(o)
  } catch (error) {
    if (error instanceof CmsError)
      return refuse(`the ASiC-E cannot be decrypted: ${error.message}`, 'container')
    throw error
  }
  const accepted = await checkScanned(o, scan)
  if (accepted) return accepted
  try {
    // read again by yauzl alone, as it decrypts: the pass gave the container's size and tail
    return await check(o, async () => ({ size: scan.size, tail: scan.tail, open: () => decrypted(o) }))
  } catch (error) {
    // its entries do not lie in the order of their bytes: read it from a file
    if (!(error instanceof NotInStreamOrder)) throw error
  }
  const dir = await mkdtemp(join(o.tempDir, 'verify-'))
  try {
    return await check(o, () => decryptToFile(o, join(dir, 'asic.zip')), dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** A streamed container's `NotInStreamOrder` (zip-file.ts) passes, as does any fault that may pass. */
async function check(
  o: VerifyAsicOptions,
  decrypt: () => Promise<string | Buffer | StreamedZip>,
  dir: string | null = null,
  scanned?: Map<number, ScannedEntry>,
): Promise<AsicVerdict> {
  let plain: string | Buffer | StreamedZip
  try {
    plain = await decrypt()
  } catch (error) {
    if (error instanceof CmsError)
      return refuse(`the ASiC-E cannot be decrypted: ${error.message}`, 'container')
    throw error
  }
  let read: Awaited<ReturnType<typeof readAsic>>
  try {
    read = await readAsic(plain, {
      maxEntries: o.maxEntries,
      maxEntryBytes: o.maxBytes,
      maxTotalBytes: o.maxBytes,
      maxRatio: o.maxRatio,
      tempDir: dir ?? o.tempDir,
      discardData: true,
      scanned,
    })
  } catch (error) {
    if (error instanceof AsicError)
      return refuse(
        `the ASiC-E is refused: ${error.message}`,
        error.reason === 'digest' ? 'signature' : 'container',
      )
    throw error
  }
  if (!read.signatureValid) return refuse(`the ASiC-E signature does not verify: ${read.signatureError}`)
  return checkSigner(read.signerCertPem, await o.expectedSigner(), o.signerName)
}

/**
 * how much of the container's end the pass keeps: its end of central directory (at most 64 KiB of
 * comment) and its central directory, a few kilobytes for any real ASiC-E
 */
const TAIL_BYTES = 2 * 1024 * 1024

/**
 * One decryption, never written out: the container's size and last bytes, where its directory is, and
 * its entries read where their local headers put them (zip-scan.ts). Two decryptions of a large
 * message, should the second be needed, cost less than writing it to a file and reading it back.
 */
async function scanDecrypted(o: VerifyAsicOptions): Promise<ZipScan> {
  const scanner = new ZipScanner(scanLimits(o))
  await pipeline(decrypted(o), scanner)
  return scanner.result()
}

export type ScanOptions = Pick<VerifyAsicOptions, 'keys' | 'maxBytes' | 'maxRatio' | 'maxEntries'>

function scanLimits(o: ScanOptions): ZipScanLimits {
  return {
    maxEntries: o.maxEntries,
    maxEntryBytes: o.maxBytes,
    maxTotalBytes: o.maxBytes,
    maxRatio: o.maxRatio,
    ratioFloor: RATIO_FLOOR,
    hold: (name) => (isMeta(name) ? MAX_META_BYTES : 0),
    maxHeldBytes: MAX_HELD_META_BYTES,
    tailBytes: TAIL_BYTES,
  }
}

/** what a decryption read of a CMS as it arrived: its container's scan, and the message's length */
export interface ScannedCms extends ZipScan {
  cmsBytes: number
}

/**
 * Decrypts and scans a CMS as it arrives (a download, beside its writing to a file), so that its
 * check needs no pass of its own (`VerifyAsicOptions.scanned`). `tap` passes every byte on as it came;
 * when `feeds()`, asked at its first chunk, says the stream is the CMS from its first byte, it feeds
 * the decryption too, which reads the message and not what follows it. Only ever a shortcut: a stream
 * that does not decrypt leaves no scan (null), and the check makes its own pass.
 */
export class ArrivalScan {
  #decrypt: DecryptTransform | null = null
  #scanner: ZipScanner | null = null
  #done: Promise<boolean> = Promise.resolve(false)

  constructor(private readonly o: ScanOptions) {}

  tap(feeds: () => boolean): Transform {
    let [asked, flushed] = [false, false]
    const start = (): void => this.#start()
    const decrypt = (): DecryptTransform | null => this.#decrypt
    return new Transform({
      transform(chunk: Buffer, _e, done) {
        if (!asked) {
          asked = true
          if (feeds()) start()
        }
        const d = decrypt()
        if (!d || d.destroyed || d.writableEnded || d.write(chunk)) done(null, chunk)
        // the download waits for the decryption, as it waits for the disk
        else drained(d).then(() => done(null, chunk))
      },
      flush(done) {
        flushed = true
        decrypt()?.end()
        done()
      },
      // once flushed, the decryption finishes what it was given: the tap is destroyed as it ends
      destroy(error, done) {
        if (!flushed) decrypt()?.destroy()
        done(error)
      },
    })
  }

  #start(): void {
    try {
      this.#decrypt = decryptStreamWithin(this.o.keys.keyPem, this.o.keys.certPem)
    } catch {
      return
    }
    this.#scanner = new ZipScanner(scanLimits(this.o))
    this.#done = pipeline(this.#decrypt, this.#scanner).then(
      () => true,
      () => false,
    )
  }

  /** once the tap has ended: what was read, or null */
  async result(): Promise<ScannedCms | null> {
    const cmsBytes = (await this.#done) ? this.#decrypt!.cmsBytes : null
    return cmsBytes === null ? null : { ...this.#scanner!.result(), cmsBytes }
  }
}

/**
 * The container's directory read from the pass's tail and matched with the entries it read. Only an
 * acceptance is taken from it; anything else (a refusal, an entry the pass could not read or that the
 * directory does not match) is null, and the container is read again by yauzl alone, which gives the
 * verdict and its reason.
 */
async function checkScanned(o: VerifyAsicOptions, scan: ZipScan): Promise<AsicVerdict | null> {
  try {
    const verdict = await check(o, async () => scannedZip(scan), null, scan.entries)
    return verdict.ok ? verdict : null
  } catch (error) {
    if (error instanceof NotInStreamOrder) return null
    throw error
  }
}

/** the CMS at `cmsPath` as it decrypts */
function decrypted(o: VerifyAsicOptions): Readable {
  const decrypt = decryptStream(o.keys.keyPem, o.keys.certPem)
  // larger reads than the default 64 KiB: fewer buffers to collect for a large message
  pipelineCallback(createReadStream(o.cmsPath, { highWaterMark: READ_PIECE_BYTES }), decrypt, () => {})
  return decrypt
}

async function decryptToFile(o: VerifyAsicOptions, plain: string): Promise<string> {
  await pipeline(decrypted(o), createWriteStream(plain))
  return plain
}

/** a CMS no larger than SMALL_CMS_BYTES (its content is no larger than it) */
async function decryptInMemory(o: VerifyAsicOptions): Promise<Buffer> {
  const decrypt = decryptStream(o.keys.keyPem, o.keys.certPem)
  decrypt.end(await readFile(o.cmsPath))
  return buffer(decrypt)
}

/** The very certificate, not only the same name: anyone can make a certificate with any name. */
function checkSigner(signerPem: string | null, expectedPem: string | null, who: string): AsicVerdict {
  if (!expectedPem) return refuse(`the ServiceRegistry has no certificate for ${who}`)
  if (!signerPem) return refuse('the ASiC-E signature carries no signing certificate')
  let signer: X509Certificate
  try {
    // pkijs reads more than OpenSSL accepts (a name that is not UTF-8, say)
    signer = certificateOf(signerPem)
  } catch {
    return refuse('the ASiC-E signature carries a signing certificate that cannot be read')
  }
  let expected: X509Certificate
  try {
    expected = certificateOf(expectedPem)
  } catch {
    return refuse(`the ServiceRegistry's certificate for ${who} cannot be read`)
  }
  if (signer.raw.equals(expected.raw)) return { ok: true }
  const subject = signer.subject.replace(/\n/g, ', ')
  return refuse(
    `the ASiC-E is signed with the certificate of ${subject} (serial ${signer.serialNumber}), ` +
      `not with the one the ServiceRegistry holds for ${who}`,
  )
}
