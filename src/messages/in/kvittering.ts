import type { Logger } from 'pino'
import { registerReceipt } from '../../conversations/receipts.js'
import { conversationsByMessageId } from '../../conversations/repository.js'
import type { Executor } from '../../db/open.js'
import { getMessageId } from '../../sbd/accessors.js'
import { serializeSbd } from '../../sbd/parse.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import { CORRELATION_ID } from '../../util/log.js'

/** ERROR and NOTSUPPORTED are failures; OK, WARNING and anything else mean the message was read. */
const FAILED = new Set(['ERROR', 'NOTSUPPORTED'])

/**
 * An incoming `arkivmelding_kvittering` (docs.digdir.no, eFormidling › Dokumenttyper) registers LEST or FEIL
 * on the outgoing conversation of the message it answers (`relatedToMessageId`), with the kvittering's JSON
 * as raw receipt. An unknown related message is logged and ignored, as any status for an unknown message.
 */
export async function registerKvittering(
  trx: Executor,
  logger: Logger,
  sbd: StandardBusinessDocument,
  now: number,
): Promise<void> {
  const related = sbd.businessMessage.relatedToMessageId
  const receiptType = String(sbd.businessMessage.receiptType ?? null)
  // the kvittering's own messageId, as every line about receiving it
  const id = { [CORRELATION_ID]: getMessageId(sbd) }
  if (typeof related !== 'string' || !related) {
    logger.info({ ...id, receiptType }, 'arkivmelding_kvittering without relatedToMessageId ignored')
    return
  }
  const outgoing = await conversationsByMessageId(trx, related, 'OUTGOING')
  if (!outgoing.length) {
    logger.info(
      { ...id, relatedToMessageId: related },
      'arkivmelding_kvittering for an unknown message ignored',
    )
    return
  }
  const status = {
    status: FAILED.has(receiptType) ? 'FEIL' : 'LEST',
    description: `ArkivmeldingKvittering: ${receiptType}`,
    rawReceipt: JSON.stringify(serializeSbd(sbd)[sbd.type]),
  }
  for (const conversation of outgoing) await registerReceipt(trx, conversation, status, now)
}
