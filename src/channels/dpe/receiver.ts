// DPE receiving: peek-lock our own queue, take each message in (the intake commits it), and only then
// complete (delete) it. A crash between the commit and the delete leaves the message locked; it comes back
// when the lock expires and is completed as already received.
//
// One message is locked at a time and settled before the next is peeked. The reference locks up to
// readMaxMessages first and then works through them, so a slow batch outlives the later locks (60 s by
// default): their deletes fail and they come again. Here a lock only has to outlast its own message.
//
// The REST API has no dead-letter call. A message that can never be taken in (not JSON, no SBD, a bad or
// forged ASiC-E, a zip bomb) is recorded once, with its reason, and abandoned each time it comes: Service
// Bus counts each delivery and moves it to `<queue>/$DeadLetterQueue` past the queue's MaxDeliveryCount.

import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Config } from '../../config/types.js'
import { type PayloadStore, packageNeedsSync } from '../../files/payload-store.js'
import type { AsicVerdict } from '../../packaging/asic-verify.js'
import type { BusinessKeys } from '../../packaging/keys.js'
import type { ServiceRegistry } from '../../registry/client.js'
import { getConversationId, getMessageId } from '../../sbd/accessors.js'
import { parseSbd } from '../../sbd/parse.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import { forMessage } from '../../util/log.js'
import type { Clock } from '../../util/time.js'
import { type AsicVerifier, createAsicVerifier } from '../asic-verifier.js'
import type { Intake } from '../ports.js'
import { DpeBodyError, decodeBody, maxBodyBytes } from './body.js'
import {
  LockLostError,
  type MessageLock,
  MessageTooLargeError,
  type PeekedMessage,
  type ServiceBusClient,
} from './client.js'
import { ownQueue } from './queues.js'

export interface DpeReceiverDeps {
  config: Config
  clock: Clock
  logger: Logger
  payloads: PayloadStore
  keys: BusinessKeys
  registry: ServiceRegistry
  client: ServiceBusClient
  intake: Intake
  newUuid: () => string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** How one message ended: settled (completed, or abandoned for the dead-letter queue), its lock lost, or left for later. */
type Handled = 'settled' | 'lost' | 'later'

/** A body that can never be taken in; its message goes the way of the dead-letter queue. */
class Unreceivable extends Error {}

/** One round: up to readMaxMessages messages of our own queue; returns how many were settled. */
export async function pollServiceBus(deps: DpeReceiverDeps): Promise<number> {
  const { config } = deps
  const queue = ownQueue(config.org.number, config.serviceBus.mode)
  const verifier = createAsicVerifier({
    ...deps,
    // as DPO: room for a sender whose limit is larger than ours
    maxBytes: config.uploadSizeLimit.DPE * 2,
    maxRatio: config.nextmove.maxCompressionRatio,
  })
  let settled = 0
  for (let i = 0; i < config.serviceBus.readMaxMessages; i++) {
    let message: PeekedMessage | null
    try {
      message = await deps.client.peekLock(queue)
    } catch (error) {
      if (!(error instanceof MessageTooLargeError)) throw error
      if ((await tooLarge(deps, queue, error)) === 'later') break
      settled++
      continue
    }
    if (message === null) break
    const handled = await handle(deps, queue, message, verifier)
    // a message abandoned for the dead-letter queue is at the head again: peeking it at once spends its
    // deliveries within the round, cheaply (recorded already), and the messages behind it are not held up
    if (handled === 'settled') settled++
    // Each delivery counts towards MaxDeliveryCount: a message that failed for a passing reason (the
    // registry, the disk) is not peeked again at once, or one round would use up its deliveries and
    // dead-letter a good message. The next round, at the polling interval, tries it again.
    if (handled === 'later') break
  }
  return settled
}

async function handle(
  deps: DpeReceiverDeps,
  queue: string,
  message: PeekedMessage,
  verifier: AsicVerifier,
): Promise<Handled> {
  const transferRef = `servicebus:${message.messageId}`
  const log = deps.logger.child({
    serviceBusMessageId: message.messageId,
    deliveryCount: message.deliveryCount,
  })
  try {
    const seen = await deps.intake.alreadyReceived(transferRef)
    let body: { sbd: StandardBusinessDocument; cms: Buffer | null }
    try {
      body = readBody(deps, message.body)
    } catch (error) {
      if (!(error instanceof Unreceivable)) throw error
      // refused when it first came; a later delivery is only abandoned again
      if (seen) return abandonForGood(deps, queue, message, log, error.message)
      return unreceivable(deps, queue, message, error.message)
    }
    const outcome = seen
      ? await takeAgain(deps, body.sbd, transferRef)
      : await takeIn(deps, body, transferRef, verifier)
    forMessage(log, getMessageId(body.sbd)).info(
      { messageId: getMessageId(body.sbd), type: body.sbd.type, outcome },
      `DPE message ${outcome}`,
    )
    if (outcome === 'refused') return abandonForGood(deps, queue, message, log, 'the intake refused it')
    return await complete(deps, queue, message, log)
  } catch (error) {
    // Left locked, as the reference leaves it: it comes again when its lock expires (a minute by default),
    // so the queue's MaxDeliveryCount outlasts an outage of the registry or the disk of about ten lock
    // durations instead of ten polling rounds, and a good message is not dead-lettered for our failure.
    log.warn(
      { err: error },
      `could not receive a DPE message; it comes again when its lock expires: ${(error as Error).message}`,
    )
    return 'later'
  }
}

/** The SBD and the CMS, or Unreceivable with the reason. */
function readBody(
  deps: DpeReceiverDeps,
  bytes: Buffer,
): { sbd: StandardBusinessDocument; cms: Buffer | null } {
  try {
    const decoded = decodeBody(bytes, maxBodyBytes(deps.config.uploadSizeLimit.DPE))
    const sbd = parseSbd(decoded.sbd)
    const messageId = getMessageId(sbd)
    const conversationId = getConversationId(sbd)
    if (!messageId || !UUID.test(messageId) || !conversationId || !UUID.test(conversationId))
      throw new Unreceivable(`messageId ${messageId} and conversationId ${conversationId} must be UUIDs`)
    return { sbd, cms: decoded.cms }
  } catch (error) {
    if (error instanceof Unreceivable) throw error
    const what = error instanceof DpeBodyError ? '' : 'unreadable SBD: '
    throw new Unreceivable(`${what}${(error as Error).message}`, { cause: error })
  }
}

/**
 * The first delivery: the CMS to a temp file the intake adopts, checked by its signature.
 *
 * Service Bus has one key for the whole namespace, shared by every integration point, so anyone holding
 * it can put any SBD on any queue: Service Bus authenticates nobody. A message with an ASiC-E is trusted
 * as far as its signature, which `verify` checks against the certificate the ServiceRegistry holds for
 * the SBD's sender; the sender named is therefore taken as authenticated. A `status` or an
 * einnsyn_kvittering has no ASiC-E and nothing can authenticate it: the most a forged one does is mark a
 * message of ours MOTTATT or LEVERT, or hand the fagsystem a false receipt, as with the reference.
 */
async function takeIn(
  deps: DpeReceiverDeps,
  body: { sbd: StandardBusinessDocument; cms: Buffer | null },
  transferRef: string,
  verifier: AsicVerifier,
): Promise<string> {
  const { sbd, cms } = body
  let asic: { tempPath: string; size: number } | null = null
  try {
    if (cms !== null) {
      await mkdir(deps.payloads.tempDir, { recursive: true })
      asic = { tempPath: join(deps.payloads.tempDir, `dpe-${deps.newUuid()}.cms`), size: cms.length }
      await writeFile(asic.tempPath, cms, { flush: packageNeedsSync(deps.payloads, cms.length) })
    }
    const verify = asic ? () => verifier(sbd, asic!) : undefined
    return await deps.intake.take({ sbd, asic, transferRef, authenticatedSender: senderOf(sbd), verify })
  } finally {
    // the intake adopted the file or removed it; a failure before it leaves it to us
    if (asic) await rm(asic.tempPath, { force: true })
  }
}

/**
 * A later delivery of a message recorded already: taken in (a crash or a lost lock before the delete) or
 * refused. The intake tells which without the expensive part: a message taken in is a duplicate before
 * any check, and one that reaches the check was refused, which the check says again without decrypting.
 */
async function takeAgain(deps: DpeReceiverDeps, sbd: StandardBusinessDocument, transferRef: string) {
  const refusedBefore = async (): Promise<AsicVerdict> => ({
    ok: false,
    kind: 'container',
    reason: 'refused when it was first delivered',
  })
  return deps.intake.take({
    sbd,
    asic: null,
    transferRef,
    authenticatedSender: senderOf(sbd),
    verify: refusedBefore,
  })
}

async function tooLarge(deps: DpeReceiverDeps, queue: string, error: MessageTooLargeError): Promise<Handled> {
  try {
    return await unreceivable(deps, queue, error.lock, error.message)
  } catch (failure) {
    deps.logger.warn({ err: failure }, `could not record a DPE message too large to read; it comes again`)
    await abandon(deps, queue, error.lock, deps.logger)
    return 'later'
  }
}

/** Recorded once (nothing of it could be read for the intake to answer), then on its way to the dead-letter queue. */
async function unreceivable(
  deps: DpeReceiverDeps,
  queue: string,
  lock: MessageLock & { deliveryCount: number },
  reason: string,
): Promise<Handled> {
  const log = deps.logger.child({ serviceBusMessageId: lock.messageId, deliveryCount: lock.deliveryCount })
  const transferRef = `servicebus:${lock.messageId}`
  if (!(await deps.intake.alreadyReceived(transferRef))) await deps.intake.refuse({ transferRef, reason })
  return abandonForGood(deps, queue, lock, log, reason)
}

async function abandonForGood(
  deps: DpeReceiverDeps,
  queue: string,
  lock: MessageLock,
  log: Logger,
  reason: string,
): Promise<Handled> {
  log.error(
    { queue },
    `a DPE message that can never be taken in is abandoned until Service Bus dead-letters it: ${reason}`,
  )
  await abandon(deps, queue, lock, log)
  return 'settled'
}

async function complete(
  deps: DpeReceiverDeps,
  queue: string,
  lock: MessageLock,
  log: Logger,
): Promise<Handled> {
  try {
    await deps.client.complete(queue, lock)
    return 'settled'
  } catch (error) {
    if (!(error instanceof LockLostError)) throw error
    // the intake has it; the message comes again when Service Bus sees the lock gone, and is completed then
    log.warn({ queue }, `the lock of a DPE message taken in was lost before it was deleted: ${error.message}`)
    return 'lost'
  }
}

/** Unlocks at once; when that fails too, the lock runs out and the message comes again anyway. */
async function abandon(deps: DpeReceiverDeps, queue: string, lock: MessageLock, log: Logger): Promise<void> {
  try {
    await deps.client.abandon(queue, lock)
  } catch (error) {
    log.warn({ err: error, queue }, 'could not abandon a DPE message; it comes again when its lock expires')
  }
}

function senderOf(sbd: StandardBusinessDocument): string {
  return sbd.standardBusinessDocumentHeader.sender?.[0]?.identifier?.value ?? ''
}
