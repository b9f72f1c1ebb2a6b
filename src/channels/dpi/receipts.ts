// DPI's receipts: one leased poller per channel (`kanal`) reads the access point's unread receipts
// (`GET /messages/in`, without and with each configured avsenderidentifikator) and turns each into
// statuses. Each receipt's JWS is verified, and its certificate must be the one the letter was encrypted
// to (the mailbox or print provider the letter went to): the access point passes on what it is given, so a
// receipt is trusted no further than its signature. Only once its statuses and the receipt are stored is it
// acknowledged (`read`); the reference acknowledges first and loses a receipt to a crash in between. A
// receipt seen again (stored, then the process died before `read`) is only acknowledged.
//
// A receipt that cannot be read or verified is set aside: kept in dpi_receipts with the reason, logged as
// an error, acknowledged when it has an id, and the others go on (the reference lets one such receipt stop
// its whole channel's poll, or leaves it to be read again every round).

import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import type { Db } from '../../db/open.js'
import { forMessage } from '../../util/log.js'
import type { Clock } from '../../util/time.js'
import type { StatusPort } from '../ports.js'
import type { C2Client, C2Message } from './c2-client.js'
import { type DpiReceipt, ReceiptError, readReceipt, receiptStatuses } from './receipt.js'
import { receiptRecorded, recordReceipt, sentInConversation } from './store.js'

export interface DpiReceiptDeps {
  db: Db
  clock: Clock
  logger: Logger
  client: C2Client
  statuses: StatusPort
}

export interface ReceiptQuery {
  kanal: string
  /** difi.move.dpi.pollWithoutAvsenderidentifikator adds a query without; each listed one adds one with it */
  avsenderidentifikatorer: readonly (string | null)[]
  pageSize: number
}

/**
 * One round on one channel: every query once. Returns how many receipts it took: a full page means more
 * may wait, and the poller runs again at once.
 */
export async function pollDpiReceipts(deps: DpiReceiptDeps, q: ReceiptQuery): Promise<number> {
  let taken = 0
  for (const avsenderidentifikator of q.avsenderidentifikatorer) {
    const items = await deps.client.receipts({
      kanal: q.kanal,
      ...(avsenderidentifikator ? { avsenderidentifikator } : {}),
      pageSize: q.pageSize,
    })
    let acked = 0
    for (const item of items) if (await takeReceipt(deps, q.kanal, item)) acked++
    // a full page of which none could be acknowledged would come back the same: do not run again at once
    if (items.length >= q.pageSize && acked > 0) taken += items.length
  }
  return taken
}

/** Takes one item; true when it was acknowledged (it will not come back). */
export async function takeReceipt(deps: DpiReceiptDeps, kanal: string, item: C2Message): Promise<boolean> {
  // an item that is not even a receipt's envelope: kept and reported; without an id it cannot be acknowledged
  if (item.invalid !== undefined) return setAside(deps, kanal, item, item.invalid, null)
  const raw = item.forretningsmelding
  let receipt: DpiReceipt
  try {
    receipt = await readReceipt(raw)
  } catch (error) {
    if (!(error instanceof ReceiptError)) throw error
    return setAside(deps, kanal, item, error.message, null)
  }
  if (await receiptRecorded(deps.db.kysely, receipt.id)) return acknowledge(deps, receipt.id)
  const letters = await sentInConversation(deps.db.kysely, receipt.conversationId)
  if (letters.length === 0) {
    deps.logger.warn(
      { receiptId: receipt.id, conversationId: receipt.conversationId, type: receipt.type, kanal },
      `DPI: a ${receipt.type} for conversation ${receipt.conversationId}, which has no letter sent from here; kept and acknowledged`,
    )
    await recordReceipt(
      deps.db.kysely,
      {
        receiptId: receipt.id,
        kanal,
        outcome: 'unknown-conversation',
        messageId: null,
        reason: 'no letter of this conversation was sent from here',
        raw,
      },
      deps.clock.now().getTime(),
    )
    return acknowledge(deps, receipt.id)
  }
  const fingerprint = createHash('sha256').update(receipt.certificate.raw).digest('hex')
  const letter = letters.find((l) => l.provider === receipt.provider && l.providerCertificate === fingerprint)
  if (!letter) {
    const providers = [...new Set(letters.map((l) => l.provider))].join(', ')
    return setAside(
      deps,
      kanal,
      item,
      `the ${receipt.type} is signed by ${receipt.certificate.subject.replaceAll('\n', ', ')} for ${receipt.provider}, ` +
        `not with the certificate of the provider the letter went to (${providers})`,
      receipt.id,
      letters[0]!.messageId,
    )
  }
  // a receipt proves the access point has the letter: SENDT comes first when the upload's answer was lost or
  // is still on its way (the sender's SENDT is then a no-op), so that a late SENDT never follows LEVERT or FEIL
  const updates = [{ status: 'SENDT' }, ...receiptStatuses(receipt, [])]
  const final = updates.some((u) => u.status === 'LEVERT' || u.status === 'FEIL')
  await deps.statuses.register(letter.messageId, updates, final ? { stopPolling: true } : undefined)
  await recordReceipt(
    deps.db.kysely,
    { receiptId: receipt.id, kanal, outcome: 'registered', messageId: letter.messageId, reason: null, raw },
    deps.clock.now().getTime(),
  )
  forMessage(deps.logger, letter.messageId).info(
    {
      messageId: letter.messageId,
      receiptId: receipt.id,
      type: receipt.type,
      statuses: updates.map((u) => u.status),
    },
    `DPI: ${receipt.type} for ${letter.messageId}`,
  )
  return acknowledge(deps, receipt.id)
}

/**
 * Keeps an item that cannot be trusted or read, with why, and acknowledges it when it has an id (its own,
 * read without trusting it, or the last part of its download URL), so it does not come back every round.
 */
async function setAside(
  deps: DpiReceiptDeps,
  kanal: string,
  item: C2Message,
  reason: string,
  id: string | null,
  messageId: string | null = null,
): Promise<boolean> {
  const raw = item.invalid === undefined ? item.forretningsmelding : item.raw
  const receiptId = id ?? (item.invalid === undefined ? unverifiedId(item) : null)
  const key = receiptId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`
  const isNew = await recordReceipt(
    deps.db.kysely,
    { receiptId: key, kanal, outcome: 'set-aside', messageId, reason, raw },
    deps.clock.now().getTime(),
  )
  if (isNew)
    deps.logger.error(
      { receiptId: key, kanal, messageId, reason },
      `DPI: a receipt on channel ${kanal} was set aside: ${reason}`,
    )
  return receiptId === null ? false : acknowledge(deps, receiptId)
}

async function acknowledge(deps: DpiReceiptDeps, receiptId: string): Promise<boolean> {
  await deps.client.markRead(receiptId)
  return true
}

const ID = /^[A-Za-z0-9._~-]{1,255}$/

/** The item's id without trusting it: its payload's instanceIdentifier, else its download URL's last segment. */
export function unverifiedId(item: { forretningsmelding: string; downloadurl?: string }): string | null {
  const payload = item.forretningsmelding.split('.')[1]
  if (payload) {
    try {
      const doc = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
      const id =
        doc?.standardBusinessDocument?.standardBusinessDocumentHeader?.documentIdentification
          ?.instanceIdentifier
      if (typeof id === 'string' && ID.test(id)) return id
    } catch {
      // not JSON: try the URL
    }
  }
  if (typeof item.downloadurl === 'string') {
    try {
      const last = new URL(item.downloadurl).pathname.split('/').filter(Boolean).at(-1)
      if (last && ID.test(decodeURIComponent(last))) return decodeURIComponent(last)
    } catch {
      // not a URL
    }
  }
  return null
}
