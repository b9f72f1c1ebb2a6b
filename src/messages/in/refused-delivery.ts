import type { Logger } from 'pino'
import type { Config } from '../../config/types.js'
import { isUniqueViolation } from '../../db/errors.js'
import type { Db } from '../../db/open.js'
import type { AsicRefusal } from '../../packaging/asic-verify.js'
import { getMessageId, getSender } from '../../sbd/accessors.js'
import type { ServiceIdentifier, StandardBusinessDocument } from '../../sbd/types.js'
import { forMessage } from '../../util/log.js'
import type { Clock } from '../../util/time.js'
import { insertReceived } from './repository.js'
import { enqueueStatusReply } from './status-reply.js'

/**
 * A delivery refused on receipt (a signature that does not hold, a zip bomb): it never reaches the
 * queue. In one transaction it is recorded in `received`, under a key of its own so a genuine message
 * with the same messageId is still taken in, and, when the SBD could be read, FEIL with the reason is
 * queued back to its sender. The reference has no such step (it queues what it cannot check).
 */
export interface Refusal {
  /** null when not even the SBD could be read: nothing can go back then */
  sbd: StandardBusinessDocument | null
  serviceIdentifier: ServiceIdentifier
  /** the broker's id of the delivery */
  transferRef: string | null
  kind: AsicRefusal
  reason: string
}

export interface RefusalDeps {
  db: Db
  clock: Clock
  config: Config
  logger: Logger
  onSendJob?: () => void
  /** told of each refused delivery (metrics) */
  onRefused?: (e: { service: string; reason: AsicRefusal }) => void
}

export async function refuseIncoming(deps: RefusalDeps, r: Refusal): Promise<void> {
  const now = deps.clock.now()
  const messageId = (r.sbd && getMessageId(r.sbd)) || null
  const key = `refused:${r.transferRef ?? messageId ?? now.getTime()}`
  let fresh: boolean
  try {
    fresh = await deps.db.kysely.transaction().execute(async (trx) => {
      await insertReceived(trx, {
        dedupeKey: key,
        messageId: messageId ?? r.transferRef ?? '',
        serviceIdentifier: r.serviceIdentifier,
        transferRef: r.transferRef,
        now: now.getTime(),
      })
      if (r.sbd) await enqueueStatusReply(trx, deps.config, r.sbd, r.serviceIdentifier, 'FEIL', now, r.reason)
      return true
    })
  } catch (error) {
    // refused before (a confirm that was lost, a message delivered again): the FEIL is queued already.
    // Caught outside the transaction: PostgreSQL cannot go on in one after a failed statement.
    if (!isUniqueViolation(error)) throw error
    fresh = false
  }
  if (fresh) deps.onRefused?.({ service: r.serviceIdentifier, reason: r.kind })
  const sender = r.sbd ? getSender(r.sbd) : undefined
  forMessage(deps.logger, messageId ?? '').error(
    {
      messageId,
      sender: sender?.value ?? null,
      service: r.serviceIdentifier,
      transferRef: r.transferRef,
      refused: r.kind,
    },
    `refused an incoming ${r.serviceIdentifier} message: ${r.reason}`,
  )
  if (fresh && r.sbd) deps.onSendJob?.()
}
