import { randomUUID } from 'node:crypto'
import { signJws } from '../../packaging/jws.js'
import { dpiReceipt } from '../../sbd/dpi.js'
import type { ProviderKeys } from './keys.js'
import type { LetterRow, ReceiptRow } from './store.js'

/** the receipt types the simulated mailbox and printer make (`feil` included) */
export type ReceiptType =
  | 'leveringskvittering'
  | 'aapningskvittering'
  | 'mottakskvittering'
  | 'returpostkvittering'
  | 'varslingfeiletkvittering'
  | 'feil'

export interface ReceiptDetails {
  varslingskanal?: 'epost' | 'sms'
  beskrivelse?: string
  feiltype?: 'KLIENT' | 'SERVER'
  detaljer?: string
}

export type NewReceipt = Omit<ReceiptRow, 'seq' | 'read_at'>

/**
 * A receipt on `letter` as its mailbox or print provider makes one: the business message built by
 * dpiReceipt (the provider as sender, the original sender as receiver, the original ConversationId
 * scope), signed with the provider's key, queued in the letter's kanal with its avsenderidentifikator.
 */
export async function makeReceipt(
  letter: LetterRow,
  type: ReceiptType,
  signer: ProviderKeys,
  now: Date,
  details: ReceiptDetails = {},
): Promise<NewReceipt> {
  const id = randomUUID()
  const document = dpiReceipt({
    type,
    original: JSON.parse(letter.payload),
    provider: letter.provider,
    id,
    tidspunkt: now,
    now,
    ...details,
  })
  return row(letter, id, type, await signJws(document, signer), now)
}

/** the queue row of a receipt on `letter`, whatever its JWS (the sandbox's bad ones too) */
export function row(letter: LetterRow, id: string, type: string, jws: string, now: Date): NewReceipt {
  return {
    id,
    message_id: letter.id,
    type,
    kanal: letter.kanal,
    avsenderidentifikator: letter.avsenderidentifikator,
    sender_org: letter.sender_org,
    avsender_org: letter.avsender_org,
    jws,
    created: now.getTime(),
  }
}
