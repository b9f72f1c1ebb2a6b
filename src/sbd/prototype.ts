/**
 * Skeletons for `GET /api/prototype/{capability}` (ours; the reference has no such endpoint): a business
 * message with every field present, and the header defaults per type. Text fields are `""`,
 * dates `null` (both read back as "not given" where that matters), enums and numbers have the reference's
 * defaults, maps `{}`, lists `[]`, nested objects filled out.
 */
import type { MessageTypeName } from './message-types.js'
import type { ServiceIdentifier } from './types.js'

const postAddress = () => ({
  navn: '',
  adresselinje1: '',
  adresselinje2: '',
  adresselinje3: '',
  adresselinje4: '',
  postnummer: '',
  poststed: '',
  land: '',
})

// difi.move.dpv.* defaults: notifyEmail=true, notifySms=true, daysToReply=7
const dpv = () => ({
  varselType: 'VarselDPVMedRevarsel',
  varselTransportType: 'EpostOgSMS',
  varselTekst: '',
  taushetsbelagtVarselTekst: '',
  dagerTilSvarfrist: 7,
})

/** NextMoveConsts.DEFAULT_SECURITY_LEVEL */
export const DEFAULT_SECURITY_LEVEL = 3

const PROTOTYPES: Record<MessageTypeName, () => Record<string, unknown>> = {
  // description (ours) says why a FEIL was given; absent otherwise
  status: () => ({ hoveddokument: '', status: 'MOTTATT', description: null }),
  // `feil` is a type name the reference cannot carry as a business message
  feil: () => ({}),
  arkivmelding: () => ({
    hoveddokument: '',
    sikkerhetsnivaa: DEFAULT_SECURITY_LEVEL,
    dpv: dpv(),
    dpf: { forsendelseType: '' },
  }),
  arkivmelding_kvittering: () => ({
    hoveddokument: '',
    receiptType: 'OK',
    relatedToMessageId: '',
    messages: [],
  }),
  avtalt: () => ({ hoveddokument: '', identifier: '', content: {} }),
  digital: () => ({
    hoveddokument: '',
    sikkerhetsnivaa: DEFAULT_SECURITY_LEVEL,
    avsenderId: '',
    fakturaReferanse: '',
    tittel: '',
    spraak: 'NO',
    digitalPostInfo: { virkningsdato: null, aapningskvittering: false },
    varsler: { epostTekst: '', smsTekst: '' },
    metadataFiler: {},
  }),
  digital_dpv: () => ({ hoveddokument: '', tittel: '', sammendrag: '', innhold: '', dpv: dpv() }),
  print: () => ({
    hoveddokument: '',
    avsenderId: '',
    fakturaReferanse: '',
    mottaker: postAddress(),
    utskriftsfarge: 'SORT_HVIT',
    posttype: 'B_OEKONOMI',
    retur: { mottaker: postAddress(), returhaandtering: 'DIREKTE_RETUR' },
    printinstruksjoner: {},
  }),
  dialogmelding: () => ({
    hoveddokument: '',
    pasient: { fnr: '', fornavn: '', mellomnavn: '', etternavn: '' },
    metadataFiler: {},
  }),
  dialogmelding_kvittering: () => ({ relatedToMessageId: '', status: 'OK', messages: [], rawReceipt: '' }),
  innsynskrav: () => ({ hoveddokument: '', orgnr: '', epost: '' }),
  publisering: () => ({ hoveddokument: '', orgnr: '' }),
  einnsyn_kvittering: () => ({ hoveddokument: '', dokumentId: '', status: '', referanseType: 'innsynskrav' }),
}

/** A fresh skeleton of the business message `type`, every field present. */
export function prototypeBusinessMessage(type: MessageTypeName): Record<string, unknown> {
  return PROTOTYPES[type]()
}

/** Configurable document types (difi.move.*), all optional. */
export interface DocumentTypeDefaults {
  dph?: { dialogmeldingDocumentType?: string }
  nextmove?: { statusDocumentType?: string }
}

const STANDARDS: Record<MessageTypeName, string> = {
  status: 'urn:no:difi:eformidling:xsd::status',
  feil: 'urn:no:difi:eformidling:xsd::feil',
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

/** The document type (`documentIdentification.standard`) of a business message type. */
export function defaultStandard(type: MessageTypeName, config: DocumentTypeDefaults = {}): string {
  if (type === 'dialogmelding' && config.dph?.dialogmeldingDocumentType)
    return config.dph.dialogmeldingDocumentType
  if (type === 'status' && config.nextmove?.statusDocumentType) return config.nextmove.statusDocumentType
  return STANDARDS[type]
}

/** The reference writes typeVersion `2.0` in the SBDs it makes itself (SBDFactory). */
export function defaultTypeVersion(_type: MessageTypeName): string {
  return '2.0'
}

/** The process settings of the configuration (all optional; the reference's defaults otherwise). */
export interface ProcessDefaults {
  arkivmelding?: { defaultProcess?: string; dpvDefaultProcess?: string; receiptProcess?: string }
  einnsyn?: { defaultJournalProcess?: string; defaultInnsynskravProcess?: string; receiptProcess?: string }
  dph?: { nhnProcess?: string; receiptProcess?: string }
}

const P = 'urn:no:difi:profile:'

/**
 * The process (ConversationId scope `identifier`) a new message of `type` gets by default;
 * null for `status` and `feil`, which have none of their own. DPV arkivmelding uses dpv-default-process.
 */
export function defaultProcess(
  type: MessageTypeName,
  config: ProcessDefaults = {},
  serviceIdentifier?: ServiceIdentifier,
): string | null {
  const { arkivmelding: a, einnsyn: e, dph } = config
  switch (type) {
    case 'arkivmelding':
      return (
        (serviceIdentifier === 'DPV' ? a?.dpvDefaultProcess : a?.defaultProcess) ??
        `${P}arkivmelding:administrasjon:ver1.0`
      )
    case 'arkivmelding_kvittering':
      return a?.receiptProcess ?? `${P}arkivmelding:response:ver1.0`
    case 'avtalt':
      return `${P}avtalt:avtalt:ver1.0`
    case 'digital':
    case 'digital_dpv':
    case 'print':
      return `${P}digitalpost:info:ver1.0`
    case 'dialogmelding':
      return dph?.nhnProcess ?? `${P}helse:helse:ver1.0`
    case 'dialogmelding_kvittering':
      return dph?.receiptProcess ?? `${P}helse:response:ver1.0`
    case 'innsynskrav':
      return e?.defaultInnsynskravProcess ?? `${P}einnsyn:innsynskrav:ver1.0`
    case 'publisering':
      return e?.defaultJournalProcess ?? `${P}einnsyn:journalpost:ver1.0`
    case 'einnsyn_kvittering':
      return e?.receiptProcess ?? `${P}einnsyn:response:ver1.0`
    default:
      return null
  }
}
