/**
 * The pure rules of the StandardBusinessDocument (SBD): reading and writing its JSON, identifiers,
 * validation, create-time defaults and checks, file rules, prototypes, and arkivmelding.xml. No I/O.
 *
 * Glossary of the Norwegian terms the wire format and the reference use:
 * - forsendelse: a consignment, one message sent with its attachments
 * - melding / meldingstype: message / business message type (arkivmelding, digital, print, ...)
 * - arkivmelding: a Noark 5 case-archive message between organisations (also the XML file `arkivmelding.xml`)
 * - saksmappe / journalpost / dokumentbeskrivelse / dokumentobjekt: case file / registry entry / document
 *   description / document object (the file itself, `referanseDokumentfil`) in an arkivmelding
 * - offentlig tittel: the public (redacted) title of a journalpost
 * - kvittering: receipt (arkivmelding_kvittering, einnsyn_kvittering, dialogmelding_kvittering)
 * - levetid: time to live (`expectedResponseDateTime`); LEVETID_UTLOPT = it ran out before delivery
 * - hoveddokument: the primary document (the file whose name the business message gives)
 * - vedlegg: attachment
 * - tittel: title; sammendrag: summary; innhold: content; språk (`spraak`): language
 * - mottaker / avsender: receiver / sender; avsenderId: the sender's DPI sub-identifier
 * - på vegne av (`paa-vegne-av`): on behalf of; an intermediary sending for a customer organisation
 * - sikkerhetsnivå (`sikkerhetsnivaa`): security level (3 or 4) the recipient must log in with
 * - utskrift / print: physical mail printed and posted for a citizen; utskriftsfarge: print colour
 *   (SORT_HVIT black and white, FARGE colour); posttype: postage (A_PRIORITERT priority, B_OEKONOMI economy)
 * - retur / returhåndtering: return address / what happens to undeliverable mail (DIREKTE_RETUR,
 *   MAKULERING_MED_MELDING shred and notify)
 * - adresselinje, postnummer, poststed, land: address line, postcode, postal town, country
 * - varsel / varsler: notification(s) (e-mail or SMS) to the recipient; revarsel: reminder
 * - taushetsbelagt: confidential (subject to a duty of secrecy)
 * - dager til svarfrist: days until the reply deadline
 * - virkningsdato: the date the letter takes effect (is made visible); åpningskvittering: read receipt
 * - fakturareferanse: invoice reference; forsendelseType: the SvarUt consignment type (DPF)
 * - innsynskrav: a request for access to public records (eInnsyn); publisering: publishing journal data
 * - dialogmelding: a health-care dialogue message (DPH, Norsk Helsenett); pasient: patient; fastlege: GP
 * - fødselsnummer (fnr) / D-nummer: Norwegian national identity number / number for non-residents
 * - organisasjonsnummer (orgnr): the 9-digit organisation number (ISO 6523 ICD 0192)
 * - kanal: message channel, to keep several integration points of one organisation apart
 * - fagsystem: the agency's business system that talks to the integration point
 */
export * from './accessors.js'
export * from './arkivmelding.js'
export {
  BUSINESS_MESSAGE_TYPES,
  type BusinessMessageTypeName,
  businessMessageTypeOf,
  RECEIPT_STATUSES,
} from './business-schemas.js'
export * from './defaults.js'
export * from './files.js'
export * from './identifiers.js'
export * from './message-types.js'
export * from './parse.js'
export * from './prototype.js'
export * from './rules.js'
export * from './types.js'
export * from './validate.js'
export { messageCodes, type Violation } from './violations.js'
