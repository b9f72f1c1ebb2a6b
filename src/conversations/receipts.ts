import type { Executor } from '../db/open.js'
import type { ConversationRow, MessageStatusRow } from '../db/schema.js'
import { registerStatus, type StatusInput } from './repository.js'

/**
 * What a receipt from the receiving side proves happened before it. Receipts travel as separate
 * messages and jobs, so they can overtake each other and the sender's own SENDT (the sender may crash
 * after the upload and before recording it, and the receiver answers within milliseconds): a LEVERT
 * that arrives first still means the message was sent and received. LEST and FEIL (from an
 * arkivmelding_kvittering) need not follow LEVERT: the fagsystem may answer before it deletes.
 */
const IMPLIED: Record<string, readonly string[]> = {
  MOTTATT: ['SENDT'],
  LEVERT: ['SENDT', 'MOTTATT'],
  LEST: ['SENDT'],
  FEIL: ['SENDT'],
}

/**
 * Registers a receipt's status on an outgoing conversation, first registering what it implies and
 * the conversation lacks, so the statuses read in the order things happened. Each status is still
 * registered once: the sender's own SENDT, arriving later, is then a no-op.
 */
export async function registerReceipt(
  trx: Executor,
  conversation: Pick<ConversationRow, 'id'>,
  input: StatusInput,
  now: number,
): Promise<MessageStatusRow | undefined> {
  for (const status of IMPLIED[input.status] ?? []) await registerStatus(trx, conversation, { status }, now)
  return registerStatus(trx, conversation, input, now)
}
