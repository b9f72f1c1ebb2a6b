/**
 * The create-time checks of NextMoveValidator.validate(sbd) that need no I/O, each returning the
 * reference's error or undefined. The reference's order: #1–2 the messageId is not in use, #3 own
 * certificate, #4 known type, #5 service resolution, #6 group validation, #7 service enabled, #8 print
 * addresses, #9 standard fits type, #10 message channel, #11 DPF (SvarUt), #12 DPH sender and receiver.
 * The caller runs them in that order: checkKnownType (#4),
 * [service resolution, validateForService, service enabled], checkPrintAddresses (#8),
 * checkStandardMatchesType (#9), checkMessageChannel (#10), [DPF], checkDph (#12).
 * checkIdentifiers and checkProcess cover what the reference only meets as runtime exceptions (500).
 */
import { ApiError } from '../errors/api-error.js'
import { getMessageChannel, getProcess, getReceiver, getSender } from './accessors.js'
import { parseIdentifier } from './identifiers.js'
import { isNullOrEmpty, parseJavaInt } from './java.js'
import { MESSAGE_TYPE_NAMES, messageTypeByName } from './message-types.js'
import type { Partner, ServiceIdentifier, StandardBusinessDocument } from './types.js'
import { ISO6523_ACTORID_UPIS, NHN_ACTORID } from './types.js'

/** The receipts (`MessageType.isReceipt`). */
export const RECEIPT_TYPES = [
  'arkivmelding_kvittering',
  'einnsyn_kvittering',
  'dialogmelding_kvittering',
] as const

/** UnknownMessageTypeException's list: the non-receipt types, `, `-joined. */
export const KNOWN_TYPES_TEXT = MESSAGE_TYPE_NAMES.filter(
  (t) => !(RECEIPT_TYPES as readonly string[]).includes(t),
).join(', ')

const headerTypeOf = (sbd: StandardBusinessDocument) =>
  sbd.standardBusinessDocumentHeader.documentIdentification?.type

/** #4: `documentIdentification.type` must be a MessageType (any case). */
export function checkKnownType(sbd: StandardBusinessDocument): ApiError | undefined {
  const type = headerTypeOf(sbd)
  return messageTypeByName(type)
    ? undefined
    : new ApiError('UnknownMessageType', [type ?? null, KNOWN_TYPES_TEXT])
}

function identifierError(partners: Partner[] | null | undefined): ApiError | undefined {
  const id = partners?.[0]?.identifier
  if (typeof id?.value !== 'string') return undefined
  if (parseIdentifier(id.value, id.authority ?? '') !== undefined) return undefined
  const authority = id.authority ?? null
  if (authority !== ISO6523_ACTORID_UPIS && authority !== NHN_ACTORID) {
    return new ApiError('IllegalArgument', [`Unknown authority = ${authority}`])
  }
  const text =
    authority === NHN_ACTORID
      ? `Invalid NHN identifier: ${id.value}`
      : `Unable to parse identifier = '${id.value}'`
  return new ApiError('IllegalArgument', [text])
}

/**
 * Sender and receiver must parse for their authority. The reference meets a bad one as an
 * IllegalArgumentException in on-behalf-of normalisation or service resolution (HTTP 500); run this
 * right after validateSbd.
 */
export function checkIdentifiers(sbd: StandardBusinessDocument): ApiError | undefined {
  const h = sbd.standardBusinessDocumentHeader
  return identifierError(h.sender) ?? identifierError(h.receiver)
}

/** The ConversationId scope and its process are needed for service resolution ("SBD missing process"). */
export function checkProcess(sbd: StandardBusinessDocument): ApiError | undefined {
  return getProcess(sbd) === undefined ? new ApiError('IllegalArgument', ['SBD missing process']) : undefined
}

/** "Norwegian" address: no country, or Norge/Norway; we also count ``, `NO` and `NOR` (the reference does not). */
function isNorwegian(address: Record<string, unknown>): boolean {
  const land = address.land
  if (land === null || land === undefined) return true
  if (typeof land !== 'string') return false
  return ['', 'norge', 'norway', 'no', 'nor'].includes(land.trim().toLowerCase())
}

function addressIncomplete(address: Record<string, unknown>): boolean {
  const empty = (key: string) => isNullOrEmpty(address[key] as string | null | undefined)
  return empty('adresselinje1') || (isNorwegian(address) && (empty('postnummer') || empty('poststed')))
}

/** #8 (print): receiver and return addresses must be complete (MissingAddressInformationException). */
export function checkPrintAddresses(sbd: StandardBusinessDocument): ApiError | undefined {
  if (sbd.type !== 'print') return undefined
  const missing = (field: string) => new ApiError('MissingAddressInformation', [field])
  const mottaker = sbd.businessMessage.mottaker as Record<string, unknown> | undefined
  if (!mottaker) return missing('mottaker')
  if (addressIncomplete(mottaker)) return missing('mottaker.postnummer/poststed/adresselinje1')
  const retur = sbd.businessMessage.retur as Record<string, unknown> | undefined
  if (!retur) return missing('retur')
  const returMottaker = retur.mottaker as Record<string, unknown> | undefined
  // the reference fails with a NullPointerException here
  if (!returMottaker) return missing('retur.mottaker')
  if (addressIncomplete(returMottaker)) return missing('retur.postnummer/poststed/adresselinje1')
  return undefined
}

/** #9: the document type (`standard`) must end with `::<type>` (case-sensitive). */
export function checkStandardMatchesType(sbd: StandardBusinessDocument): ApiError | undefined {
  const type = messageTypeByName(headerTypeOf(sbd))
  const standard = sbd.standardBusinessDocumentHeader.documentIdentification?.standard ?? ''
  if (type === undefined || standard.endsWith(`::${type}`)) return undefined
  return new ApiError('MessageTypeDoesNotFitDocumentType', [type, standard])
}

/** #10: with a configured DPO channel, an SBD naming a channel must name that one. */
export function checkMessageChannel(
  sbd: StandardBusinessDocument,
  configured: string | null,
  si: ServiceIdentifier,
): ApiError | undefined {
  if (si !== 'DPO' || isNullOrEmpty(configured)) return undefined
  const channel = getMessageChannel(sbd)
  if (channel === undefined || channel === configured) return undefined
  return new ApiError('MessageChannelInvalid', [configured, channel])
}

/** #12 (DPH): the sender must be one of our HER-ids, the receiver an NHN address. */
export function checkDph(sbd: StandardBusinessDocument, herIds: string[]): ApiError | undefined {
  const sender = getSender(sbd)
  if (sender?.kind !== 'nhn')
    return new ApiError('Sender', [`Sender have to be a ${NHN_ACTORID} for DPH messages!`])
  // the reference compares Integer HER-ids, so `0123` in the configuration matches `her-id:123`
  const ours = herIds.map((h) => parseJavaInt(h.trim()))
  if (sender.scheme !== 'her-id' || !ours.includes(Number(sender.id))) {
    return new ApiError('Sender', [
      'Sender have to be one of the her-ids listed in the difi.move.dph.her-ids property!',
    ])
  }
  if (getReceiver(sbd)?.kind !== 'nhn') {
    return new ApiError('Receiver', [`Receiver have to be a ${NHN_ACTORID} for DPH messages!`])
  }
  return undefined
}
