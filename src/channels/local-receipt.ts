// The arkivmelding_kvittering an integration point makes itself when the service carries none back, as
// the reference does for DPV (the correspondence is published) and DPF (SvarUt says LEST), when
// difi.move.arkivmelding.generate-arkivmelding-receipts is on: an OK receipt from the recipient, put on our
// own incoming queue for the fagsystem. A status round may run twice, so the receipt's messageId and its
// transferRef are made from the original's messageId: the intake takes it once.

import { createHash } from 'node:crypto'
import type { Config } from '../config/types.js'
import { conversationsByMessageId } from '../conversations/repository.js'
import type { Db } from '../db/open.js'
import { defaultTypeVersion } from '../sbd/prototype.js'
import { ISO6523_ACTORID_UPIS, type StandardBusinessDocument } from '../sbd/types.js'
import { type Clock, formatOslo } from '../util/time.js'
import type { Intake, PolledMessage } from './ports.js'

export interface LocalReceiptDeps {
  config: Config
  db: Db
  clock: Clock
  intake: Intake
}

/**
 * The channel that made the receipt (`dpv`, `dpf`): it names the receipt's messageId and its transferRef,
 * so two channels never make the same receipt. DPV's names are the ones it has always used.
 */
export type ReceiptMaker = 'dpv' | 'dpf'

/** Whether the message's fagsystem gets a receipt made here: an arkivmelding, with receipts switched on. */
export function wantsLocalReceipt(config: Config, m: Pick<PolledMessage, 'type'>): boolean {
  return config.arkivmelding.generateReceipts && m.type === 'arkivmelding'
}

/**
 * Queues the OK receipt for `messageId` on our own incoming queue. It reports nothing on the message it
 * names (the channel registers that status itself). A conversation without both parties (it cannot be
 * addressed back) gets none.
 */
export async function queueLocalReceipt(
  deps: LocalReceiptDeps,
  maker: ReceiptMaker,
  messageId: string,
): Promise<void> {
  const [conversation] = await conversationsByMessageId(deps.db.kysely, messageId, 'OUTGOING')
  if (!conversation?.receiver || !conversation.sender) return
  await deps.intake.take({
    sbd: receiptFor(deps, maker, messageId, {
      conversationId: conversation.conversation_id,
      sender: conversation.sender,
      receiver: conversation.receiver,
    }),
    asic: null,
    transferRef: `${maker}-receipt:${messageId}`,
    // the service delivered it to this recipient: the receipt speaks for it, made here
    authenticatedSender: conversation.receiver,
    localReceipt: true,
  })
}

function receiptFor(
  deps: LocalReceiptDeps,
  maker: ReceiptMaker,
  messageId: string,
  c: { conversationId: string; sender: string; receiver: string },
): StandardBusinessDocument {
  const now = deps.clock.now().getTime()
  const party = (value: string) => [{ identifier: { value, authority: ISO6523_ACTORID_UPIS } }]
  const { arkivmelding } = deps.config
  return {
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      sender: party(c.receiver),
      receiver: party(c.sender),
      documentIdentification: {
        standard: arkivmelding.receiptDocumentType,
        typeVersion: defaultTypeVersion('arkivmelding_kvittering'),
        instanceIdentifier: localReceiptMessageId(maker, messageId),
        type: 'arkivmelding_kvittering',
        creationDateAndTime: formatOslo(now),
      },
      businessScope: {
        scope: [
          {
            type: 'ConversationId',
            instanceIdentifier: c.conversationId,
            identifier: arkivmelding.receiptProcess,
            scopeInformation: [
              {
                expectedResponseDateTime: formatOslo(now + deps.config.nextmove.defaultTtlHours * 3_600_000),
              },
            ],
          },
        ],
      },
    },
    type: 'arkivmelding_kvittering',
    businessMessage: { receiptType: 'OK', relatedToMessageId: messageId, messages: [] },
  }
}

/** A UUID (version 5 layout) made from the original's messageId: the same receipt every round. */
export function localReceiptMessageId(maker: ReceiptMaker, messageId: string): string {
  const h = createHash('sha1').update(`${maker}-arkivmelding-kvittering:${messageId}`).digest()
  h[6] = (h[6]! & 0x0f) | 0x50
  h[8] = (h[8]! & 0x3f) | 0x80
  const hex = h.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
