import { conversationsByMessageId } from '../../conversations/repository.js'
import { isUniqueViolation } from '../../db/errors.js'
import type { Executor } from '../../db/open.js'
import { getMessageId, getSender } from '../../sbd/accessors.js'
import { mayActFor, parseIdentifier } from '../../sbd/identifiers.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import { forMessage } from '../../util/log.js'
import type { IncomingDelivery, IntakeDeps } from './intake.js'
import { insertReceived } from './repository.js'

/**
 * Who may speak (issue 13). The SBD's sender is only what the sending side wrote; the service says who
 * really sent a delivery (DPO: the broker's `sender`, set from the sender's token). A delivery is refused
 * when its SBD names a sender the authenticated organisation may not speak as (`mayActFor`), and a
 * receipt (`status`, `arkivmelding_kvittering`) when it reports on an outgoing message of ours that was
 * sent to another organisation than the authenticated one. A refused delivery is never queued and
 * answers nobody: no MOTTATT to the party it names, and no FEIL, which a forger could aim at anyone by
 * naming them. It is recorded in `received` under a key of its own, so the genuine copy of the same
 * messageId and status is still taken in when it comes. This check runs before every other that could
 * answer the SBD's sender.
 */
export type IdentityRefusalReason = 'sender' | 'receipt'

export interface IdentityRefusal {
  reason: IdentityRefusalReason
  /** the sender the SBD names, as written */
  claimedSender: string | null
  /** for a receipt: the message it reports on and the organisation that message was sent to */
  receipt?: { messageId: string; receiver: string | null }
}

/** A refusal when the SBD's sender is not the authenticated organisation or one it may act as. */
export function senderRefusal(d: IncomingDelivery): IdentityRefusal | null {
  if (mayActFor(d.authenticatedSender, getSender(d.sbd))) return null
  return { reason: 'sender', claimedSender: claimed(d.sbd) }
}

/**
 * A refusal when the delivery is a receipt for an outgoing message of ours sent to another organisation.
 * A receipt for a message we never sent is not refused: it changes nothing, and is ignored as before.
 */
export async function receiptRefusal(db: Executor, d: IncomingDelivery): Promise<IdentityRefusal | null> {
  const target = receiptTarget(d.sbd)
  if (!target) return null
  const outgoing = await conversationsByMessageId(db, target, 'OUTGOING')
  const other = outgoing.find(
    (c) => !mayActFor(d.authenticatedSender, c.receiver ? parseIdentifier(c.receiver) : undefined),
  )
  if (!other) return null
  return {
    reason: 'receipt',
    claimedSender: claimed(d.sbd),
    receipt: { messageId: target, receiver: other.receiver },
  }
}

/** The outgoing message a receipt reports on: a status reuses its messageId, a kvittering names it. */
function receiptTarget(sbd: StandardBusinessDocument): string | null {
  if (sbd.type === 'status') return getMessageId(sbd) ?? null
  const related = sbd.type === 'arkivmelding_kvittering' ? sbd.businessMessage.relatedToMessageId : null
  return typeof related === 'string' && related ? related : null
}

function claimed(sbd: StandardBusinessDocument): string | null {
  const value = sbd.standardBusinessDocumentHeader.sender?.[0]?.identifier?.value
  return typeof value === 'string' ? value : null
}

/**
 * Records the refusal for good (so a copy of this delivery is confirmed away, never taken in), logs it
 * with both identities and counts it. `'duplicate'` when this very delivery was refused before.
 */
export async function recordIdentityRefusal(
  deps: IntakeDeps,
  d: IncomingDelivery,
  refusal: IdentityRefusal,
): Promise<'refused' | 'duplicate'> {
  const messageId = getMessageId(d.sbd)!
  try {
    await insertReceived(deps.db.kysely, {
      // the delivery's own id, not the messageId: the genuine message with this messageId still counts
      dedupeKey: `refused:${d.transferRef ?? deps.newUuid()}`,
      messageId,
      serviceIdentifier: d.serviceIdentifier,
      transferRef: d.transferRef,
      now: deps.clock.now().getTime(),
    })
  } catch (error) {
    if (isUniqueViolation(error)) return 'duplicate'
    throw error
  }
  deps.onRefused?.({ service: d.serviceIdentifier, reason: refusal.reason })
  logRefusal(deps, d, messageId, refusal)
  return 'refused'
}

/** An error for a forged sender (someone speaks as another); a warning for a receipt from a stranger. */
function logRefusal(deps: IntakeDeps, d: IncomingDelivery, messageId: string, refusal: IdentityRefusal) {
  const { serviceIdentifier: service, authenticatedSender: authenticated } = d
  const line = {
    messageId,
    type: d.sbd.type,
    transferRef: d.transferRef,
    claimedSender: refusal.claimedSender,
    authenticatedSender: authenticated,
  }
  const log = forMessage(deps.logger, messageId)
  if (!refusal.receipt) {
    log.error(
      line,
      `refused an incoming ${service} ${d.sbd.type}: its SBD names ${refusal.claimedSender} as sender, ` +
        `but ${service} authenticated ${authenticated}`,
    )
    return
  }
  const { messageId: related, receiver } = refusal.receipt
  log.warn(
    { ...line, relatedToMessageId: related, receiver },
    `refused a ${d.sbd.type} from ${authenticated} for message ${related}, which was sent to ${receiver}`,
  )
}
