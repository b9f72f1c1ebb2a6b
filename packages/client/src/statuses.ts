/**
 * Statuses of one message: all of them, and following them until its conversation is finished (the
 * API's `finished`, which the integration point sets at LEVERT, LEST, FEIL, LEVETID_UTLOPT and
 * INNKOMMENDE_LEVERT).
 *
 * isFinalStatus is a finer rule for a caller that wants to wait for a read receipt: after LEST, FEIL,
 * LEVETID_UTLOPT and (incoming) INNKOMMENDE_LEVERT nothing more comes. LEVERT ends the timeline too, except
 * where a LEST normally follows it: an `arkivmelding` (DPO: the receiver's fagsystem answers with an
 * arkivmelding_kvittering; DPV and DPF: the recipient reads it) and anything sent by DPV (Altinn reports
 * when it is read). A DPI opening receipt is asked for per message and usually is not, so DPI's LEVERT
 * counts as final.
 */
import type { Http } from './http.js'
import { parseJson, pause } from './http.js'
import type { Conversation, MessageStatus, Page } from './models/api.js'

/** The statuses after which nothing more comes, whatever the message. */
export const FINAL_STATUSES: readonly string[] = ['LEST', 'FEIL', 'LEVETID_UTLOPT', 'INNKOMMENDE_LEVERT']

/** What decides whether LEVERT is final: the conversation's service and document type. */
export interface StatusContext {
  serviceIdentifier?: string
  /** the document type URN (`documentIdentifier` of the conversation), or the bare type */
  documentIdentifier?: string
}

/** Whether nothing more will come after `status` for a message of this kind (see the module comment). */
export function isFinalStatus(status: string, context: StatusContext = {}): boolean {
  if (FINAL_STATUSES.includes(status)) return true
  if (status !== 'LEVERT') return false
  return !readReceiptFollows(context)
}

function readReceiptFollows({ serviceIdentifier, documentIdentifier }: StatusContext): boolean {
  if (serviceIdentifier === 'DPV') return true
  const type = documentIdentifier?.split('::').pop()
  return type === 'arkivmelding'
}

export interface FollowOptions {
  /** between polls; default 1000 */
  intervalMs?: number
  /** ends the iterator (quietly) */
  signal?: AbortSignal
  /** the statuses to stop after, instead of the rule above (e.g. `['LEVERT', ...FINAL_STATUSES]`) */
  until?: readonly string[]
}

const PAGE_SIZE = 500

/** Every status of a message, oldest first, over as many pages as it takes. */
export async function allStatuses(
  http: Http,
  messageId: string,
  signal?: AbortSignal,
): Promise<MessageStatus[]> {
  const out: MessageStatus[] = []
  for (let page = 0; ; page++) {
    const answer = http.check(
      await http.request({
        method: 'GET',
        path: `/api/statuses/${encodeURIComponent(messageId)}`,
        query: { page, size: PAGE_SIZE, sort: 'id,asc' },
        signal,
      }),
    )
    const result = parseJson<Page<MessageStatus>>(answer)
    out.push(...result.content)
    if (result.last || result.content.length === 0) return out
  }
}

/**
 * Yields each new status once, in order, and ends when the message's conversation says it is finished
 * (the API's `finished`: after LEVERT, LEST, FEIL, LEVETID_UTLOPT or INNKOMMENDE_LEVERT), after the status
 * that finished it; with `until`, at one of those statuses instead. Without a conversation to ask (an
 * integration point that keeps none for it), the rule of isFinalStatus decides.
 */
export async function* followStatuses(
  http: Http,
  messageId: string,
  opts: FollowOptions = {},
): AsyncIterableIterator<MessageStatus> {
  const seen = new Set<number>()
  const aborted = () => opts.signal?.aborted === true
  while (!aborted()) {
    // the conversation before the statuses: when it says finished, the statuses read after it hold
    // the one that finished it
    const conversation = opts.until
      ? undefined
      : await conversationOf(http, messageId).catch(rethrowUnlessAborted(opts.signal))
    const statuses = await allStatuses(http, messageId, opts.signal).catch(rethrowUnlessAborted(opts.signal))
    if (!statuses) return
    for (const status of statuses) {
      if (seen.has(status.id)) continue
      seen.add(status.id)
      yield status
      if (opts.until?.includes(status.status)) return
      if (!opts.until && conversation === null && isFinalStatus(status.status)) return
    }
    if (conversation?.finished) return
    const slept = await pause(opts.intervalMs ?? 1000, opts.signal).then(
      () => true,
      rethrowUnlessAborted(opts.signal),
    )
    if (!slept) return
  }
}

function rethrowUnlessAborted(signal: AbortSignal | undefined) {
  return (error: unknown): undefined => {
    if (signal?.aborted) return undefined
    throw error
  }
}

/** The message's conversation (either direction); null when the integration point has none for it. */
async function conversationOf(http: Http, messageId: string): Promise<Conversation | null> {
  const answer = await http.request({ method: 'GET', path: '/api/conversations', query: { messageId } })
  if (answer.status !== 200) return null
  return parseJson<Page<Conversation>>(answer).content[0] ?? null
}
