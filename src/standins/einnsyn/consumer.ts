// eInnsyn's integration points reading their queues (`nextbestqueue910076787data` and `…meeting`). They
// sit in the Service Bus stand-in's process, so they take messages through its store rather than its
// REST API: the same peek-lock and complete a REST consumer gets (a crash mid-way leaves the message
// to come back when its lock expires, MaxDeliveryCount still dead-letters), without a SAS key to keep
// in step with the ServiceRegistry's, and without a request to ourselves that could fail on its own.

import { randomUUID } from 'node:crypto'
import type pino from 'pino'
import { DpeBodyError, decodeBody, encodeBody, maxBodyBytes } from '../../channels/dpe/body.js'
import { kvitteringQueue, ownQueue, statusQueue } from '../../channels/dpe/queues.js'
import { ApiError } from '../../errors/api-error.js'
import { getConversationId, getMessageId, getProcess } from '../../sbd/accessors.js'
import { parseSbd } from '../../sbd/parse.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import type { Clock } from '../../util/time.js'
import type { ExtensionContext } from '../service-bus/server.js'
import type { MessageRow } from '../service-bus/store.js'
import { EinnsynError, type EinnsynKeys, virksert } from './keys.js'
import { EINNSYN_ORGNR, kvitteringSbd, statusSbd } from './messages.js'
import { kvitteringStatus, readPublisering } from './publisering.js'
import type { EinnsynStore } from './store.js'

/** the queues eInnsyn's two integration points read: journal posts (`data`) and meetings */
export const EINNSYN_QUEUES = [ownQueue(EINNSYN_ORGNR, 'data'), ownQueue(EINNSYN_ORGNR, 'meeting')]

/** as the reference's development profile polls Service Bus; arrivals wake the consumer sooner */
const POLL_MS = 5000
/** messages taken in one round, so one busy queue cannot hold a round forever */
const MAX_PER_ROUND = 200
/** DPE's upload limit (2 MB), from which the largest body read follows */
const MAX_BODY = maxBodyBytes(2 * 1024 * 1024)

export interface ConsumerDeps {
  bus: ExtensionContext
  store: EinnsynStore
  keys: () => Promise<EinnsynKeys>
  registryUrl: string
  /** stamps the answers' SBDs; locks follow the Service Bus's own clock */
  clock: Clock
  logger: pino.Logger
  tempDir: string
}

export interface Consumer {
  start(): void
  stop(): Promise<void>
  nudge(): void
  /** one round over both queues (after the one under way, if any); the number of messages taken */
  tick(): Promise<number>
}

export function createConsumer(deps: ConsumerDeps): Consumer {
  let current: Promise<number> | undefined
  let next: Promise<number> | undefined
  let timer: NodeJS.Timeout | undefined
  let stopped = true
  const tick = (): Promise<number> => {
    if (!current) {
      current = round(deps).finally(() => {
        current = undefined
      })
      return current
    }
    next ??= current
      .catch(() => 0)
      .then(() => {
        next = undefined
        return tick()
      })
    return next
  }
  const nudge = () =>
    void tick().catch((error) => deps.logger.warn({ err: error }, 'eInnsyn stand-in: a round failed'))
  const schedule = () => {
    if (stopped) return
    timer = setTimeout(() => {
      nudge()
      schedule()
    }, POLL_MS)
    timer.unref()
  }
  return {
    start() {
      if (!stopped) return
      stopped = false
      nudge()
      schedule()
    },
    async stop() {
      stopped = true
      clearTimeout(timer)
      await Promise.allSettled([current, next])
    },
    nudge,
    tick,
  }
}

async function round(deps: ConsumerDeps): Promise<number> {
  let taken = 0
  for (const queue of EINNSYN_QUEUES) {
    const entity = { queue, deadLetter: false }
    while (taken < MAX_PER_ROUND) {
      const now = () => deps.bus.clock.now().getTime()
      const { lockDurationMs, maxDeliveryCount } = deps.bus.settings
      const row = deps.bus.store.peekLock(entity, now(), lockDurationMs, maxDeliveryCount)
      if (!row) break
      taken++
      try {
        await takeIn(deps, row)
      } catch (error) {
        // the registry down, a full disk: given back, to be tried again at the next round
        deps.logger.warn({ err: error, queue, messageId: row.message_id }, 'eInnsyn stand-in: will try again')
        deps.bus.store.unlock(entity, row.message_id, row.lock_token!, now())
        break
      }
      deps.bus.store.complete(entity, row.message_id, row.lock_token!, now())
    }
  }
  return taken
}

/** One message: a publisering is answered, a status recorded against its innsynskrav, the rest recorded. */
async function takeIn(deps: ConsumerDeps, row: MessageRow): Promise<void> {
  const received = deps.clock.now().getTime()
  const other = (note: string, sbd?: StandardBusinessDocument) =>
    deps.store.addOther({
      queue: row.queue,
      message_id: sbd ? (getMessageId(sbd) ?? null) : null,
      type: sbd?.type ?? null,
      sender: sbd ? senderOf(sbd) : null,
      note,
      received,
    })
  let sbd: StandardBusinessDocument
  let cms: Buffer | null
  try {
    const body = decodeBody(row.body, MAX_BODY)
    sbd = parseSbd(body.sbd)
    cms = body.cms
  } catch (error) {
    if (!(error instanceof DpeBodyError) && !(error instanceof ApiError)) throw error
    return other(`not a DPE message: ${error.message}`)
  }
  const messageId = getMessageId(sbd)
  if (sbd.type === 'status') {
    const status = String(sbd.businessMessage.status ?? '')
    if (messageId && deps.store.innsynskrav(messageId))
      return deps.store.addStatus(messageId, status, received)
    return other(`status ${status} for no innsynskrav eInnsyn sent`, sbd)
  }
  if (sbd.type !== 'publisering' || !messageId) return other('kept: eInnsyn answers only publiseringer', sbd)
  if (!/^\d{9}$/.test(senderOf(sbd))) return other('a publisering from no organisation (0192:<orgnr>)', sbd)
  // already answered: a redelivery after the answers went out but before the message was completed
  if (deps.store.publisering(messageId)) return
  await answerPublisering(deps, row, sbd, messageId, cms, received)
}

async function answerPublisering(
  deps: ConsumerDeps,
  row: MessageRow,
  sbd: StandardBusinessDocument,
  messageId: string,
  cms: Buffer | null,
  received: number,
): Promise<void> {
  const sender = senderOf(sbd)
  const read = cms
    ? await readPublisering({
        cms,
        keys: await deps.keys(),
        tempDir: deps.tempDir,
        // an organisation the registry does not know is refused; the registry down is tried again
        senderCert: () =>
          virksert(deps.registryUrl, sender).catch((error) => {
            if (error instanceof EinnsynError && error.status === 422) return null
            throw error
          }),
      })
    : ({ ok: false, reason: 'the publisering has no ASiC-E' } as const)
  const base = {
    message_id: messageId,
    conversation_id: getConversationId(sbd) ?? null,
    sender,
    orgnr: typeof sbd.businessMessage.orgnr === 'string' ? sbd.businessMessage.orgnr : null,
    process: getProcess(sbd) ?? null,
    queue: row.queue,
    received,
  }
  if (!read.ok) {
    // as an integration point refuses what it cannot read: not taken in, so nothing to answer
    deps.logger.warn({ messageId, reason: read.reason }, 'eInnsyn stand-in: publisering refused')
    return deps.store.addPublisering({
      ...base,
      outcome: 'refused',
      reason: read.reason,
      filename: null,
      content: null,
      kvittering_id: null,
      kvittering_status: null,
    })
  }
  const now = deps.clock.now()
  const kvitteringId = randomUUID()
  const receipt = kvitteringStatus(read.content, messageId, now)
  const send = (queue: string, doc: Record<string, unknown>) => {
    deps.bus.store.send(
      queue,
      {
        messageId: undefined,
        body: encodeBody(doc, null),
        contentType: 'application/octet-stream',
        properties: {},
        timeToLiveMs: deps.bus.settings.defaultTimeToLiveMs,
      },
      deps.bus.clock.now().getTime(),
    )
    deps.bus.arrivals.arrived(queue)
  }
  // eInnsyn's integration points read in mode `data` or `meeting`: both answer the agency's `innsyn` queue.
  // The answers and the row are written with no await between them, so only a crash in that instant
  // sends them twice (the statuses carry the publisering's messageId, which the agency deduplicates).
  send(statusQueue(sender, 'data', null), statusSbd(sbd, 'MOTTATT', now))
  send(statusQueue(sender, 'data', null), statusSbd(sbd, 'LEVERT', now))
  send(
    kvitteringQueue(sender, 'publisering', null),
    kvitteringSbd(sbd, {
      messageId: kvitteringId,
      dokumentId: receipt.dokumentId,
      status: receipt.status,
      now,
    }),
  )
  deps.store.addPublisering({
    ...base,
    outcome: 'answered',
    reason: null,
    filename: read.filename,
    content: read.content,
    kvittering_id: kvitteringId,
    kvittering_status: receipt.status,
  })
}

/** the SBD's sender as a bare organisation number */
function senderOf(sbd: StandardBusinessDocument): string {
  const value = sbd.standardBusinessDocumentHeader.sender?.[0]?.identifier?.value ?? ''
  return value.replace(/^0192:/, '')
}
