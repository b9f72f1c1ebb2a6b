// DPF receiving (issue 17, "Receive"): list what waits in our SvarInn, and take each forsendelse in as the
// reference does: download it, decrypt it with the business key, unzip it, build
// the arkivmelding SBD and arkivmelding.xml, pack an ASiC-E for our own queue, commit, and only then
// kvitterMottak. A crash before the acknowledgement means SvarInn lists it again; the intake's record of
// received deliveries turns the second copy into an acknowledgement only. Unlike the reference, which
// never calls mottakFeilet and fetches what it cannot read forever, a forsendelse that can never be taken
// in is reported permanently failed (SvarUt then sends it on by notice and print) and recorded as refused.
// Everything streams through temp files: a 100 MiB document is never in memory.

import { createWriteStream } from 'node:fs'
import { mkdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough, type Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Logger } from 'pino'
import yauzl from 'yauzl'
import type { Config } from '../../config/types.js'
import { ByteBudget, byteLimit } from '../../files/byte-budget.js'
import { type PayloadStore, packageNeedsSync } from '../../files/payload-store.js'
import { syncingWriteStream } from '../../files/sync-ahead.js'
import { type AsicDocument, AsicWriteError, writeAsic } from '../../packaging/asic.js'
import { entries, RATIO_FLOOR } from '../../packaging/asic-entries.js'
import { CmsError, decryptStream, encryptStream } from '../../packaging/cms.js'
import type { BusinessKeys } from '../../packaging/keys.js'
import { ARKIVMELDING_FILE } from '../../sbd/files.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import { forMessage } from '../../util/log.js'
import type { Clock } from '../../util/time.js'
import type { Intake } from '../ports.js'
import type { SvarInnClient } from './svarinn-client.js'
import {
  forsendelseIdOf,
  parseSvarInnForsendelse,
  type SvarInnForsendelse,
  SvarInnForsendelseError,
} from './svarinn-forsendelse.js'
import { type IncomingForsendelse, incomingForsendelse } from './svarinn-mapping.js'

export interface SvarInnReceiverDeps {
  config: Config
  clock: Clock
  logger: Logger
  payloads: PayloadStore
  keys: BusinessKeys
  client: SvarInnClient
  intake: Intake
  newUuid: () => string
}

/** A forsendelse that can never be taken in as it came: reported with mottakFeilet (permanent), refused. */
class Unreceivable extends Error {
  override name = 'Unreceivable'
}

/** What the zip may add to the documents it holds: headers and a directory, a few bytes per entry. */
const MAX_ZIP_OVERHEAD = 8 * 1024 * 1024

/**
 * One round: each listed forsendelse in turn. Returns how many were taken in or settled (acknowledged,
 * or reported as failed for good); one that fails in passing is left for the next round.
 */
export async function pollSvarInn(deps: SvarInnReceiverDeps): Promise<number> {
  const items = await deps.client.hentNyeForsendelser()
  let done = 0
  for (const item of items) {
    const id = forsendelseIdOf(item)
    if (id === null) {
      // nothing to name it by, so nothing to acknowledge or report: SvarInn lists it until KS fixes it
      deps.logger.error('SvarInn listed a forsendelse without an id; skipped')
      continue
    }
    const began = performance.now()
    const timed = (ok: boolean) => deps.intake.timed?.({ seconds: (performance.now() - began) / 1000, ok })
    try {
      await settle(deps, id, item)
      done++
      timed(true)
    } catch (error) {
      timed(false)
      deps.logger.warn(
        { err: error, forsendelseId: id },
        `could not receive SvarInn forsendelse ${id}; next poll tries again: ${(error as Error).message}`,
      )
    }
  }
  return done
}

async function settle(deps: SvarInnReceiverDeps, id: string, item: unknown): Promise<void> {
  const transferRef = `svarinn:${id}`
  // taken in already, and the acknowledgement was lost or a crash came first: acknowledge only
  if (await deps.intake.alreadyReceived(transferRef)) {
    await deps.client.kvitterMottak(id)
    return
  }
  try {
    await takeIn(deps, parseSvarInnForsendelse(item), transferRef)
  } catch (error) {
    if (!(error instanceof Unreceivable || error instanceof SvarInnForsendelseError)) throw error
    await refuse(deps, id, transferRef, error.message)
    return
  }
  await deps.client.kvitterMottak(id)
}

/**
 * mottakFeilet first: once refused, the intake says it was received, and a later round would acknowledge
 * it (LEST) instead. Reported but not recorded (a crash between), it is simply no longer listed.
 */
async function refuse(deps: SvarInnReceiverDeps, id: string, transferRef: string, reason: string) {
  await deps.client.mottakFeilet(id, reason, true)
  await deps.intake.refuse({ transferRef, reason })
  deps.logger.error(
    { forsendelseId: id },
    `SvarInn forsendelse ${id} can never be taken in, reported to SvarUt as failed: ${reason}`,
  )
}

async function takeIn(deps: SvarInnReceiverDeps, f: SvarInnForsendelse, transferRef: string) {
  const { config } = deps
  await mkdir(deps.payloads.tempDir, { recursive: true })
  const zipPath = join(deps.payloads.tempDir, `dpf-${deps.newUuid()}.zip`)
  const asicPath = join(deps.payloads.tempDir, `dpf-${deps.newUuid()}.cms`)
  const maxBytes = config.uploadSizeLimit.DPF * 2
  try {
    await download(deps, f, zipPath, maxBytes)
    const incoming = incomingForsendelse(f, {
      inn: config.fiks.inn,
      ttlHours: config.ttlHours.DPF,
      now: deps.clock.now(),
    })
    const size = await packAsic(deps, incoming, zipPath, asicPath, maxBytes)
    const { sbd } = incoming
    // SvarUt does not authenticate svarSendesTil: the sender is the municipality's own word, passed on
    // by SvarUt, and nothing better is known. That is safe because what we build is always an
    // arkivmelding, never a receipt or a status, so it cannot report on a message of ours.
    const outcome = await deps.intake.take({
      sbd,
      asic: { tempPath: asicPath, size },
      transferRef,
      authenticatedSender: senderOf(sbd),
    })
    forMessage(deps.logger, f.id).info(
      { messageId: f.id, forsendelseId: f.id, outcome },
      `DPF forsendelse ${outcome}`,
    )
  } finally {
    // the intake adopted the package or removed it; a failure before it leaves it to us
    await Promise.all([rm(zipPath, { force: true }), rm(asicPath, { force: true })])
  }
}

function senderOf(sbd: StandardBusinessDocument): string {
  return sbd.standardBusinessDocumentHeader.sender?.[0]?.identifier?.value ?? ''
}

/**
 * The download, decrypted as it arrives, to `zipPath`. As the reference, the first recipient our key
 * opens: SvarInn encrypts to the certificate uploaded to the mottakersystem, which need not be the very
 * certificate we hold (a renewal, or one made for KS from the same key), so issuer and serial are not
 * matched.
 */
async function download(deps: SvarInnReceiverDeps, f: SvarInnForsendelse, zipPath: string, max: number) {
  // made first: a key we cannot load is our fault, never the forsendelse's
  const decrypt = decryptStream(deps.keys.keyPem)
  const body = await deps.client.download(f.downloadUrl)
  try {
    await pipeline(
      body,
      decrypt,
      byteLimit(max + MAX_ZIP_OVERHEAD, (n) => new Unreceivable(`its zip is larger than ${n} bytes`)),
      createWriteStream(zipPath),
    )
  } catch (error) {
    // a broken connection fails the download itself; a CmsError comes from bytes that all arrived
    if (error instanceof CmsError)
      throw new Unreceivable(`it cannot be decrypted with our key: ${error.message}`, { cause: error })
    throw error
  }
}

/** The ASiC-E (arkivmelding.xml first, then the documents), encrypted to ourselves; returns its size. */
async function packAsic(
  deps: SvarInnReceiverDeps,
  incoming: IncomingForsendelse,
  zipPath: string,
  asicPath: string,
  maxBytes: number,
): Promise<number> {
  const maxRatio = deps.config.nextmove.maxCompressionRatio
  const zip = await openZip(zipPath)
  try {
    const found = await findDocuments(zip, incoming, maxBytes, maxRatio)
    // the bytes that really inflate, counted before they pass: the zip's declared sizes are its word
    const total = new ByteBudget(
      maxBytes,
      (n) => new Unreceivable(`its documents inflate to more than ${n} bytes`),
    )
    const ratio = new ByteBudget(
      maxRatio * Math.max(RATIO_FLOOR, (await stat(zipPath)).size),
      (n) => new Unreceivable(`its zip inflates to more than ${n} bytes (a zip bomb?)`),
    )
    const documents: AsicDocument[] = [
      {
        filename: ARKIVMELDING_FILE,
        mimeType: 'application/xml',
        primary: true,
        open: () => new PassThrough().end(Buffer.from(incoming.arkivmelding, 'utf8')),
      },
      ...incoming.documents.map((d) => ({
        filename: d.filnavn,
        mimeType: d.mimeType,
        primary: false,
        open: inflater(zip, found.get(d.filnavn)!, total, ratio),
      })),
    ]
    return await writeEncrypted(deps, incoming.sbd, documents, asicPath)
  } finally {
    zip.close()
  }
}

/** Signs the ASiC-E with the business key and encrypts it to our own certificate, as our queue keeps it. */
async function writeEncrypted(
  deps: SvarInnReceiverDeps,
  sbd: StandardBusinessDocument,
  documents: AsicDocument[],
  asicPath: string,
): Promise<number> {
  let asic: Readable
  try {
    asic = writeAsic({
      sender: senderOf(sbd),
      receiver: sbd.standardBusinessDocumentHeader.receiver?.[0]?.identifier?.value ?? '',
      documents,
      signer: deps.keys,
      now: () => deps.clock.now(),
    })
  } catch (error) {
    if (error instanceof AsicWriteError)
      throw new Unreceivable(`its documents cannot be packed: ${error.message}`, { cause: error })
    throw error
  }
  let size = 0
  const count = new Transform({
    transform: (chunk: Buffer, _e, done) => {
      size += chunk.length
      done(null, chunk)
    },
  })
  // fsynced where the intake adopts it by a rename (a file store, a package too large for its
  // transaction): SvarInn is told it was received once the intake has committed, and may then drop it
  await pipeline(
    asic,
    encryptStream(deps.keys.certPem),
    count,
    syncingWriteStream(asicPath, {
      flush: () => packageNeedsSync(deps.payloads, size),
      ahead: deps.payloads.tempFilesNeedSync,
    }),
  )
  return size
}

async function openZip(path: string): Promise<yauzl.ZipFile> {
  try {
    // autoClose off: the entries are opened after the directory has been read to its end
    return await yauzl.openPromise(path, { lazyEntries: true, validateEntrySizes: true, autoClose: false })
  } catch (error) {
    throw zipError(error, 'it is not a readable zip')
  }
}

/**
 * The zip's entry for each document, by filnavn as the reference; what SvarInn sent beside them is left
 * out, since the arkivmelding names only these. Declared sizes over the bounds refuse it at once.
 */
async function findDocuments(
  zip: yauzl.ZipFile,
  incoming: IncomingForsendelse,
  maxBytes: number,
  maxRatio: number,
): Promise<Map<string, yauzl.Entry>> {
  const wanted = new Set(incoming.documents.map((d) => d.filnavn))
  const found = new Map<string, yauzl.Entry>()
  let declared = 0
  try {
    for await (const entry of entries(zip)) {
      if (!wanted.has(entry.fileName)) continue
      if (found.has(entry.fileName)) throw new Unreceivable(`its zip holds ${entry.fileName} twice`)
      declared += entry.uncompressedSize
      if (declared > maxBytes) throw new Unreceivable(`its documents are more than ${maxBytes} bytes`)
      const size = entry.uncompressedSize
      if (size > RATIO_FLOOR && size > maxRatio * Math.max(1, entry.compressedSize))
        throw new Unreceivable(`${entry.fileName} inflates more than ${maxRatio}:1 (a zip bomb?)`)
      found.set(entry.fileName, entry)
    }
  } catch (error) {
    throw zipError(error, 'its zip is broken')
  }
  const missing = [...wanted].find((name) => !found.has(name))
  if (missing !== undefined) throw new Unreceivable(`its zip does not hold ${missing}, listed in filmetadata`)
  return found
}

/**
 * Opens one entry's inflated bytes; errors of the zip's own making refuse it. The ASiC-E writer reads
 * each document twice (to hash it, then to write it): the first reading goes through the budgets and
 * stops a zip bomb there; a later one is not counted again, since the writer fails it when it gives
 * other bytes than the first (its size and CRC-32 are held to the first reading's).
 */
function inflater(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  total: ByteBudget,
  ratio: ByteBudget,
): () => Readable {
  let counted = false
  return () => {
    const budgets = counted ? [] : [total.tap(), ratio.tap()]
    counted = true
    const out = new PassThrough()
    zip
      .openReadStreamPromise(entry)
      .then((stream) => pipeline([stream, ...budgets, out]))
      .catch((error: unknown) =>
        out.destroy(zipError(error, `${entry.fileName} cannot be read from its zip`)),
      )
    return out
  }
}

/** A bound crossed stays as it is, the disk failing (a syscall) may pass, anything else is the zip's fault. */
function zipError(error: unknown, what: string): Error {
  if (error instanceof Unreceivable) return error
  if (typeof (error as { syscall?: unknown }).syscall === 'string') return error as Error
  return new Unreceivable(`${what}: ${(error as Error).message}`, { cause: error })
}
