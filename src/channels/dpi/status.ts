// DPI's status poller: the access point's statuses of each letter we handed it
// (`GET /messages/out/{messageId}/statuses`), as the reference's DpiStatusStrategy: OPPRETTET (the access
// point has it) is our SENDT, SENDT (the receiver's access point has it) → MOTTATT, FEILET → FEIL with the
// access point's words. The reference stops asking at MOTTATT, so a FEILET after that is never seen; we go
// on asking until the letter is LEVERT or FEIL (a receipt usually ends it first) or its time to live ends.

import type { Logger } from 'pino'
import { forMessage } from '../../util/log.js'
import type { PolledMessage, StatusPort, StatusUpdate } from '../ports.js'
import type { C2Client, C2Status } from './c2-client.js'

export interface DpiStatusDeps {
  logger: Logger
  client: C2Client
  statuses: StatusPort
}

const PAGE = 100

/** the reference's descriptions of the access point's statuses */
export const STATUS_TEXT = {
  MOTTATT: 'Hjørne 3 har mottatt meldingen',
  FEIL: 'Generell melding om at det har skjedd en feil',
} as const

/** One round over every polled DPI letter; returns 0 (the round saw them all). */
export async function pollDpiStatuses(deps: DpiStatusDeps): Promise<number> {
  let after: string | undefined
  for (;;) {
    const page = await deps.statuses.pollable({ limit: PAGE, ...(after ? { after } : {}) })
    for (const m of page) await pollOne(deps, m)
    if (page.length < PAGE) return 0
    after = page.at(-1)!.messageId
  }
}

async function pollOne(deps: DpiStatusDeps, m: PolledMessage): Promise<void> {
  const log = forMessage(deps.logger, m.messageId)
  try {
    const answer = await deps.client.statuses(m.reference)
    if (answer === null) {
      log.warn(
        { messageId: m.messageId },
        `DPI: the access point does not know letter ${m.messageId} (404); asking again next round`,
      )
      return
    }
    const { updates, final } = statusUpdates(answer, m.statuses)
    if (updates.length > 0 || final)
      await deps.statuses.register(m.messageId, updates, final ? { stopPolling: true } : undefined)
  } catch (err) {
    log.warn(
      { err, messageId: m.messageId },
      `DPI: the access point's statuses of ${m.messageId} could not be read; asking again next round: ${(err as Error).message}`,
    )
  }
}

/**
 * What the access point's statuses add to a conversation that has `has`: MOTTATT for its SENDT, FEIL
 * for its FEILET (final). OPPRETTET is our SENDT, registered when the upload was answered. Unknown
 * statuses are ignored. A letter already LEVERT or FEIL needs no more asking (final).
 */
export function statusUpdates(
  answer: readonly C2Status[],
  has: readonly string[],
): { updates: StatusUpdate[]; final: boolean } {
  const updates: StatusUpdate[] = []
  const failed = answer.find((s) => s.status === 'FEILET')
  if (failed) {
    const text = failed.beskrivelse ? `${STATUS_TEXT.FEIL}: ${failed.beskrivelse}` : STATUS_TEXT.FEIL
    if (!has.includes('FEIL'))
      updates.push({ status: 'FEIL', description: text, rawReceipt: JSON.stringify(failed) })
    return { updates, final: true }
  }
  const sent = answer.find((s) => s.status === 'SENDT')
  if (sent && !has.includes('MOTTATT'))
    updates.push({ status: 'MOTTATT', description: STATUS_TEXT.MOTTATT, rawReceipt: JSON.stringify(sent) })
  return { updates, final: has.includes('LEVERT') || has.includes('FEIL') }
}
