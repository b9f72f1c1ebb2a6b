/**
 * Descriptions of the SBD's fields and business messages, by component (`Class` or `Class.field`), from the
 * reference's documentation (Digdir's eFormidling pages on docs.digdir.no, Utvikling › Dokumenttyper, and the
 * reference's API restdocs). Only text: the shapes and constraints come from src/sbd.
 */
const TTL =
  'The time to live (levetid) of the message: only the first one of the ConversationId scope counts; ' +
  'must be in the future; set from `difi.move.nextmove.default-ttl-hours` when absent.'

export const SBD_NOTES: Record<string, string> = {
  StandardBusinessDocumentHeader: 'The SBD header (efm-common `StandardBusinessDocumentHeader`).',
  'StandardBusinessDocumentHeader.headerVersion': 'Always `1.0` in practice.',
  'StandardBusinessDocumentHeader.sender':
    'At most one. Set to our organisation (`0192:<difi.move.org.number>`) when absent; ' +
    '`0192:<other org>` becomes `0192:<ours>:<other org>` (on behalf of). Its value must be a valid identifier.',
  'StandardBusinessDocumentHeader.receiver':
    'At most one; needed for every type but `print` (a letter to a foreign or unknown address).',
  'PartnerIdentification.value':
    'With `iso6523-actorid-upis`: `0192:<organisation number>` (optionally `:<on-behalf-of organisation>`) ' +
    'or an 11-digit fødselsnummer/D-nummer; with `nhn-actorid`: `her-id:<n>` or `fastlege-for:<fnr>`.',
  'PartnerIdentification.authority': '`iso6523-actorid-upis`, or `nhn-actorid` for DPH.',
  'DocumentIdentification.standard':
    'The document type URN; must end with `::<type>`, e.g. `urn:no:difi:arkivmelding:xsd::arkivmelding`.',
  'DocumentIdentification.typeVersion': 'E.g. `1.0` or `2.0`; not interpreted.',
  'DocumentIdentification.instanceIdentifier':
    'The messageId. Generated (a random UUID) when absent. Any string Java `UUID.fromString` takes is accepted.',
  'DocumentIdentification.type':
    'The business message type, any case; the SBD carries the business message under this name, in lower case.',
  'DocumentIdentification.creationDateAndTime': 'Set to now when absent.',
  'DocumentIdentification.multipleType': 'Not used.',
  Manifest: 'Not used by the integration point.',
  'Scope.type':
    '`ConversationId` (exactly one: conversationId and process), `SenderRef`/`ReceiverRef` (references), ' +
    '`MessageChannel` (the channel), `JournalpostId`, `ParentId`.',
  'Scope.instanceIdentifier':
    'ConversationId: the conversationId, a UUID, generated when absent. SenderRef/ReceiverRef: the reference. ' +
    'Generated for every scope that lacks one.',
  'Scope.identifier': 'ConversationId: the process URN. MessageChannel: the channel name.',
  'CorrelationInformation.expectedResponseDateTime': TTL,
  StatusMessage: '`status`: a status sent back between integration points (DPO, DPE).',
  'StatusMessage.status': 'Usually `MOTTATT` or `LEVERT`.',
  ArkivmeldingMessage:
    '`arkivmelding` (DPO, DPV, DPF): the attachments must include `arkivmelding.xml` (Noark 5) and every file it names.',
  'ArkivmeldingMessage.sikkerhetsnivaa': '3 or 4; DPF (SvarUt login level) and the ServiceRegistry lookup.',
  ArkivmeldingKvitteringMessage:
    '`arkivmelding_kvittering`: the receiver archived (or refused) an arkivmelding.',
  'ArkivmeldingKvitteringMessage.receiptType': '`OK`, `WARNING`, `ERROR` or `NOTSUPPORTED`.',
  'ArkivmeldingKvitteringMessage.relatedToMessageId': 'The messageId of the arkivmelding.',
  AvtaltMessage: '`avtalt` (DPO): a message type agreed between the parties.',
  'AvtaltMessage.identifier': 'The agreed message type, e.g. `no.digdir.avtalt.test.v1`.',
  'AvtaltMessage.content': 'Any JSON value.',
  DpiDigitalMessage: '`digital` (DPI): a letter to a citizen’s digital mailbox.',
  'DpiDigitalMessage.spraak': 'ISO 639-1, e.g. `NO` or `en`.',
  'DpiDigitalMessage.metadataFiler': 'Attachment filename → the filename of its metadata file.',
  DigitalDpvMessage: '`digital_dpv` (DPV): a message to an Altinn inbox.',
  DpiPrintMessage: '`print` (DPI): a letter printed and posted.',
  'DpiPrintMessage.utskriftsfarge': 'Default `SORT_HVIT`.',
  'DpiPrintMessage.posttype': 'Default `B_OEKONOMI`.',
  'DpiPrintMessage.mottaker': 'Filled from the ServiceRegistry when absent and a receiver is given.',
  DialogmeldingMessage: '`dialogmelding` (DPH): a health-care dialogue message.',
  'DialogmeldingMessage.metadataFiler': 'Attachment filename → its metadata.',
  DialogmeldingKvitteringMessage:
    '`dialogmelding_kvittering` (DPH). The only business message with no `hoveddokument`.',
  InnsynskravMessage: '`innsynskrav` (DPE): a request for access to public records.',
  PubliseringMessage: '`publisering` (DPE): journal data published to eInnsyn.',
  EinnsynKvitteringMessage: '`einnsyn_kvittering` (DPE).',
}

/** Every business message (but one) inherits `hoveddokument`. */
export const HOVEDDOKUMENT_NOTE =
  'The filename of the primary document: the attachment with this filename is the primary one.'
