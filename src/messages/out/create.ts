import type { OutgoingRefusal } from '../../channels/ports.js'
import { serviceState } from '../../channels/registry.js'
import type { Config } from '../../config/types.js'
import { insertConversation, registerStatus } from '../../conversations/repository.js'
import { isUniqueViolation } from '../../db/errors.js'
import type { Db, Executor } from '../../db/open.js'
import type { ConversationRow, OutMessageRow } from '../../db/schema.js'
import { ApiError, type FieldError } from '../../errors/api-error.js'
import type { BusinessKeys } from '../../packaging/keys.js'
import type { ServiceRegistry } from '../../registry/client.js'
import {
  getConversationId,
  getExpectedResponseDateTime,
  getMessageId,
  getProcess,
  getReceiver,
  getSender,
  getStandard,
} from '../../sbd/accessors.js'
import { applyDefaults, normalizeOnBehalfOf } from '../../sbd/defaults.js'
import { partOrPrimary, primaryIdentifier } from '../../sbd/identifiers.js'
import { parseSbd, serializeSbd } from '../../sbd/parse.js'
import {
  checkDph,
  checkIdentifiers,
  checkKnownType,
  checkMessageChannel,
  checkPrintAddresses,
  checkProcess,
  checkStandardMatchesType,
} from '../../sbd/rules.js'
import type { ServiceIdentifier, StandardBusinessDocument } from '../../sbd/types.js'
import {
  constraintViolationError,
  methodArgumentNotValid,
  validateForService,
  validateSbd,
  validateSbdAsParameter,
} from '../../sbd/validate.js'
import type { Clock } from '../../util/time.js'
import { checkOwnCertificate } from './certificate.js'
import { insertOutMessage, messageIdTaken } from './repository.js'
import { type Resolution, resolveService } from './service-resolution.js'

/** A message checked and defaulted, ready to be stored (parsed and header-validated, sender normalised, defaults applied, create-time checks run). */
export interface PreparedMessage {
  sbd: StandardBusinessDocument
  messageId: string
  conversationId: string
  serviceIdentifier: ServiceIdentifier
  resolution: Resolution
}

export type CreateMode = 'json' | 'multipart'

/** What checking a new message needs (the routes pass their AppDeps, a superset). */
export interface CreateDeps {
  config: Config
  db: Db
  clock: Clock
  registry: ServiceRegistry
  newUuid: () => string
  /** the business certificate, whose expiry stops a create; absent when no channel needs one */
  keys?: BusinessKeys | null
  /** the services this integration point can deliver; a message to another is refused */
  transports: ReadonlySet<ServiceIdentifier>
  /**
   * The running channel's own check of a message to `service` (RunningChannel.checkOutgoing); absent,
   * or null for a service, when there is nothing more to check.
   */
  checkOutgoing?: (
    service: ServiceIdentifier,
    sbd: StandardBusinessDocument,
  ) => Promise<OutgoingRefusal | null>
}

/** Parses, validates and defaults an SBD in the reference's order; stores nothing. */
export async function prepareMessage(
  deps: CreateDeps,
  body: unknown,
  mode: CreateMode,
): Promise<PreparedMessage> {
  const parsed = parseSbd(body)
  const now = deps.clock.now()
  if (mode === 'multipart') {
    const violations = validateSbdAsParameter(parsed, 'createAndSendMessage.sbd.', now)
    if (violations.length) throw constraintViolationError(violations)
  } else {
    const violations = validateSbd(parsed, now)
    if (violations.length) throw methodArgumentNotValid(violations)
  }
  const malformed = checkIdentifiers(parsed) ?? checkProcess(parsed)
  if (malformed) throw malformed
  const normalised = normalizeOnBehalfOf(parsed, deps.config.org.number)
  const unknownType = checkKnownType(normalised)
  if (unknownType) throw unknownType
  const resolution = await resolveService(deps.registry, normalised)
  const si = resolution.serviceIdentifier
  const sbd = applyDefaults(normalised, {
    ownOrg: deps.config.org.number,
    now,
    ttlHours: si === 'UNKNOWN' ? deps.config.nextmove.defaultTtlHours : deps.config.ttlHours[si],
    serviceIdentifier: si,
    messageChannel: deps.config.dpo.messageChannel,
    newUuid: deps.newUuid,
    serviceRecord: resolution.record ?? undefined,
  })
  const messageId = getMessageId(sbd)!
  await checkNotExisting(deps.db.kysely, sbd, messageId)
  const certificate = checkOwnCertificate(deps.keys, now)
  if (certificate) throw certificate
  const groupViolations = validateForService(sbd, si, now)
  if (groupViolations.length) throw groupInvalid(groupViolations, messageId)
  // enabled but without a transport here: refused now, as the reference refuses a disabled service,
  // rather than accepted and failed later while the fagsystem waits for SENDT
  if (si === 'UNKNOWN' || serviceState(si, deps.config.features.enabled, deps.transports) !== 'deliverable')
    throw new ApiError('ServiceNotEnabled', [si])
  const failed =
    checkPrintAddresses(sbd) ??
    checkStandardMatchesType(sbd) ??
    checkMessageChannel(sbd, deps.config.dpo.messageChannel, si) ??
    (await channelRefusal(deps, si, sbd)) ??
    (si === 'DPH' ? checkDph(sbd, deps.config.dph.herIds) : undefined)
  if (failed) throw failed
  return { sbd, messageId, conversationId: getConversationId(sbd)!, serviceIdentifier: si, resolution }
}

/** Checks #1–2 of src/sbd/rules.ts: a messageId is used once, in the out store and among conversations (but for `status`). */
async function checkNotExisting(
  db: Executor,
  sbd: StandardBusinessDocument,
  messageId: string,
): Promise<void> {
  if (await messageIdTaken(db, messageId, sbd.type !== 'status'))
    throw new ApiError('MessageAlreadyExists', ['messageId', messageId])
}

/** Check #11 (DPF's SvarUt checks) and any other channel's own: asked only once the rest have passed. */
async function channelRefusal(
  deps: CreateDeps,
  si: ServiceIdentifier,
  sbd: StandardBusinessDocument,
): Promise<ApiError | undefined> {
  const refusal = await deps.checkOutgoing?.(si, sbd)
  return refusal ? new ApiError(refusal.code, refusal.args) : undefined
}

function groupInvalid(errors: FieldError[], messageId: string): ApiError {
  const list = errors.map((e) => `${e.field}: ${e.defaultMessage}`).join(', ')
  return new ApiError('ConstraintViolation', [], {
    message: `The following violations where found when validating 'StandardBusinessDocument(messageId=${messageId})': [${list}]`,
    errors,
  })
}

/** What arkivmelding.xml gives the conversation (see titleConversation). */
export interface ConversationTitle {
  title: string | null
  reference: string | null
}

/**
 * Stores a prepared message with its conversation and OPPRETTET status. Call inside a transaction.
 * A concurrent create of the same messageId loses on the unique index and gets the same 400. With
 * `titled` (arkivmelding.xml came with the message) the conversation is inserted with the title and
 * reference titleConversation would give it.
 */
export async function persistMessage(
  trx: Executor,
  prepared: PreparedMessage,
  state: OutMessageRow['state'],
  now: number,
  titled?: ConversationTitle,
): Promise<{ message: OutMessageRow; conversation: ConversationRow }> {
  const rows = outgoingRows(prepared, state, now, titled)
  let message: OutMessageRow
  try {
    message = await insertOutMessage(trx, rows.message)
  } catch (error) {
    throw alreadyExists(error, prepared.messageId)
  }
  const conversation = await insertConversation(trx, rows.conversation)
  await registerStatus(trx, conversation, { status: 'OPPRETTET' }, now)
  return { message, conversation }
}

/** A unique violation on the message's row: another request stored the same messageId first. */
export function alreadyExists(error: unknown, messageId: string): unknown {
  return isUniqueViolation(error)
    ? new ApiError('MessageAlreadyExists', ['messageId', messageId], { cause: error })
    : error
}

/**
 * The out_messages row and the conversation (before its first status) that persistMessage inserts, and the
 * one-statement send on PostgreSQL too.
 */
export function outgoingRows(
  prepared: PreparedMessage,
  state: OutMessageRow['state'],
  now: number,
  titled?: ConversationTitle,
) {
  const { sbd, messageId, conversationId, serviceIdentifier } = prepared
  const sender = getSender(sbd)
  const receiver = getReceiver(sbd)
  const senderIdentifier = sender ? partOrPrimary(sender) : null
  const receiverIdentifier = receiver ? primaryIdentifier(receiver) : null
  const processIdentifier = getProcess(sbd) ?? null
  const documentIdentifier = getStandard(sbd) ?? null
  const message = {
    message_id: messageId,
    conversation_id: conversationId,
    process_identifier: processIdentifier,
    document_identifier: documentIdentifier,
    type: sbd.type,
    receiver_identifier: receiverIdentifier,
    sender_identifier: senderIdentifier,
    service_identifier: serviceIdentifier,
    sbd: JSON.stringify(serializeSbd(sbd)),
    state,
    created_at: now,
    last_updated: now,
  }
  const conversation = {
    conversation_id: conversationId,
    message_id: messageId,
    sender: sender?.value ?? null,
    sender_identifier: senderIdentifier,
    receiver: receiver?.value ?? null,
    receiver_identifier: receiverIdentifier,
    process_identifier: processIdentifier,
    document_identifier: documentIdentifier,
    // as the reference: the reference starts as the conversationId and the title empty, both
    // replaced from arkivmelding.xml when it is uploaded
    message_reference: titled?.reference || conversationId,
    message_title: titled ? titled.title : '',
    service_identifier: serviceIdentifier,
    direction: 'OUTGOING' as const,
    expiry: getExpectedResponseDateTime(sbd)?.instant ?? null,
    finished: 0,
    pollable: 0,
    external_system_reference: null,
    created_at: now,
    last_update: now,
  }
  return { message, conversation }
}
