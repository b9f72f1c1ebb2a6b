import { createHash } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { registerReceipt } from '../../conversations/receipts.js'
import {
  conversationsByMessageId,
  insertConversation,
  registerStatus,
} from '../../conversations/repository.js'
import { isUniqueViolation } from '../../db/errors.js'
import type { Executor } from '../../db/open.js'
import type { ConversationRow } from '../../db/schema.js'
import { type PayloadStore, packageInTransaction, type SmallPayload } from '../../files/payload-store.js'
import type { AsicRefusal, AsicVerdict } from '../../packaging/asic-verify.js'
import {
  getConversationId,
  getExpectedResponseDateTime,
  getMessageId,
  getProcess,
  getReceiver,
  getSender,
  getStandard,
} from '../../sbd/accessors.js'
import { partOrPrimary, primaryIdentifier } from '../../sbd/identifiers.js'
import { serializeSbd } from '../../sbd/parse.js'
import type { ServiceIdentifier, StandardBusinessDocument } from '../../sbd/types.js'
import { forMessage } from '../../util/log.js'
import {
  type IdentityRefusalReason,
  receiptRefusal,
  recordIdentityRefusal,
  senderRefusal,
} from './authenticity.js'
import { registerKvittering } from './kvittering.js'
import { inPayloadKey } from './orphans.js'
import { type RefusalDeps, refuseIncoming } from './refused-delivery.js'
import { insertInMessage, insertReceived, isReceived, isTransferRefReceived } from './repository.js'
import { enqueueStatusReply } from './status-reply.js'

/**
 * Taking in a message a transport downloaded (docs/receiving.md, "What intake does"). The transport confirms
 * the download at the broker only after this returns, so everything here is one transaction: a crash or an
 * error leaves nothing committed and no file behind, and the next poll brings the delivery again. Every
 * delivery is recorded in `received` for good, so a copy that comes again, even after the fagsystem deleted
 * the message, is recognised as a duplicate.
 */
export interface IncomingDelivery {
  sbd: StandardBusinessDocument
  serviceIdentifier: ServiceIdentifier
  /** the ASiC-E as received (CMS), a temp file under payloads.tempDir; intake adopts it or removes it */
  asic: { tempPath: string; size: number } | null
  /** the broker's id of this delivery (DPO: fileTransferId), kept in `received.transfer_ref` */
  transferRef: string | null
  /**
   * Who the service says sent this delivery, `0192:<orgnr>` (DPO: the broker's `sender`, from the
   * sender's token). Every channel supplies its own: the SBD's sender is only a claim (authenticity.ts).
   */
  authenticatedSender: string
  /**
   * Checks the delivery before it is queued (DPO: the ASiC-E's signature, digests and signer,
   * asic-verify.ts; or a refusal the transport made already, a zip bomb). A refusal is recorded and
   * FEIL goes back to the sender; a throw leaves the delivery for the next poll.
   */
  verify?: () => Promise<AsicVerdict>
  /** made by this integration point for its fagsystem (ports.ts, Intake): registers nothing on the related message */
  localReceipt?: boolean
}

export type IntakeOutcome = 'stored' | 'duplicate' | 'status' | 'expired' | 'refused'

/** What taking in a delivery needs: a refusal's dependencies, and the payload store for the package. */
export interface IntakeDeps extends Omit<RefusalDeps, 'onRefused'> {
  payloads: PayloadStore
  newUuid: () => string
  /** told of each refused delivery (metrics) */
  onRefused?: (e: { service: string; reason: IdentityRefusalReason | AsicRefusal }) => void
}

/** Thrown inside the transaction when the delivery turns out to be taken in already; rolls it back. */
class AlreadyReceived extends Error {}

export async function intakeIncoming(deps: IntakeDeps, d: IncomingDelivery): Promise<IntakeOutcome> {
  let adopted: string | null = null
  try {
    const outcome = await intake(deps, d, (key) => {
      adopted = key
    })
    // an adopted package's temp file is in the store now; any other is left to remove
    if (outcome !== 'stored' || adopted === null) await removeTemp(d)
    return outcome
  } catch (error) {
    await removeTemp(d)
    if (adopted) await deps.payloads.remove(adopted)
    if (error instanceof AlreadyReceived) return 'duplicate'
    throw error
  }
}

/** whether a delivery with this broker id was already taken in (the poller then only confirms it) */
export async function isTransferReceived(db: Executor, transferRef: string): Promise<boolean> {
  return isTransferRefReceived(db, transferRef)
}

/** What a delivery is, worked out once. */
interface Delivery {
  d: IncomingDelivery
  messageId: string
  conversationId: string
  /** the status a `status` message carries; null for every other message */
  status: string | null
  received: { dedupeKey: string; messageId: string; serviceIdentifier: string; transferRef: string | null }
  expiry: number | undefined
}

async function intake(
  deps: IntakeDeps,
  d: IncomingDelivery,
  onAdopted: (key: string) => void,
): Promise<IntakeOutcome> {
  const delivery = describe(d)
  // before anything else, the expiry included: a forged copy must not take the genuine one's place
  const refusal = senderRefusal(d) ?? (await receiptRefusal(deps.db.kysely, d))
  if (refusal) return recordIdentityRefusal(deps, d, refusal)
  // a cheap look first; the unique index on `received` decides when two intakes race
  if (await isReceived(deps.db.kysely, delivery.received.dedupeKey)) return 'duplicate'
  const now = deps.clock.now()
  if (delivery.expiry !== undefined && delivery.expiry < now.getTime()) {
    return expireOnArrival(deps, delivery, now.getTime())
  }
  const verdict = (await d.verify?.()) ?? { ok: true }
  if (!verdict.ok) {
    await refuseIncoming(deps, { ...d, kind: verdict.kind, reason: verdict.reason })
    return 'refused'
  }
  if (delivery.status !== null) return registerIncomingStatus(deps, delivery, delivery.status, now.getTime())
  let key: string | null = null
  let small: SmallPayload | null = null
  if (d.asic) {
    key = inPayloadKey(delivery.messageId, deps.newUuid())
    if (packageInTransaction(deps.payloads, d.asic.size)) small = await readPackage(key, d.asic)
    else {
      await deps.payloads.adopt(key, d.asic.tempPath)
      onAdopted(key)
    }
  }
  // a small package commits with its message: one commit, no rename or folder fsync, no staged chunks
  await transaction(deps, async (trx) => {
    if (small) await deps.payloads.insertInTransaction!(trx, [small])
    await store(trx, deps, delivery, key, now)
  })
  if (wantsStatusReply(deps, d.serviceIdentifier)) deps.onSendJob?.()
  return 'stored'
}

function describe(d: IncomingDelivery): Delivery {
  const messageId = getMessageId(d.sbd)
  const conversationId = getConversationId(d.sbd)
  if (!messageId || !conversationId) {
    throw new Error(`incoming ${d.serviceIdentifier} message without a messageId or conversationId`)
  }
  // status messages reuse the original's messageId, one of each status
  const status = d.sbd.type === 'status' ? String(d.sbd.businessMessage.status ?? '') : null
  const dedupeKey = status === null ? messageId : `${messageId}/${status}`
  return {
    d,
    messageId,
    conversationId,
    status,
    received: { dedupeKey, messageId, serviceIdentifier: d.serviceIdentifier, transferRef: d.transferRef },
    expiry: getExpectedResponseDateTime(d.sbd)?.instant,
  }
}

/** As the reference: OPPRETTET and LEVETID_UTLOPT, nothing queued, no status back to the sender. */
async function expireOnArrival(deps: IntakeDeps, x: Delivery, now: number): Promise<IntakeOutcome> {
  await transaction(deps, async (trx) => {
    await recordReceived(trx, x.received, now)
    // a status message carries our own outgoing messageId: no incoming conversation for it
    if (x.status !== null) return
    const conversation = await incomingConversation(trx, x, x.expiry!, now)
    await registerStatus(trx, conversation, { status: 'OPPRETTET' }, now)
    await registerStatus(trx, conversation, { status: 'LEVETID_UTLOPT' }, now)
  })
  forMessage(deps.logger, x.messageId).info(
    { messageId: x.messageId, expiry: new Date(x.expiry!) },
    'incoming message expired',
  )
  return 'expired'
}

/** A `status` message registers its status on our outgoing conversation; nothing is queued. */
async function registerIncomingStatus(
  deps: IntakeDeps,
  x: Delivery,
  status: string,
  now: number,
): Promise<IntakeOutcome> {
  const registered = await transaction(deps, async (trx) => {
    await recordReceived(trx, x.received, now)
    if (!status) return 0
    const outgoing = await conversationsByMessageId(trx, x.messageId, 'OUTGOING')
    // ours: a FEIL from an integration point like this one says why
    const description = x.d.sbd.businessMessage.description
    const input = typeof description === 'string' ? { status, description } : { status }
    for (const c of outgoing) await registerReceipt(trx, c, input, now)
    return outgoing.length
  })
  if (!registered)
    forMessage(deps.logger, x.messageId).info(
      { messageId: x.messageId, status },
      'status for an unknown message ignored',
    )
  return 'status'
}

/** The queue row, the INCOMING conversation, a kvittering's status and the MOTTATT reply. */
async function store(trx: Executor, deps: IntakeDeps, x: Delivery, key: string | null, now: Date) {
  const { sbd } = x.d
  const nowMs = now.getTime()
  await recordReceived(trx, x.received, nowMs)
  const sender = getSender(sbd)
  const receiver = getReceiver(sbd)
  try {
    await insertInMessage(trx, {
      message_id: x.messageId,
      conversation_id: x.conversationId,
      service_identifier: x.d.serviceIdentifier,
      type: sbd.type,
      process_identifier: getProcess(sbd) ?? null,
      sender_identifier: sender ? primaryIdentifier(sender) : null,
      receiver_identifier: receiver ? primaryIdentifier(receiver) : null,
      sbd: JSON.stringify(serializeSbd(sbd)),
      asic_key: key,
      asic_size: x.d.asic?.size ?? null,
      lock_timeout: null,
      created_at: nowMs,
      last_updated: nowMs,
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw new AlreadyReceived('duplicate', { cause: error })
    throw error
  }
  // as the reference: an incoming message without a lifetime gets the default one
  const expiry = x.expiry ?? nowMs + deps.config.nextmove.defaultTtlHours * 3_600_000
  const conversation = await incomingConversation(trx, x, expiry, nowMs)
  await registerStatus(trx, conversation, { status: 'OPPRETTET' }, nowMs)
  await registerStatus(trx, conversation, { status: 'INNKOMMENDE_MOTTATT' }, nowMs)
  if (sbd.type === 'arkivmelding_kvittering' && !x.d.localReceipt)
    await registerKvittering(trx, deps.logger, sbd, nowMs)
  await enqueueStatusReply(trx, deps.config, sbd, x.d.serviceIdentifier, 'MOTTATT', now)
}

function wantsStatusReply(deps: IntakeDeps, si: ServiceIdentifier): boolean {
  return (deps.config.nextmove.statusServices as readonly string[]).includes(si)
}

async function transaction<T>(deps: IntakeDeps, work: (trx: Executor) => Promise<T>): Promise<T> {
  return deps.db.kysely.transaction().execute(work)
}

async function recordReceived(trx: Executor, r: Delivery['received'], now: number): Promise<void> {
  try {
    await insertReceived(trx, { ...r, now })
  } catch (error) {
    if (isUniqueViolation(error)) throw new AlreadyReceived('duplicate', { cause: error })
    throw error
  }
}

/** The INCOMING conversation, filled as persistMessage fills an OUTGOING one. */
async function incomingConversation(
  trx: Executor,
  x: Delivery,
  expiry: number,
  now: number,
): Promise<ConversationRow> {
  const { sbd } = x.d
  const { messageId, conversationId } = x
  const existing = await conversationsByMessageId(trx, messageId, 'INCOMING')
  if (existing[0]) return existing[0]
  const sender = getSender(sbd)
  const receiver = getReceiver(sbd)
  return insertConversation(trx, {
    conversation_id: conversationId,
    message_id: messageId,
    sender: sender?.value ?? null,
    sender_identifier: sender ? partOrPrimary(sender) : null,
    receiver: receiver?.value ?? null,
    receiver_identifier: receiver ? primaryIdentifier(receiver) : null,
    process_identifier: getProcess(sbd) ?? null,
    document_identifier: getStandard(sbd) ?? null,
    // as the reference: the reference starts as the conversationId and the title empty
    message_reference: conversationId,
    message_title: '',
    service_identifier: x.d.serviceIdentifier,
    direction: 'INCOMING',
    expiry,
    finished: 0,
    pollable: 0,
    external_system_reference: null,
    created_at: now,
    last_update: now,
  })
}

/** A small package's bytes, read back from its temp file and checked against the size the transport counted. */
async function readPackage(key: string, asic: { tempPath: string; size: number }): Promise<SmallPayload> {
  const data = await readFile(asic.tempPath)
  if (data.length !== asic.size)
    throw new Error(`${asic.tempPath} holds ${data.length} bytes where ${asic.size} were received`)
  return { key, data, sha256: createHash('sha256').update(data).digest('hex') }
}

async function removeTemp(d: IncomingDelivery): Promise<void> {
  if (d.asic) await rm(d.asic.tempPath, { force: true })
}
