// The send jobs' handlers (as the reference's NextMoveSender): an outgoing message goes to the channel of its
// service; SENDT and the removal of the message and its files commit together on success. Expiry,
// permanent refusals and retries run out as the reference's intent: LEVETID_UTLOPT or FEIL, the
// message removed, the conversation kept.

import type { Logger } from 'pino'
import { forgetHandover } from '../../channels/handovers.js'
import type { RunningChannel, SendOutcome, StatusUpdate } from '../../channels/ports.js'
import {
  conversationsByMessageId,
  keepFileList,
  registerStatus,
  updateConversation,
} from '../../conversations/repository.js'
import { registerAll } from '../../conversations/status-port.js'
import { LEVETID_UTLOPT_DESCRIPTION } from '../../conversations/statuses.js'
import type { Db, Executor } from '../../db/open.js'
import type { JobRow, OutFileRow } from '../../db/schema.js'
import type { PayloadStore } from '../../files/payload-store.js'
import type { JobHandler } from '../../jobs/runner.js'
import { getExpectedResponseDateTime, getMessageId } from '../../sbd/accessors.js'
import { parseSbd } from '../../sbd/parse.js'
import type { ServiceIdentifier, StandardBusinessDocument } from '../../sbd/types.js'
import { forMessage } from '../../util/log.js'
import type { Clock } from '../../util/time.js'
import { finishInOneStatement } from './one-statement.js'
import { outPayloadFolder } from './orphans.js'
import { deleteOutMessageById, outMessageWithFiles } from './repository.js'
import { storedSbd } from './stored.js'

/** What the send jobs need of a channel (ports.ts): its send port. */
export type OutgoingChannel = Pick<RunningChannel, 'send'>

export type OutgoingChannels = Partial<Record<ServiceIdentifier, OutgoingChannel>>

export interface DispatchDeps {
  db: Db
  clock: Clock
  logger: Logger
  payloads: PayloadStore
  channels: OutgoingChannels
  /** told how long each message took to hand to its service (metrics) */
  onSendTimed?: (e: { service: string; seconds: number; ok: boolean }) => void
}

export function sendJobHandler(deps: DispatchDeps): JobHandler {
  return async (job) => {
    const { messageId } = JSON.parse(job.payload) as { messageId: string }
    // a SENDING message's files no longer change (uploads need CREATED): read once, kept by finish
    const read = await outMessageWithFiles(deps.db, messageId)
    // deleted by the fagsystem (or already sent by a worker whose lease ran out): nothing to do
    if (read?.message.state !== 'SENDING') return { ok: true }
    const { message, files } = read
    const sbd = storedSbd(message)
    const now = deps.clock.now().getTime()
    if (expired(sbd, now)) {
      await finish(deps, messageId, files, {
        status: 'LEVETID_UTLOPT',
        description: LEVETID_UTLOPT_DESCRIPTION,
      })
      forMessage(deps.logger, messageId).warn({ messageId }, 'message expired before it could be sent')
      return { ok: true }
    }
    const si = message.service_identifier as ServiceIdentifier
    const channel = deps.channels[si]
    if (!channel) {
      const error = `${si} is not a service this integration point can send with (enabled and built: ${Object.keys(deps.channels).join(', ') || 'none'})`
      await finish(deps, messageId, files, { status: 'FEIL', description: error })
      return { ok: false, error, retryable: false }
    }
    const started = performance.now()
    const timed = (ok: boolean) =>
      deps.onSendTimed?.({ service: si, seconds: (performance.now() - started) / 1000, ok })
    let outcome: SendOutcome
    try {
      outcome = await channel.send({ purpose: sendPurpose(messageId), sbd, files })
    } catch (error) {
      // a channel says how a send ended; one that throws has a fault of its own, which may pass
      outcome = { outcome: 'retry', reason: describe(error) }
    }
    timed(outcome.outcome === 'delivered')
    switch (outcome.outcome) {
      case 'retry':
        return { ok: false, error: outcome.reason, retryable: true }
      case 'failed':
        await finish(deps, messageId, files, {
          status: 'FEIL',
          description: `Request to receiver failed delivery over ${si}: ${outcome.reason}`,
        })
        return { ok: false, error: outcome.reason, retryable: false }
      case 'expired':
        await finish(deps, messageId, files, { status: 'LEVETID_UTLOPT', description: outcome.reason })
        forMessage(deps.logger, messageId).warn(
          { messageId, service: si },
          `message expired: ${outcome.reason}`,
        )
        return { ok: true }
      case 'delivered':
        break
    }
    await finish(deps, messageId, files, { status: 'SENDT' }, outcome)
    forMessage(deps.logger, messageId).info({ messageId, service: si }, 'message sent')
    return { ok: true }
  }
}

/** When a send job's retries run out: FEIL, and the message goes (as the reference's dead letter). */
export async function sendGivenUp(deps: DispatchDeps, job: JobRow, error: string): Promise<void> {
  if (!job.message_id) return
  const read = await outMessageWithFiles(deps.db, job.message_id)
  if (!read) return
  const { message, files } = read
  await finish(deps, job.message_id, files, {
    status: 'FEIL',
    description: `Request to receiver failed delivery over ${message.service_identifier}, retries used up: ${error}`,
  })
}

export function statusReplyJobHandler(deps: DispatchDeps): JobHandler {
  return async (job) => {
    const payload = JSON.parse(job.payload) as { service: ServiceIdentifier; sbd: unknown }
    const sbd = parseSbd(payload.sbd)
    const status = String(sbd.businessMessage.status ?? 'UNKNOWN')
    if (expired(sbd, deps.clock.now().getTime())) {
      forMessage(deps.logger, job.message_id).warn(
        { messageId: job.message_id, status },
        'status message expired before it was sent',
      )
      return { ok: true }
    }
    const channel = deps.channels[payload.service]
    if (!channel)
      return { ok: false, error: `no ${payload.service} channel for status messages`, retryable: false }
    const purpose = `status:${getMessageId(sbd)}:${status}`
    let outcome: SendOutcome
    try {
      outcome = await channel.send({ purpose, sbd, files: [] })
    } catch (error) {
      outcome = { outcome: 'retry', reason: describe(error) }
    }
    switch (outcome.outcome) {
      case 'retry':
        return { ok: false, error: outcome.reason, retryable: true }
      case 'failed':
        return { ok: false, error: outcome.reason, retryable: false }
      case 'expired':
        forMessage(deps.logger, job.message_id).warn(
          { messageId: job.message_id, status },
          `status message expired: ${outcome.reason}`,
        )
        break
      case 'delivered':
        break
    }
    // The record of the handover stays (retention removes it): were it forgotten here, a crash before the
    // job is marked done would run the job again without it and hand the service a second copy. With it,
    // the rerun finds what it handed over and makes nothing new.
    return { ok: true }
  }
}

/** The purpose a send's handover is recorded under (channels/handovers.ts), forgotten when the send ends. */
function sendPurpose(messageId: string): string {
  return `send:${messageId}`
}

function expired(sbd: StandardBusinessDocument, now: number): boolean {
  const expiry = getExpectedResponseDateTime(sbd)?.instant
  return expiry !== undefined && expiry < now
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Registers the final status of the attempt and removes the message, keeping the list of its `files` (read
 * by the caller: a SENDING message's files do not change); the files themselves go after the commit, or
 * with it where the payload store can remove them in the end's one statement (PostgreSQL).
 */
async function finish(
  deps: DispatchDeps,
  messageId: string,
  files: OutFileRow[],
  status: { status: string; description?: string },
  delivered?: { reference?: string; statuses?: readonly StatusUpdate[] },
): Promise<void> {
  const now = deps.clock.now().getTime()
  const folder = outPayloadFolder(messageId)
  // PostgreSQL: a round trip each costs more than the statements (one-statement.ts)
  if (deps.db.caps.name === 'postgres' && !delivered?.reference && !delivered?.statuses) {
    const payloads = deps.payloads.removeDirInStatement?.(folder)
    const end = { messageId, purpose: sendPurpose(messageId), files, status, now, payloads }
    if (!(await finishInOneStatement(deps.db.kysely, end, { alone: true })))
      await deps.db.kysely
        .transaction()
        .execute((trx: Executor) => finishInOneStatement(trx, end, { alone: false }))
    await (payloads ? payloads.after() : deps.payloads.removeDir(folder))
    return
  }
  await deps.db.kysely.transaction().execute(async (trx: Executor) => {
    for (const c of await conversationsByMessageId(trx, messageId, 'OUTGOING')) {
      await registerStatus(trx, c, status, now)
      // the service's reference: from now on its status pollers ask about it
      if (delivered?.reference)
        await updateConversation(trx, c.id, {
          external_system_reference: delivered.reference,
          pollable: 1,
          last_update: now,
        })
    }
    if (delivered?.statuses) await registerAll(trx, messageId, delivered.statuses, now)
    // gone already when the fagsystem deleted it meanwhile: then its file list is not kept either
    if (await deleteOutMessageById(trx, messageId)) await keepFileList(trx, messageId, files)
    await forgetHandover(trx, sendPurpose(messageId))
  })
  await deps.payloads.removeDir(outPayloadFolder(messageId))
}
