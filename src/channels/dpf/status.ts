// DPF's status poller: SvarUt's status of each forsendelse we sent, asked a page at a time with one v3
// status search, as the reference's DpfStatusStrategy. LEST → LEST (with a synthesised
// arkivmelding_kvittering for the fagsystem when difi.move.arkivmelding.generate-arkivmelding-receipts is
// on); what the reference ignores goes through status-map.ts (refused or undelivered → FEIL, print →
// ANNET). A forsendelse SvarUt does not know is looked up by its eksternReferanse (our messageId), and
// without one it gets the reference's FEIL. A round may run twice (another instance takes over the lease):
// registering is idempotent and the receipt's messageId is made from the original's.

import type { Logger } from 'pino'
import type { Config } from '../../config/types.js'
import type { Db } from '../../db/open.js'
import { forMessage } from '../../util/log.js'
import type { Clock } from '../../util/time.js'
import { queueLocalReceipt, wantsLocalReceipt } from '../local-receipt.js'
import type { Intake, PolledMessage, StatusPort } from '../ports.js'
import { svarUtStatusUpdate } from './status-map.js'
import type { ForsendelseStatus, SvarUtClient } from './svarut-client.js'

export interface DpfStatusDeps {
  config: Config
  db: Db
  clock: Clock
  logger: Logger
  client: SvarUtClient
  statuses: StatusPort
  intake: Intake
}

/** one status search per page: SvarUt takes a list of ids, KS's client sends them in one call */
const PAGE = 100
/** the reference's words when SvarUt knows neither the forsendelse nor its eksternReferanse */
export const NOT_IN_SVARUT = 'forsendelseId finnes ikke i SvarUt.'

/**
 * One round over every polled DPF message, page by page. A page SvarUt does not answer is logged and
 * asked about again next round; the pages after it still are. Returns 0: the round saw them all, so
 * nothing waits for an immediate next one.
 */
export async function pollDpfStatuses(deps: DpfStatusDeps): Promise<number> {
  let after: string | undefined
  for (;;) {
    const page = await deps.statuses.pollable({ limit: PAGE, ...(after ? { after } : {}) })
    if (page.length > 0) await pollPage(deps, page)
    if (page.length < PAGE) return 0
    after = page.at(-1)!.messageId
  }
}

async function pollPage(deps: DpfStatusDeps, page: readonly PolledMessage[]): Promise<void> {
  let answers: ForsendelseStatus[]
  try {
    answers = await deps.client.statuses([...new Set(page.map((m) => m.reference))])
  } catch (err) {
    deps.logger.warn(
      { err, forsendelser: page.length, firstMessageId: page[0]!.messageId },
      `DPF: SvarUt's statuses of ${page.length} forsendelser could not be read; asking again next round: ${(err as Error).message}`,
    )
    return
  }
  // SvarUt's ids are UUIDs: compared without regard to case
  const byId = new Map(answers.map((s) => [s.id.toLowerCase(), s]))
  for (const m of page) {
    try {
      const status = byId.get(m.reference.toLowerCase())
      if (status) await registerStatus(deps, m, status)
      else await notAnswered(deps, m)
    } catch (err) {
      forMessage(deps.logger, m.messageId).warn(
        { err, messageId: m.messageId, forsendelseId: m.reference },
        `DPF: the status of forsendelse ${m.reference} could not be registered; asking again next round: ${(err as Error).message}`,
      )
    }
  }
}

async function registerStatus(deps: DpfStatusDeps, m: PolledMessage, s: ForsendelseStatus): Promise<void> {
  const update = svarUtStatusUpdate(s.status)
  if (!update) return
  // a status polled again (SENDT_PRINT each round until PRINTET) is nothing new
  if (!update.final && m.statuses.includes(update.status)) return
  if (update.status === 'LEST' && !m.statuses.includes('LEST') && wantsLocalReceipt(deps.config, m))
    await queueLocalReceipt(deps, 'dpf', m.messageId)
  const added = await deps.statuses.register(
    m.messageId,
    [{ status: update.status, description: update.description, rawReceipt: JSON.stringify(s) }],
    update.final ? { stopPolling: true } : undefined,
  )
  // A conversation holds each status once, so PRINTET after SENDT_PRINT (both ANNET) adds nothing; it is
  // still SvarUt's last word, and stopPolling in the same call ends the polling all the same.
  if (update.final && added.length === 0)
    forMessage(deps.logger, m.messageId).info(
      { messageId: m.messageId, forsendelseId: m.reference, svarUtStatus: s.status },
      `DPF: forsendelse ${m.reference} is ${s.status} in SvarUt; ${update.status} was registered already, polling stops`,
    )
}

/**
 * SvarUt left the forsendelse out of its answer (it does not know the id): as the reference, ask for
 * forsendelser with our messageId as eksternReferanse. None: FEIL, nothing more will come. Some: SvarUt
 * knows the message after all, so it is asked about again next round.
 */
async function notAnswered(deps: DpfStatusDeps, m: PolledMessage): Promise<void> {
  const found = await deps.client.findByEksternRef(m.messageId)
  if (found.length === 0) {
    await deps.statuses.register(m.messageId, [{ status: 'FEIL', description: NOT_IN_SVARUT }], {
      stopPolling: true,
    })
    return
  }
  forMessage(deps.logger, m.messageId).info(
    { messageId: m.messageId, forsendelseId: m.reference, found },
    `DPF: SvarUt did not answer for forsendelse ${m.reference} but knows eksternReferanse ${m.messageId}; asking again next round`,
  )
}
