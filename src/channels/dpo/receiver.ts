// DPO receiving: list the broker's published transfers for us, take them in the order they were made,
// download each to disk, hand it to the intake (which commits it, still encrypted), and only then confirm the
// download. A crash anywhere before the confirm means the transfer is listed again; the intake's record of
// received messages makes the second copy a no-op.

import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Logger } from 'pino'
import type { Config } from '../../config/types.js'
import { byteLimit } from '../../files/byte-budget.js'
import { type PayloadStore, packageNeedsSync } from '../../files/payload-store.js'
import { syncingWriteStream } from '../../files/sync-ahead.js'
import type { ArrivalScan, AsicVerdict, ScannedCms } from '../../packaging/asic-verify.js'
import { getConversationId, getMessageId } from '../../sbd/accessors.js'
import { parseSbdJson } from '../../sbd/parse.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import { forMessage } from '../../util/log.js'
import type { Intake } from '../ports.js'
import type { BrokerClient } from './broker-client.js'
import type { FileTransferOverviewExt } from './broker-types.js'
import { BrokerError } from './errors.js'
import { readSbdZip, SbdZipError, StoredAsicSplit } from './sbd-zip.js'
import type { DpoVerifier } from './verify.js'

/** The intake port (ports.ts): what the receiver hands over, and how it learns a transfer was taken in already. */
export type DpoIntake = Intake

export interface DpoReceiverDeps {
  config: Config
  logger: Logger
  payloads: PayloadStore
  broker: BrokerClient
  intake: DpoIntake
  /** signature, digests and signer of an ASiC-E (verify.ts) */
  verify: DpoVerifier
  newUuid: () => string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** a reference that is a message channel name (`difi.move.dpo.message-channel`); a UUID is longer */
const CHANNEL_LIKE = /^[a-zA-Z0-9_-]{0,25}$/

/** One poll: returns how many transfers it finished (taken in and confirmed, or discarded). */
export async function pollDpo(deps: DpoReceiverDeps): Promise<number> {
  const { broker, config } = deps
  const resourceId = config.dpo.resource
  // Initialized, as the reference; DownloadStarted too: a download whose confirm never came (a crash,
  // a lost answer) leaves the transfer there at Altinn, and the reference would never see it again
  const [fresh, started] = await Promise.all([
    broker.list({ resourceId, status: 'Published', recipientStatus: 'Initialized' }),
    broker.list({ resourceId, status: 'Published', recipientStatus: 'DownloadStarted' }),
  ])
  const ids = [...new Set([...fresh, ...started])]
  const todo: FileTransferOverviewExt[] = []
  let done = 0
  for (const id of ids) {
    try {
      if (await deps.intake.alreadyReceived(id)) {
        await confirm(deps, id)
        done++
        continue
      }
      const overview = await broker.overview(id)
      if (forUs(config, overview.sendersFileTransferReference)) todo.push(overview)
    } catch (error) {
      deps.logger.warn(
        { err: error, fileTransferId: id },
        'could not look at a DPO file transfer; next poll tries again',
      )
    }
  }
  todo.sort((a, b) => Date.parse(a.created) - Date.parse(b.created))
  for (const overview of todo) {
    const began = performance.now()
    const timed = (ok: boolean) => deps.intake.timed?.({ seconds: (performance.now() - began) / 1000, ok })
    try {
      if (await receive(deps, overview)) done++
      timed(true)
    } catch (error) {
      timed(false)
      deps.logger.warn(
        { err: error, fileTransferId: overview.fileTransferId },
        `could not receive a DPO file transfer; next poll tries again: ${(error as Error).message}`,
      )
    }
  }
  return done
}

/**
 * The message channel filter, as the reference's: with a channel configured, only transfers that name it;
 * without, only those whose reference is not a channel name.
 */
function forUs(config: Config, reference: string | null): boolean {
  const channel = config.dpo.messageChannel
  if (channel) return reference === channel
  return reference === null || !CHANNEL_LIKE.test(reference)
}

async function receive(deps: DpoReceiverDeps, overview: FileTransferOverviewExt): Promise<boolean> {
  const id = overview.fileTransferId
  const zipPath = join(deps.payloads.tempDir, `dpo-${deps.newUuid()}.zip`)
  await mkdir(deps.payloads.tempDir, { recursive: true })
  try {
    const unpacked = await unpack(deps, overview, zipPath)
    if (typeof unpacked === 'string') return discard(deps, id, unpacked)
    const { sbd, asic, refusal } = unpacked
    const verify = refusal
      ? async (): Promise<AsicVerdict> => ({ ok: false, kind: 'container', reason: refusal })
      : asic
        ? () => deps.verify(sbd, asic)
        : undefined
    // the broker set `sender` from the token of whoever made the transfer; the SBD says what it likes
    const authenticatedSender = overview.sender
    const outcome = await deps.intake.take({ sbd, asic, transferRef: id, authenticatedSender, verify })
    forMessage(deps.logger, getMessageId(sbd)).info(
      { messageId: getMessageId(sbd), fileTransferId: id, outcome, type: sbd.type },
      `DPO message ${outcome}`,
    )
    await confirm(deps, id)
    return true
  } finally {
    await rm(zipPath, { force: true })
  }
}

interface Unpacked {
  sbd: StandardBusinessDocument
  asic: { tempPath: string; size: number; scanned: ScannedCms | null } | null
  /** why the rest of the delivery is refused, when its SBD could be read first */
  refusal: string | null
}

/** Downloads and unpacks a transfer: its SBD and CMS, or (a string) why it can never be read. */
async function unpack(
  deps: DpoReceiverDeps,
  overview: FileTransferOverviewExt,
  zipPath: string,
): Promise<Unpacked | string> {
  const id = overview.fileTransferId
  const maxAsicBytes = deps.config.uploadSizeLimit.DPO * 2
  let parsed: Awaited<ReturnType<typeof readSbdZip>>
  let refusal: string | null = null
  let [arrival, copy]: (ArrivalScan | null)[] = [null, null]
  try {
    const download = await deps.broker.download(id)
    // the zip's head (sbd.json) is held back, so the file can become the CMS itself (sbd-zip.ts)
    const split = new StoredAsicSplit()
    // and the CMS is then decrypted and its container read as it comes, for the check; or, where it is
    // copied out of the zip (deflated, as the reference writes it), as it is copied
    const scanning = () => deps.verify.arrival?.(overview.fileTransferSize) ?? null
    arrival = scanning()
    await pipeline(
      download,
      byteLimit(
        maxAsicBytes + MAX_SBD_ZIP_EXTRA,
        (max) => new SbdZipError(`the transfer is larger than ${max} bytes`),
      ),
      split,
      arrival ? arrival.tap(() => split.head.length > 0) : new PassThrough(),
      // written back as it comes where the file is to become the CMS (stored in the zip, as ours and
      // the broker's client write it) and readSbdZip will fsync it
      syncingWriteStream(zipPath, {
        flush: false,
        ahead: () => split.head.length > 0 && packageNeedsSync(deps.payloads, overview.fileTransferSize),
      }),
    )
    parsed = await readSbdZip(zipPath, {
      head: split.head,
      tempDir: deps.payloads.tempDir,
      maxAsicBytes,
      maxRatio: deps.config.nextmove.maxCompressionRatio,
      newName: () => `dpo-${deps.newUuid()}.cms`,
      sync: (size) => packageNeedsSync(deps.payloads, size),
      copying: () => {
        copy = scanning()
        return copy?.tap(() => true) ?? null
      },
    })
  } catch (error) {
    if (!(error instanceof SbdZipError)) throw error
    if (error.sbdJson === null) return error.message
    // the SBD was read before the rest was refused: the intake tells its sender why
    parsed = { sbdJson: error.sbdJson, asic: null }
    refusal = `the delivery is refused: ${error.message}`
  }
  try {
    const sbd = parseSbdJson(parsed.sbdJson)
    const messageId = getMessageId(sbd)
    const conversationId = getConversationId(sbd)
    if (!messageId || !UUID.test(messageId) || !conversationId || !UUID.test(conversationId))
      throw new Error(`messageId ${messageId} and conversationId ${conversationId} must be UUIDs`)
    // what was scanned is what is kept: the CMS the download began with where the file is that, else
    // the one copied out of the zip (the entry its directory names)
    const scan = parsed.asic?.tempPath === zipPath ? arrival : copy
    const scanned = parsed.asic && scan ? await scan.result() : null
    return { sbd, asic: parsed.asic && { ...parsed.asic, scanned }, refusal }
  } catch (error) {
    if (parsed.asic) await rm(parsed.asic.tempPath, { force: true })
    return `unreadable SBD: ${(error as Error).message}`
  }
}

/**
 * As the reference: what can never be read is confirmed away, with a log line that says why; recorded
 * too (ours), so a confirm that is lost does not have it read again.
 */
async function discard(deps: DpoReceiverDeps, id: string, why: string): Promise<boolean> {
  deps.logger.error({ fileTransferId: id }, `discarding a DPO file transfer that cannot be read: ${why}`)
  await deps.intake.refuse({ transferRef: id, reason: why })
  await confirm(deps, id)
  return true
}

/** an sbd.zip is the CMS and an SBD of a few kB, with zip headers: more than this is not one */
const MAX_SBD_ZIP_EXTRA = 8 * 1024 * 1024

async function confirm(deps: DpoReceiverDeps, id: string): Promise<void> {
  try {
    await deps.broker.confirmDownload(id)
  } catch (error) {
    // gone or already confirmed (a lost answer): nothing left to do for it
    if (error instanceof BrokerError && (error.status === 404 || error.status === 410)) return
    throw error
  }
}
