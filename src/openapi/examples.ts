/**
 * Rows for the mappers to describe themselves with (see example-schema.ts): `full` has every value set,
 * `bare` every nullable value null. Typed as the rows, so a new column must be filled in here too.
 */
import type { ConversationRow, MessageStatusRow, WebhookSubscriptionRow } from '../db/schema.js'
import type { PostAddress, ServiceRecord } from '../registry/types.js'

const AT = Date.UTC(2026, 2, 10, 9, 0, 0)
const CONVERSATION_ID = 'b4567a25-672c-4c2e-9a0f-08c52c54254b'
const MESSAGE_ID = 'e99e5cd1-74de-4cce-b902-cecdf97dc4f3'

export const conversationRow: { full: ConversationRow; bare: ConversationRow } = {
  full: {
    id: 30,
    conversation_id: CONVERSATION_ID,
    message_id: MESSAGE_ID,
    sender: '0192:910077473',
    sender_identifier: '910077473',
    receiver: '0192:910075918',
    receiver_identifier: '910075918',
    process_identifier: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
    document_identifier: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
    message_reference: '2026/17-3',
    message_title: 'Vedtak',
    service_identifier: 'DPO',
    direction: 'OUTGOING',
    expiry: AT + 86_400_000,
    finished: 1,
    pollable: 0,
    external_system_reference: 'a2f1…',
    created_at: AT,
    last_update: AT,
    latest_status: 'LEVERT',
    files: null,
  },
  bare: {
    id: 30,
    conversation_id: CONVERSATION_ID,
    message_id: MESSAGE_ID,
    sender: null,
    sender_identifier: null,
    receiver: null,
    receiver_identifier: null,
    process_identifier: null,
    document_identifier: null,
    message_reference: null,
    message_title: null,
    service_identifier: 'DPO',
    direction: 'OUTGOING',
    expiry: null,
    finished: 0,
    pollable: 0,
    external_system_reference: null,
    created_at: AT,
    last_update: AT,
    latest_status: null,
    files: null,
  },
}

export const statusRow: { full: MessageStatusRow; bare: MessageStatusRow } = {
  full: {
    id: 31,
    conversation_fk: 30,
    status: 'MOTTATT',
    description: 'Mottatt',
    raw_receipt: '{"status":"OK"}',
    last_update: AT,
  },
  bare: {
    id: 31,
    conversation_fk: 30,
    status: 'OPPRETTET',
    description: null,
    raw_receipt: null,
    last_update: AT,
  },
}

export const subscriptionRow: { full: WebhookSubscriptionRow; bare: WebhookSubscriptionRow } = {
  full: {
    id: 84,
    name: 'mitt fagsystem',
    push_endpoint: 'https://fagsystem.example/hooks',
    resource: 'all',
    event: 'all',
    filter: 'status=FEIL,LEVETID_UTLOPT&direction=OUTGOING',
    secret: 'a-long-shared-secret',
    created_at: AT,
    failing_since: AT,
    last_error: 'HTTP 503',
    last_error_at: AT,
    last_delivered_at: AT,
    given_up: 0,
  },
  bare: {
    id: 84,
    name: 'mitt fagsystem',
    push_endpoint: 'https://fagsystem.example/hooks',
    resource: 'all',
    event: 'all',
    filter: null,
    secret: null,
    created_at: AT,
    failing_since: null,
    last_error: null,
    last_error_at: null,
    last_delivered_at: null,
    given_up: 0,
  },
}

const address: PostAddress = {
  name: 'Ola Nordmann',
  street: 'Gata 1',
  postalCode: '0150',
  postalArea: 'Oslo',
  country: 'Norge',
}

/** A DPI record (every capability member) and a record with no process and an unknown document type. */
export const serviceRecord: { full: ServiceRecord; bare: ServiceRecord } = {
  full: {
    organisationNumber: '',
    pemCertificate: '',
    process: 'urn:no:difi:profile:digitalpost:vedtak:ver1.0',
    documentTypes: ['urn:no:difi:digitalpost:xsd:digital::digital'],
    service: {
      identifier: 'DPI',
      endpointUrl: '',
      serviceCode: null,
      serviceEditionCode: null,
      securityLevel: null,
      resource: null,
    },
    orgnrPostkasse: '984661185',
    postkasseAdresse: 'ola.nordmann#1234',
    epostAdresse: '',
    mobilnummer: '',
    fysiskPost: false,
    kanVarsles: true,
    postAddress: address,
    returnAddress: address,
    spraak: null,
    herId: null,
    patient: null,
  },
  bare: {
    organisationNumber: '',
    pemCertificate: '',
    process: null,
    documentTypes: ['urn:example:unknown'],
    service: {
      identifier: 'DPO',
      endpointUrl: '',
      serviceCode: null,
      serviceEditionCode: null,
      securityLevel: null,
      resource: null,
    },
    orgnrPostkasse: null,
    postkasseAdresse: null,
    epostAdresse: '',
    mobilnummer: '',
    fysiskPost: false,
    kanVarsles: false,
    postAddress: null,
    returnAddress: null,
    spraak: null,
    herId: null,
    patient: null,
  },
}

export const EXAMPLE_TIME = new Date(AT)
export const EXAMPLE_EVENT_ID = '3f1d3c0e-8a59-4d27-9d0c-58c7a35b2f11'
