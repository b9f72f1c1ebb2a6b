/**
 * The business message classes of efm-integrasjonspunkt (`nextmove/*Message.java`), as JSON shapes in
 * Jackson's order: fields of `BusinessMessageAsAttachment` (`hoveddokument`) before the subclass's own.
 */
import { MESSAGE_TYPE_NAMES, type MessageTypeName, messageTypeByName } from './message-types.js'
import {
  anyValue,
  bool,
  enumOf,
  f,
  instant,
  int,
  localDate,
  map,
  type ObjectShape,
  obj,
  type Shape,
  str,
} from './schema.js'

const NM = 'no.difi.meldingsutveksling.nextmove.'

const emptyMap = (): Record<string, unknown> => ({})

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

const dpvSettings = obj(`${NM}DpvSettings`, {
  varselType: enumOf(`${NM}DpvVarselType`, ['VarselDPVUtenRevarsel', 'VarselDPVMedRevarsel']),
  varselTransportType: enumOf(`${NM}DpvVarselTransportType`, ['Epost', 'SMS', 'EpostOgSMS']),
  varselTekst: str,
  taushetsbelagtVarselTekst: str,
  dagerTilSvarfrist: int,
})

const dpfSettings = obj(`${NM}DpfSettings`, { forsendelseType: str })

/** KvitteringStatusMessage extends AbstractEntity, whose equals() is identity: no de-duplication. */
const kvitteringStatusMessages: Shape = {
  k: 'array',
  java: `java.util.HashSet<${NM}KvitteringStatusMessage>`,
  of: obj(`${NM}KvitteringStatusMessage`, { code: str, text: str }),
  dedupe: false,
}

export const postAddressShape = obj(`${NM}PostAddress`, {
  navn: str,
  adresselinje1: str,
  adresselinje2: str,
  adresselinje3: str,
  adresselinje4: str,
  postnummer: str,
  poststed: str,
  land: str,
})

const hoveddokument = { hoveddokument: str }

const SHAPES: Record<Exclude<MessageTypeName, 'feil'>, ObjectShape> = {
  status: obj(`${NM}StatusMessage`, {
    ...hoveddokument,
    status: enumOf('no.difi.meldingsutveksling.receipt.ReceiptStatus', RECEIPT_STATUSES),
    // ours: why a FEIL was given (a refused signature, say); the reference ignores what it does not know
    description: str,
  }),
  arkivmelding: obj(`${NM}ArkivmeldingMessage`, {
    ...hoveddokument,
    sikkerhetsnivaa: int,
    dpv: dpvSettings,
    dpf: dpfSettings,
  }),
  arkivmelding_kvittering: obj(`${NM}ArkivmeldingKvitteringMessage`, {
    ...hoveddokument,
    receiptType: str,
    relatedToMessageId: str,
    messages: kvitteringStatusMessages,
  }),
  avtalt: obj(`${NM}AvtaltMessage`, { ...hoveddokument, identifier: str, content: anyValue }),
  digital: obj(`${NM}DpiDigitalMessage`, {
    ...hoveddokument,
    sikkerhetsnivaa: int,
    avsenderId: str,
    fakturaReferanse: str,
    tittel: str,
    spraak: str,
    digitalPostInfo: obj(`${NM}DigitalPostInfo`, { virkningsdato: localDate, aapningskvittering: bool }),
    varsler: obj(`${NM}DpiNotification`, { epostTekst: str, smsTekst: str }),
    metadataFiler: f(map('java.util.HashMap<java.lang.String,java.lang.String>', str), {
      fallback: emptyMap,
    }),
  }),
  digital_dpv: obj(`${NM}DigitalDpvMessage`, {
    ...hoveddokument,
    tittel: str,
    sammendrag: str,
    innhold: str,
    dpv: dpvSettings,
  }),
  print: obj(`${NM}DpiPrintMessage`, {
    ...hoveddokument,
    avsenderId: str,
    fakturaReferanse: str,
    mottaker: postAddressShape,
    utskriftsfarge: enumOf(`${NM}PrintColor`, ['SORT_HVIT', 'FARGE']),
    posttype: enumOf(`${NM}PostalCategory`, ['A_PRIORITERT', 'B_OEKONOMI']),
    retur: obj(`${NM}MailReturn`, {
      mottaker: postAddressShape,
      returhaandtering: enumOf(`${NM}ReturnHandling`, ['DIREKTE_RETUR', 'MAKULERING_MED_MELDING']),
    }),
    printinstruksjoner: f(map('java.util.HashMap<java.lang.String,java.lang.String>', str), {
      fallback: emptyMap,
    }),
  }),
  dialogmelding: obj(`${NM}DialogmeldingMessage`, {
    ...hoveddokument,
    pasient: obj(`${NM}DialogmeldingMessage$Pasient`, {
      fnr: str,
      fornavn: str,
      mellomnavn: str,
      etternavn: str,
    }),
    metadataFiler: f(
      map(
        `java.util.HashMap<java.lang.String,${NM}DialogmeldingMessage$Metadata>`,
        obj(`${NM}DialogmeldingMessage$Metadata`, { issueDate: instant, description: str }),
      ),
      { fallback: emptyMap },
    ),
  }),
  // the only business message that is not a BusinessMessageAsAttachment: no hoveddokument
  dialogmelding_kvittering: obj(`${NM}DialogmeldingKvitteringMessage`, {
    relatedToMessageId: str,
    status: enumOf(`${NM}DialogmeldingKvitteringStatus`, ['OK', 'REJECTED', 'OK_ERROR_IN_MESSAGE_PART']),
    messages: kvitteringStatusMessages,
    rawReceipt: str,
  }),
  innsynskrav: obj(`${NM}InnsynskravMessage`, { ...hoveddokument, orgnr: str, epost: str }),
  publisering: obj(`${NM}PubliseringMessage`, { ...hoveddokument, orgnr: str }),
  einnsyn_kvittering: obj(`${NM}EinnsynKvitteringMessage`, {
    ...hoveddokument,
    dokumentId: str,
    status: str,
    referanseType: enumOf(`${NM}EinnsynType`, ['innsynskrav', 'publisering']),
  }),
}

/** The business message types the reference can bind (`BusinessMessageType`: every MessageType but `feil`), in its order. */
export const BUSINESS_MESSAGE_TYPES = MESSAGE_TYPE_NAMES.filter(
  (t): t is Exclude<MessageTypeName, 'feil'> => t !== 'feil',
)

export type BusinessMessageTypeName = Exclude<MessageTypeName, 'feil'>

/** Case-insensitive lookup, as `BusinessMessageType.fromType`. */
export function businessMessageTypeOf(name: string | null | undefined): BusinessMessageTypeName | undefined {
  const type = messageTypeByName(name)
  return type === 'feil' ? undefined : type
}

export function businessMessageShape(type: BusinessMessageTypeName): ObjectShape {
  return SHAPES[type]
}
