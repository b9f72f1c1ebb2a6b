/**
 * The business messages (the SBD member named after the message type), as the integration point reads
 * and writes them. Every field is optional on the wire unless the server enforces it; the comments say
 * when. Norwegian terms: hoveddokument = primary document (the filename of one attachment),
 * sikkerhetsnivaa = the security level (3 or 4) the recipient must log in with, mottaker = receiver,
 * tittel = title, varsel = notification, kvittering = receipt.
 */

/** Every message type the API can carry as a business message, in the reference's order. */
export const BUSINESS_MESSAGE_TYPES = [
  'status',
  'arkivmelding',
  'arkivmelding_kvittering',
  'avtalt',
  'digital',
  'digital_dpv',
  'print',
  'dialogmelding',
  'dialogmelding_kvittering',
  'innsynskrav',
  'publisering',
  'einnsyn_kvittering',
] as const

export type BusinessMessageType = (typeof BUSINESS_MESSAGE_TYPES)[number]

export const RECEIPT_STATUSES = [
  'OPPRETTET',
  'SENDT',
  'MOTTATT',
  'LEVERT',
  'LEST',
  'FEIL',
  'ANNET',
  'INNKOMMENDE_MOTTATT',
  'INNKOMMENDE_LEVERT',
  'LEVETID_UTLOPT',
] as const

export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number]

interface WithPrimaryDocument {
  /** the filename of the primary document among the attachments */
  hoveddokument?: string
}

export interface DpvSettings {
  varselType?: 'VarselDPVUtenRevarsel' | 'VarselDPVMedRevarsel'
  varselTransportType?: 'Epost' | 'SMS' | 'EpostOgSMS'
  varselTekst?: string
  taushetsbelagtVarselTekst?: string
  dagerTilSvarfrist?: number
}

/** A status between integration points (DPO/DPE); the server sends these itself. */
export interface StatusMessage extends WithPrimaryDocument {
  status?: ReceiptStatus
}

/** A Noark 5 case-archive message. Needs an `arkivmelding.xml` attachment naming every other file. */
export interface ArkivmeldingMessage extends WithPrimaryDocument {
  sikkerhetsnivaa?: number
  dpv?: DpvSettings
  dpf?: { forsendelseType?: string }
}

export interface KvitteringStatusMessage {
  code?: string
  text?: string
}

/** The receiver's application receipt for an arkivmelding: OK/WARNING give the sender LEST, ERROR/NOTSUPPORTED FEIL. */
export interface ArkivmeldingKvitteringMessage extends WithPrimaryDocument {
  receiptType?: 'OK' | 'WARNING' | 'ERROR' | 'NOTSUPPORTED' | string
  relatedToMessageId?: string
  messages?: KvitteringStatusMessage[]
}

/** An agreed (bilateral) message; `content` is any JSON. Files are optional. */
export interface AvtaltMessage extends WithPrimaryDocument {
  identifier?: string
  content?: unknown
}

/** Digital post to a citizen (DPI). The primary document is required at send. */
export interface DigitalMessage extends WithPrimaryDocument {
  sikkerhetsnivaa?: number
  avsenderId?: string
  fakturaReferanse?: string
  tittel?: string
  /** ISO 639-1, e.g. `NO` */
  spraak?: string
  digitalPostInfo?: { virkningsdato?: string | null; aapningskvittering?: boolean }
  varsler?: { epostTekst?: string; smsTekst?: string }
  /** filename of a document → filename of its metadata document */
  metadataFiler?: Record<string, string>
}

/** Digital post to a business through Altinn (DPV). Every file needs a title. */
export interface DigitalDpvMessage extends WithPrimaryDocument {
  tittel?: string
  sammendrag?: string
  innhold?: string
  dpv?: DpvSettings
}

export interface PostAddress {
  navn?: string
  adresselinje1?: string
  adresselinje2?: string
  adresselinje3?: string
  adresselinje4?: string
  postnummer?: string
  poststed?: string
  land?: string
}

/** Physical mail printed and posted for a citizen (DPI). */
export interface PrintMessage extends WithPrimaryDocument {
  avsenderId?: string
  fakturaReferanse?: string
  mottaker?: PostAddress
  utskriftsfarge?: 'SORT_HVIT' | 'FARGE'
  posttype?: 'A_PRIORITERT' | 'B_OEKONOMI'
  retur?: { mottaker?: PostAddress; returhaandtering?: 'DIREKTE_RETUR' | 'MAKULERING_MED_MELDING' }
  printinstruksjoner?: Record<string, string>
}

/** A health-care dialogue message over Norsk Helsenett (DPH). */
export interface DialogmeldingMessage extends WithPrimaryDocument {
  pasient?: { fnr?: string; fornavn?: string; mellomnavn?: string; etternavn?: string }
  metadataFiler?: Record<string, { issueDate?: string; description?: string }>
}

/** The only business message without `hoveddokument`. */
export interface DialogmeldingKvitteringMessage {
  relatedToMessageId?: string
  status?: 'OK' | 'REJECTED' | 'OK_ERROR_IN_MESSAGE_PART'
  messages?: KvitteringStatusMessage[]
  rawReceipt?: string
}

/** A request for access to public records (eInnsyn, DPE). */
export interface InnsynskravMessage extends WithPrimaryDocument {
  orgnr?: string
  epost?: string
}

/** Journal data published to eInnsyn (DPE). */
export interface PubliseringMessage extends WithPrimaryDocument {
  orgnr?: string
}

export interface EinnsynKvitteringMessage extends WithPrimaryDocument {
  dokumentId?: string
  status?: string
  referanseType?: 'innsynskrav' | 'publisering'
}

/** The business message of each type. */
export interface BusinessMessages {
  status: StatusMessage
  arkivmelding: ArkivmeldingMessage
  arkivmelding_kvittering: ArkivmeldingKvitteringMessage
  avtalt: AvtaltMessage
  digital: DigitalMessage
  digital_dpv: DigitalDpvMessage
  print: PrintMessage
  dialogmelding: DialogmeldingMessage
  dialogmelding_kvittering: DialogmeldingKvitteringMessage
  innsynskrav: InnsynskravMessage
  publisering: PubliseringMessage
  einnsyn_kvittering: EinnsynKvitteringMessage
}

/** A business message with its type, as `buildSbd` takes it: `{ type: 'arkivmelding', hoveddokument: … }`. */
export type TypedBusinessMessage = {
  [T in BusinessMessageType]: { type: T } & BusinessMessages[T]
}[BusinessMessageType]

const P = 'urn:no:difi:profile:'

/** The document type (`documentIdentification.standard`) of each message type, as the server's defaults. */
export const DOCUMENT_TYPES: Readonly<Record<BusinessMessageType, string>> = {
  status: 'urn:no:difi:eformidling:xsd::status',
  arkivmelding: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
  arkivmelding_kvittering: 'urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering',
  avtalt: 'urn:no:difi:avtalt:xsd::avtalt',
  digital: 'urn:no:difi:digitalpost:xsd:digital::digital',
  digital_dpv: 'urn:no:difi:digitalpost:xsd:digital::digital_dpv',
  print: 'urn:no:difi:digitalpost:xsd:fysisk::print',
  dialogmelding: 'urn:no:difi:helse:xsd:schema::dialogmelding',
  dialogmelding_kvittering: 'urn:no:difi:helse:xsd::dialogmelding_kvittering',
  innsynskrav: 'urn:no:difi:einnsyn:xsd::innsynskrav',
  publisering: 'urn:no:difi:einnsyn:xsd::publisering',
  einnsyn_kvittering: 'urn:no:difi:einnsyn:xsd::einnsyn_kvittering',
}

/**
 * The process (the ConversationId scope's `identifier`) each type gets by default, as the server's
 * defaults (`status` has none of its own: it takes the receipt process of the message it answers).
 */
export const DEFAULT_PROCESSES: Readonly<Record<Exclude<BusinessMessageType, 'status'>, string>> = {
  arkivmelding: `${P}arkivmelding:administrasjon:ver1.0`,
  arkivmelding_kvittering: `${P}arkivmelding:response:ver1.0`,
  avtalt: `${P}avtalt:avtalt:ver1.0`,
  digital: `${P}digitalpost:info:ver1.0`,
  digital_dpv: `${P}digitalpost:info:ver1.0`,
  print: `${P}digitalpost:info:ver1.0`,
  dialogmelding: `${P}helse:helse:ver1.0`,
  dialogmelding_kvittering: `${P}helse:response:ver1.0`,
  innsynskrav: `${P}einnsyn:innsynskrav:ver1.0`,
  publisering: `${P}einnsyn:journalpost:ver1.0`,
  einnsyn_kvittering: `${P}einnsyn:response:ver1.0`,
}

/** The types that need no attachment to be sent. */
export const TYPES_WITHOUT_FILES: readonly BusinessMessageType[] = [
  'status',
  'arkivmelding_kvittering',
  'einnsyn_kvittering',
  'dialogmelding_kvittering',
  'avtalt',
]
