/** Builders of the project's own SBD fixtures, for the tests in this folder only. */
import type { BusinessMessageTypeName } from './business-schemas.js'
import type { MessageTypeName } from './message-types.js'
import { defaultProcess, defaultStandard } from './prototype.js'

export const OWN_ORG = '987654321'
export const OTHER_ORG = '123456785'
/** valid fødselsnumre (both check digits right) */
export const FNR = '08089409382'
export const FNR_SYNTHETIC = '17912099997'
export const D_NUMBER = '57912075186'

export const MESSAGE_ID = 'ff88849c-e281-4809-8555-7cd54952b916'
export const CONVERSATION_ID = '37efbd4c-413d-4e2c-bbc5-257ef4a65a45'

export interface HeaderOptions {
  sender?: string | null
  receiver?: string | null
  authority?: string
  process?: string
  expectedResponseDateTime?: string | null
  messageId?: string | null
  conversationId?: string | null
}

export function header(type: MessageTypeName, o: HeaderOptions = {}): Record<string, unknown> {
  const authority = o.authority ?? 'iso6523-actorid-upis'
  const partner = (value: string) => [{ identifier: { value, authority } }]
  const scope: Record<string, unknown> = {
    type: 'ConversationId',
    identifier: o.process ?? defaultProcess(type) ?? 'urn:no:difi:profile:arkivmelding:response:ver1.0',
  }
  if (o.conversationId !== null) scope.instanceIdentifier = o.conversationId ?? CONVERSATION_ID
  if (o.expectedResponseDateTime !== null) {
    scope.scopeInformation = [
      { expectedResponseDateTime: o.expectedResponseDateTime ?? '2099-01-01T12:00:00+01:00' },
    ]
  }
  const di: Record<string, unknown> = { standard: defaultStandard(type), typeVersion: '2.0', type }
  if (o.messageId !== null) di.instanceIdentifier = o.messageId ?? MESSAGE_ID
  const out: Record<string, unknown> = { headerVersion: '1.0' }
  if (o.sender !== null) out.sender = partner(o.sender ?? `0192:${OWN_ORG}`)
  if (o.receiver !== null) out.receiver = partner(o.receiver ?? `0192:${OTHER_ORG}`)
  out.documentIdentification = di
  out.businessScope = { scope: [scope] }
  return out
}

/** A JSON SBD as a fagsystem would send it, header first. */
export function sbdJson(
  type: MessageTypeName,
  businessMessage: Record<string, unknown> = {},
  o: HeaderOptions = {},
): Record<string, unknown> {
  return { standardBusinessDocumentHeader: header(type, o), [type]: businessMessage }
}

/** Fixture JSON that tests edit freely. */
// biome-ignore lint/suspicious/noExplicitAny: fixtures are plain JSON edited in place by the tests
export type Json = any

/** every field of every business message, in the reference's (Jackson's) order */
export const FULL: Record<BusinessMessageTypeName, Record<string, unknown>> = {
  status: { hoveddokument: 'a.pdf', status: 'LEVERT' },
  arkivmelding: {
    hoveddokument: 'a.pdf',
    sikkerhetsnivaa: 4,
    dpv: {
      varselType: 'VarselDPVUtenRevarsel',
      varselTransportType: 'EpostOgSMS',
      varselTekst: 'Du har post',
      taushetsbelagtVarselTekst: 'Du har taushetsbelagt post',
      dagerTilSvarfrist: 14,
    },
    dpf: { forsendelseType: 'Byggesak' },
  },
  arkivmelding_kvittering: {
    hoveddokument: 'a.pdf',
    receiptType: 'OK',
    relatedToMessageId: '9e1ad87d-256d-46f6-ae5f-5dfabb0246af',
    messages: [{ code: 'Recno', text: '315890' }],
  },
  avtalt: {
    hoveddokument: 'a.pdf',
    identifier: 'no.example.avtalt.v1',
    content: { a: [1, 'b', null, { c: true }] },
  },
  digital: {
    hoveddokument: 'a.pdf',
    sikkerhetsnivaa: 3,
    avsenderId: 'avsender1',
    fakturaReferanse: 'faktura1',
    tittel: 'Vedtak',
    spraak: 'NO',
    digitalPostInfo: { virkningsdato: '2026-05-12', aapningskvittering: true },
    varsler: { epostTekst: 'Epost', smsTekst: 'SMS' },
    metadataFiler: { 'a.pdf': 'a-meta.xml' },
  },
  digital_dpv: {
    hoveddokument: 'a.pdf',
    tittel: 'Tittel',
    sammendrag: 'Sammendrag',
    innhold: 'Innhold',
    dpv: { varselType: 'VarselDPVMedRevarsel', varselTransportType: 'Epost', dagerTilSvarfrist: 7 },
  },
  print: {
    hoveddokument: 'a.pdf',
    avsenderId: 'avsender1',
    fakturaReferanse: 'faktura1',
    mottaker: {
      navn: 'Ola Nordmann',
      adresselinje1: 'Gate 1',
      adresselinje2: 'Oppgang B',
      adresselinje3: '',
      adresselinje4: '',
      postnummer: '0150',
      poststed: 'OSLO',
      land: 'Norge',
    },
    utskriftsfarge: 'FARGE',
    posttype: 'A_PRIORITERT',
    retur: {
      mottaker: { navn: 'Kommunen', adresselinje1: 'Postboks 1', postnummer: '0151', poststed: 'OSLO' },
      returhaandtering: 'MAKULERING_MED_MELDING',
    },
    printinstruksjoner: { farge: 'ja' },
  },
  dialogmelding: {
    hoveddokument: 'a.pdf',
    pasient: { fnr: FNR, fornavn: 'Kari', mellomnavn: 'M', etternavn: 'Nordmann' },
    metadataFiler: { 'b.png': { issueDate: '2026-01-15T11:00:00Z', description: 'Bilde' } },
  },
  dialogmelding_kvittering: {
    relatedToMessageId: '9e1ad87d-256d-46f6-ae5f-5dfabb0246af',
    status: 'OK_ERROR_IN_MESSAGE_PART',
    messages: [{ code: 'E1', text: 'Feil i vedlegg' }],
    rawReceipt: '<AppRec/>',
  },
  innsynskrav: { hoveddokument: 'a.pdf', orgnr: '987654321', epost: 'a@example.no' },
  publisering: { hoveddokument: 'journalpost.json', orgnr: '987654321' },
  einnsyn_kvittering: {
    hoveddokument: 'a.pdf',
    dokumentId: 'd1',
    status: '{"ok":true}',
    referanseType: 'publisering',
  },
}
