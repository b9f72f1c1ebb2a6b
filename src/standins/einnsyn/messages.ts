// The SBDs eInnsyn writes: an innsynskrav to an agency, and the answers to a publisering (MOTTATT and
// LEVERT as `status` messages, then an einnsyn_kvittering). Plain data, no I/O.

import { randomUUID } from 'node:crypto'
import { getConversationId, getMessageId } from '../../sbd/accessors.js'
import { serializeSbd } from '../../sbd/parse.js'
import { ISO6523_ACTORID_UPIS, type Partner, type StandardBusinessDocument } from '../../sbd/types.js'
import { formatOslo } from '../../util/time.js'

/** the organisation eInnsyn is in the sandbox catalogue (TEST - EINNSYN) */
export const EINNSYN_ORGNR = '910076787'

export const PROCESS = {
  innsynskrav: 'urn:no:difi:profile:einnsyn:innsynskrav:ver1.0',
  journalpost: 'urn:no:difi:profile:einnsyn:journalpost:ver1.0',
  meeting: 'urn:no:difi:profile:einnsyn:meeting:ver1.0',
  response: 'urn:no:difi:profile:einnsyn:response:ver1.0',
} as const

const STANDARD = {
  innsynskrav: 'urn:no:difi:einnsyn:xsd::innsynskrav',
  einnsyn_kvittering: 'urn:no:difi:einnsyn:xsd::einnsyn_kvittering',
  status: 'urn:no:difi:eformidling:xsd::status',
} as const

/** as the reference: a message lives 24 hours unless its sender says otherwise */
const TTL_MS = 24 * 60 * 60 * 1000

const partner = (orgnr: string): Partner[] => [
  { identifier: { value: `0192:${orgnr}`, authority: ISO6523_ACTORID_UPIS } },
]

interface HeaderInput {
  from: Partner[]
  to: Partner[]
  type: string
  standard: string
  typeVersion: string
  messageId: string
  conversationId: string
  process: string
  now: Date
}

function sbd(h: HeaderInput, businessMessage: Record<string, unknown>): Record<string, unknown> {
  const doc: StandardBusinessDocument = {
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      sender: h.from,
      receiver: h.to,
      documentIdentification: {
        standard: h.standard,
        typeVersion: h.typeVersion,
        instanceIdentifier: h.messageId,
        type: h.type,
        creationDateAndTime: formatOslo(h.now),
      },
      businessScope: {
        scope: [
          {
            type: 'ConversationId',
            instanceIdentifier: h.conversationId,
            identifier: h.process,
            scopeInformation: [{ expectedResponseDateTime: formatOslo(h.now.getTime() + TTL_MS) }],
          },
        ],
      },
    },
    type: h.type,
    businessMessage,
  }
  return serializeSbd(doc)
}

/** An innsynskrav from eInnsyn to `orgnr`: the answer goes to `email`, the order is in the ASiC. */
export function innsynskravSbd(o: {
  orgnr: string
  email: string
  messageId: string
  conversationId: string
  now: Date
}): Record<string, unknown> {
  return sbd(
    {
      from: partner(EINNSYN_ORGNR),
      to: partner(o.orgnr),
      type: 'innsynskrav',
      standard: STANDARD.innsynskrav,
      typeVersion: '1.0',
      messageId: o.messageId,
      conversationId: o.conversationId,
      process: PROCESS.innsynskrav,
      now: o.now,
    },
    { orgnr: o.orgnr, epost: o.email },
  )
}

/**
 * MOTTATT or LEVERT for a message eInnsyn took in, as the reference's SBDFactory.createStatusFrom: sender
 * and receiver swapped, the original's messageId and conversationId, eInnsyn's response process.
 */
export function statusSbd(original: StandardBusinessDocument, status: 'MOTTATT' | 'LEVERT', now: Date) {
  const h = original.standardBusinessDocumentHeader
  return sbd(
    {
      from: identifiersOnly(h.receiver),
      to: identifiersOnly(h.sender),
      type: 'status',
      standard: STANDARD.status,
      typeVersion: '2.0',
      messageId: getMessageId(original) ?? randomUUID(),
      conversationId: getConversationId(original) ?? randomUUID(),
      process: PROCESS.response,
      now,
    },
    { status },
  )
}

/**
 * eInnsyn's receipt for a publisering, in the publisering's conversation: a message of its own
 * (`messageId`), `status` a JSON object written as a string, as eInnsyn's documentation shows it.
 */
export function kvitteringSbd(
  original: StandardBusinessDocument,
  o: { messageId: string; dokumentId: string; status: string; now: Date },
) {
  const h = original.standardBusinessDocumentHeader
  return sbd(
    {
      from: identifiersOnly(h.receiver),
      to: identifiersOnly(h.sender),
      type: 'einnsyn_kvittering',
      standard: STANDARD.einnsyn_kvittering,
      typeVersion: '1.0',
      messageId: o.messageId,
      conversationId: getConversationId(original) ?? randomUUID(),
      process: PROCESS.response,
      now: o.now,
    },
    { dokumentId: o.dokumentId, status: o.status, referanseType: 'publisering' },
  )
}

function identifiersOnly(partners: Partner[] | null | undefined): Partner[] {
  const id = partners?.[0]?.identifier
  return id ? [{ identifier: { value: id.value ?? null, authority: id.authority ?? null } }] : []
}
