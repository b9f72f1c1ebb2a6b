// DPV's status poller: each sent correspondence's overview, as the reference's DpvStatusStrategy, and what
// it misses. Published → LEVERT (with a synthesised arkivmelding_kvittering for the fagsystem when
// difi.move.arkivmelding.generate-arkivmelding-receipts is on), read → LEST, Failed or Reserved → FEIL with
// Altinn's reason (the reference never surfaces them), purged or gone (404/410) → ANNET and no more polling.
// A round may run twice (another instance takes over the lease): registering is idempotent and the receipt
// has a messageId made from the original's, so the intake takes it once.

import type { Logger } from 'pino'
import type { Config } from '../../config/types.js'
import type { Db } from '../../db/open.js'
import { forMessage } from '../../util/log.js'
import type { Clock } from '../../util/time.js'
import { BrokerError } from '../altinn-errors.js'
import { localReceiptMessageId, queueLocalReceipt, wantsLocalReceipt } from '../local-receipt.js'
import type { Intake, PolledMessage, StatusPort, StatusUpdate } from '../ports.js'
import type { CorrespondenceClient, CorrespondenceOverview } from './client.js'

export interface DpvStatusDeps {
  config: Config
  db: Db
  clock: Clock
  logger: Logger
  client: CorrespondenceClient
  statuses: StatusPort
  intake: Intake
}

const PAGE = 100
/** the reference's words when Altinn no longer knows a correspondence */
export const DELETED_IN_ALTINN = 'Melding slettet i Altinn, stopper polling.'
const PURGED = new Set(['PurgedByRecipient', 'PurgedByAltinn'])
const FAILED = new Set(['Failed', 'Reserved'])

/**
 * One round over every polled DPV message, page by page. A message whose overview cannot be read is
 * logged and asked about again next round; it does not hold up the others. Returns 0: the round saw
 * them all, so nothing waits for an immediate next one.
 */
export async function pollDpvStatuses(deps: DpvStatusDeps): Promise<number> {
  let after: string | undefined
  for (;;) {
    const page = await deps.statuses.pollable({ limit: PAGE, ...(after ? { after } : {}) })
    for (const m of page) {
      try {
        await pollOne(deps, m)
      } catch (err) {
        forMessage(deps.logger, m.messageId).warn(
          { err, messageId: m.messageId, correspondenceId: m.reference },
          `DPV: the status of correspondence ${m.reference} could not be read; asking again next round: ${(err as Error).message}`,
        )
      }
    }
    if (page.length < PAGE) return 0
    after = page.at(-1)!.messageId
  }
}

async function pollOne(deps: DpvStatusDeps, m: PolledMessage): Promise<void> {
  let overview: CorrespondenceOverview
  try {
    overview = await deps.client.overview(m.reference)
  } catch (error) {
    if (error instanceof BrokerError && (error.status === 404 || error.status === 410)) {
      await deps.statuses.register(m.messageId, [{ status: 'ANNET', description: DELETED_IN_ALTINN }], {
        stopPolling: true,
      })
      return
    }
    throw error
  }
  const status = overview.status ?? ''
  const raw = JSON.stringify(overview)
  if (FAILED.has(status)) {
    const reason = overview.statusText || status
    await deps.statuses.register(
      m.messageId,
      [{ status: 'FEIL', description: `Altinn: ${status}: ${reason}`, rawReceipt: raw }],
      { stopPolling: true },
    )
    return
  }
  if (PURGED.has(status)) {
    await deps.statuses.register(
      m.messageId,
      [{ status: 'ANNET', description: DELETED_IN_ALTINN, rawReceipt: raw }],
      { stopPolling: true },
    )
    return
  }
  const updates: StatusUpdate[] = []
  if (overview.published) {
    if (!m.statuses.includes('LEVERT') && wantsLocalReceipt(deps.config, m))
      await queueLocalReceipt(deps, 'dpv', m.messageId)
    updates.push({ status: 'LEVERT', rawReceipt: raw })
  }
  // anything else (Initialized, ReadyForPublish, Fetched, Forwarded, a status Altinn adds later) says nothing new
  if (overview.read) updates.push({ status: 'LEST', rawReceipt: raw })
  if (updates.length > 0) await deps.statuses.register(m.messageId, updates)
}

/** The synthesised receipt's messageId (local-receipt.ts), as DPV has always named it. */
export function receiptMessageId(messageId: string): string {
  return localReceiptMessageId('dpv', messageId)
}
