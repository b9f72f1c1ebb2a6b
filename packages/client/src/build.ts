/**
 * Building StandardBusinessDocuments with the defaults the server's prototype fills in (header version
 * 1.0, `0192:` organisation numbers under the iso6523-actorid-upis authority, the document type and
 * typeVersion 2.0 of the message type, a fresh messageId and conversationId, the creation time, the
 * ConversationId scope with the process), and reading the values every client needs back out of one.
 */
import { randomUUID } from 'node:crypto'
import {
  type ArkivmeldingKvitteringMessage,
  type ArkivmeldingMessage,
  type AvtaltMessage,
  BUSINESS_MESSAGE_TYPES,
  type BusinessMessageType,
  DEFAULT_PROCESSES,
  type DigitalDpvMessage,
  type DigitalMessage,
  DOCUMENT_TYPES,
  type EinnsynKvitteringMessage,
  type InnsynskravMessage,
  type PrintMessage,
  type PubliseringMessage,
  type TypedBusinessMessage,
} from './models/business-messages.js'
import {
  ISO6523_ACTORID_UPIS,
  NHN_ACTORID,
  type Partner,
  type Scope,
  type StandardBusinessDocument,
} from './models/sbd.js'

/** A new messageId (a random UUID): the idempotency key of a send. */
export function newMessageId(): string {
  return randomUUID()
}

export interface BuildSbdInput {
  /** the sender's organisation number; left out, the server puts its own (a customer's gives "on behalf of") */
  sender?: string
  /** organisation number, fødselsnummer, or NHN `her-id:…`/`fastlege-for:…`; only `print` may go without */
  receiver?: string
  /** the process URN; default: the usual one of the type (e.g. `…arkivmelding:administrasjon:ver1.0`) */
  process?: string
  /** the document type URN; default: the type's (e.g. `urn:no:difi:arkivmelding:xsd::arkivmelding`) */
  documentType?: string
  messageId?: string
  conversationId?: string
  /**
   * The message's time to live. Left out, the server sets its own default (24 hours unless configured):
   * the client cannot know the server's configuration, so it does not guess.
   */
  expectedResponseDateTime?: string | Date
  /** sets `sikkerhetsnivaa` on the types that have it (arkivmelding, digital) when not set there */
  securityLevel?: number
  /** the business message and its type, e.g. `arkivmeldingMessage({ hoveddokument: 'vedtak.pdf' })` */
  businessMessage: TypedBusinessMessage
  /** defaults to now */
  now?: Date
}

/** A complete SBD, ready for `send()`. */
export function buildSbd(input: BuildSbdInput): StandardBusinessDocument {
  const { type, ...message } = input.businessMessage
  if (!Object.hasOwn(DOCUMENT_TYPES, type)) {
    throw new TypeError(
      `Unknown message type ${JSON.stringify(type)}: one of ${BUSINESS_MESSAGE_TYPES.join(', ')}`,
    )
  }
  if (input.securityLevel !== undefined && (type === 'arkivmelding' || type === 'digital')) {
    ;(message as { sikkerhetsnivaa?: number }).sikkerhetsnivaa ??= input.securityLevel
  }
  const scope: Scope = {
    type: 'ConversationId',
    instanceIdentifier: input.conversationId ?? randomUUID(),
    identifier: input.process ?? defaultProcessOf(type),
  }
  if (input.expectedResponseDateTime !== undefined) {
    scope.scopeInformation = [{ expectedResponseDateTime: isoTime(input.expectedResponseDateTime) }]
  }
  const header = {
    headerVersion: '1.0',
    ...(input.sender !== undefined && { sender: [partner(input.sender)] }),
    ...(input.receiver !== undefined && { receiver: [partner(input.receiver)] }),
    documentIdentification: {
      standard: input.documentType ?? DOCUMENT_TYPES[type],
      typeVersion: '2.0',
      instanceIdentifier: input.messageId ?? newMessageId(),
      type,
      creationDateAndTime: isoTime(input.now ?? new Date()),
    },
    businessScope: { scope: [scope] },
  }
  return { standardBusinessDocumentHeader: header, [type]: message } as StandardBusinessDocument
}

function defaultProcessOf(type: BusinessMessageType): string {
  if (type === 'status')
    throw new TypeError('a status message has no process of its own: give the one of the message it answers')
  return DEFAULT_PROCESSES[type]
}

/**
 * A partner as the server writes it: a bare 9-digit organisation number gets `0192:`, NHN identifiers
 * get the nhn-actorid authority, anything else (a fødselsnummer, `0192:…`) is kept as given.
 */
export function partner(identifier: string): Partner {
  const value = identifier.trim()
  if (/^(her-id|fastlege-for):/.test(value)) return { identifier: { value, authority: NHN_ACTORID } }
  const full = /^\d{9}$/.test(value) ? `0192:${value}` : value
  return { identifier: { value: full, authority: ISO6523_ACTORID_UPIS } }
}

/** ISO 8601 with the machine's UTC offset and no milliseconds, as the server prints times. */
export function isoTime(time: string | Date): string {
  if (typeof time === 'string') return time
  const offsetMin = -time.getTimezoneOffset()
  const local = new Date(time.getTime() + offsetMin * 60_000).toISOString().slice(0, 19)
  const sign = offsetMin >= 0 ? '+' : '-'
  const abs = Math.abs(offsetMin)
  return `${local}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}

const pad = (n: number) => String(n).padStart(2, '0')

// Small helpers per common type: they only add the `type`, so the fields stay typed and documented.

export const arkivmeldingMessage = (m: ArkivmeldingMessage = {}) => ({ type: 'arkivmelding' as const, ...m })
export const arkivmeldingKvitteringMessage = (m: ArkivmeldingKvitteringMessage) => ({
  type: 'arkivmelding_kvittering' as const,
  ...m,
})
export const avtaltMessage = (m: AvtaltMessage) => ({ type: 'avtalt' as const, ...m })
export const digitalMessage = (m: DigitalMessage) => ({ type: 'digital' as const, ...m })
export const digitalDpvMessage = (m: DigitalDpvMessage) => ({ type: 'digital_dpv' as const, ...m })
export const printMessage = (m: PrintMessage) => ({ type: 'print' as const, ...m })
export const innsynskravMessage = (m: InnsynskravMessage) => ({ type: 'innsynskrav' as const, ...m })
export const publiseringMessage = (m: PubliseringMessage) => ({ type: 'publisering' as const, ...m })
export const einnsynKvitteringMessage = (m: EinnsynKvitteringMessage) => ({
  type: 'einnsyn_kvittering' as const,
  ...m,
})
