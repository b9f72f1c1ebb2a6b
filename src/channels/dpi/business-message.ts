/**
 * The DPI business message the integration point signs and posts to its access point: a NextMove
 * `digital` message becomes `digital`, a `print` message becomes `utskrift`, filled in as the
 * reference's CreateStandardBusinessDocument, ShipmentFactory and MeldingsformidlerRequestFactory do,
 * null members left out (the reference writes NON_NULL), then checked against the DPI schemas.
 */
import { DateTime } from 'luxon'
import {
  getConversationId,
  getExpectedResponseDateTime,
  getMessageId,
  getSender,
} from '../../sbd/accessors.js'
import { checkDpiDocument, type DpiDocument, dpiProcess, dpiStandard } from '../../sbd/dpi.js'
import { hasText } from '../../sbd/java.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import { ISO6523_ACTORID_UPIS } from '../../sbd/types.js'
import { formatOslo, OSLO } from '../../util/time.js'
import { ChannelSendError } from '../send-error.js'

/** The ServiceRegistry's DPI record, the fields a letter is made from. */
export interface DpiRecord {
  postkasseAdresse: string | null
  orgnrPostkasse: string | null
  epostAdresse: string | null
  mobilnummer: string | null
  spraak: string | null
  pemCertificate: string | null
}

export interface DpiBusinessInput {
  /** the NextMove message as stored (type `digital` or `print`) */
  sbd: StandardBusinessDocument
  /** the DPI record; for print, orgnrPostkasse and pemCertificate are the print provider's already */
  record: DpiRecord
  /** the Maskinporten token, embedded as `maskinportentoken` (the same one goes in the Bearer header) */
  token: string
  /** base64 SHA-256 of the CMS bytes */
  fingerprint: string
  /** difi.move.dpi.language */
  defaultLanguage: string
  now: Date
}

/**
 * A message the access point would refuse however often it is sent (a record without a mailbox, an
 * address the schema does not allow, a sender that is no organisation): a failure for good, not retried.
 * The reference retries these until the message expires.
 */
export class DpiMessageError extends ChannelSendError {
  override name = 'DpiMessageError'
  declare readonly retryable: false

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options)
  }
}

const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256'
/** the days after virkning a notification is repeated on, as the reference always asks */
const REPETISJONER = [0, 7]

type Json = Record<string, unknown>

/** Drops null and undefined members (the reference's NON_NULL); other values stay as they are. */
function compact(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined))
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
/** an optional text: empty or blank (a prototype's `""`) is none, as neither the schema nor the manifest takes it */
const optionalText = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null)
const obj = (v: unknown): Json =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}

function senderParts(sbd: StandardBusinessDocument) {
  const sender = getSender(sbd)
  if (sender?.kind !== 'iso6523')
    throw new DpiMessageError(
      `DPI needs an organisation as sender (0192:<orgnr>), not '${sbd.standardBusinessDocumentHeader.sender?.[0]?.identifier?.value}'`,
    )
  return sender
}

/**
 * The letter's `avsender.virksomhetsidentifikator`: the on-behalf-of organisation of a sender
 * `0192:<main>:<part>` (`0192:<part>`), else the sender `0192:<main>`. Its bare orgnr is the token's
 * `consumer_org`.
 */
export function dpiSender(sbd: StandardBusinessDocument): string {
  const s = senderParts(sbd)
  return `${s.icd}:${s.part ?? s.organization}`
}

/** The letter's language: the message's `spraak`, else the record's, else difi.move.dpi.language. */
function language(sbd: StandardBusinessDocument, record: DpiRecord, defaultLanguage: string): string {
  const own = sbd.type === 'digital' ? str(sbd.businessMessage.spraak) : null
  return own ?? record.spraak ?? defaultLanguage
}

/** The fields of the SDP manifest.xml (src/packaging/sdp-manifest.ts `SdpManifest`). */
export function manifestInput(i: {
  sbd: StandardBusinessDocument
  record: DpiRecord
  defaultLanguage: string
}): {
  postkasseadresse: string | null
  avsender: string
  avsenderidentifikator: string | null
  fakturaReferanse: string | null
  language: string
} {
  const bm = i.sbd.businessMessage
  return {
    // as the reference: a print manifest has no <mottaker>
    postkasseadresse: i.sbd.type === 'digital' ? i.record.postkasseAdresse : null,
    avsender: dpiSender(i.sbd),
    avsenderidentifikator: optionalText(bm.avsenderId),
    fakturaReferanse: optionalText(bm.fakturaReferanse),
    language: language(i.sbd, i.record, i.defaultLanguage),
  }
}

function avsender(sbd: StandardBusinessDocument): Json {
  return compact({
    virksomhetsidentifikator: { authority: ISO6523_ACTORID_UPIS, value: dpiSender(sbd) },
    avsenderidentifikator: optionalText(sbd.businessMessage.avsenderId),
    fakturaReferanse: optionalText(sbd.businessMessage.fakturaReferanse),
  })
}

/** Start of the virkningsdato in Oslo, else now (the reference's clock runs in Europe/Oslo). */
function virkningstidspunkt(virkningsdato: unknown, now: Date): string {
  if (typeof virkningsdato === 'string') {
    const day = DateTime.fromISO(virkningsdato, { zone: OSLO })
    if (day.isValid) return formatOslo(day.startOf('day').toMillis())
  }
  return formatOslo(now)
}

function varsler(bm: Json, record: DpiRecord): Json {
  const texts = obj(bm.varsler)
  const epost = str(texts.epostTekst)
  const sms = str(texts.smsTekst)
  // only when both the record has the address and the message has the text (Spring's hasLength)
  return compact({
    epostvarsel:
      record.epostAdresse && epost
        ? { epostadresse: record.epostAdresse, varslingstekst: epost, repetisjoner: [...REPETISJONER] }
        : null,
    smsvarsel:
      record.mobilnummer && sms
        ? { mobiltelefonnummer: record.mobilnummer, varslingstekst: sms, repetisjoner: [...REPETISJONER] }
        : null,
  })
}

function digital(i: DpiBusinessInput, common: Json): Json {
  const bm = i.sbd.businessMessage
  const info = obj(bm.digitalPostInfo)
  return compact({
    avsender: common.avsender,
    mottaker: compact({ postkasseadresse: i.record.postkasseAdresse }),
    dokumentpakkefingeravtrykk: common.dokumentpakkefingeravtrykk,
    maskinportentoken: common.maskinportentoken,
    sikkerhetsnivaa: bm.sikkerhetsnivaa,
    virkningstidspunkt: virkningstidspunkt(info.virkningsdato, i.now),
    aapningskvittering: info.aapningskvittering === true,
    ikkesensitivtittel: bm.tittel,
    spraak: language(i.sbd, i.record, i.defaultLanguage),
    varsler: varsler(bm, i.record),
  })
}

const isNorway = (land: string | null) =>
  !hasText(land) || land.toLowerCase() === 'norway' || land.toLowerCase() === 'norge'

/**
 * A NextMove PostAddress as `adresseInformasjon`. In Norway: postnummer and poststed, no land. Abroad:
 * "postnummer poststed" goes into the first empty of adresselinje2..4 (or is appended to line 4) and
 * `land` is set, as the reference does.
 */
export function printAddress(address: unknown): Json {
  const a = obj(address)
  const out: Json = compact({
    navn: a.navn,
    adresselinje1: a.adresselinje1,
    adresselinje2: a.adresselinje2,
    adresselinje3: a.adresselinje3,
    adresselinje4: a.adresselinje4,
  })
  const land = str(a.land)
  if (isNorway(land)) return compact({ ...out, postnummer: a.postnummer, poststed: a.poststed })
  const postal = [str(a.postnummer), str(a.poststed)].filter(hasText).join(' ')
  if (postal) {
    const free = (['adresselinje2', 'adresselinje3', 'adresselinje4'] as const).find(
      (k) => !hasText(str(out[k])),
    )
    if (free) out[free] = postal
    else out.adresselinje4 = `${out.adresselinje4} ${postal}`
  }
  return { ...out, land }
}

function utskrift(i: DpiBusinessInput, common: Json): Json {
  const bm = i.sbd.businessMessage
  const retur = obj(bm.retur)
  return compact({
    avsender: common.avsender,
    mottaker: printAddress(bm.mottaker),
    dokumentpakkefingeravtrykk: common.dokumentpakkefingeravtrykk,
    maskinportentoken: common.maskinportentoken,
    utskriftstype: bm.utskriftsfarge === 'FARGE' ? 'FARGE' : 'SORT_HVIT',
    retur: {
      mottaker: printAddress(retur.mottaker),
      returposthaandtering:
        retur.returhaandtering === 'MAKULERING_MED_MELDING' ? 'MAKULERING_MED_MELDING' : 'DIREKTE_RETUR',
    },
    posttype: bm.posttype === 'A_PRIORITERT' ? 'A' : 'B',
  })
}

function header(i: DpiBusinessInput, type: 'digital' | 'utskrift'): Json {
  const s = senderParts(i.sbd)
  const provider = i.record.orgnrPostkasse
  if (!hasText(provider))
    throw new DpiMessageError('the DPI record names no mailbox or print provider (orgnrPostkasse)')
  const org = (value: string) => ({ identifier: { authority: ISO6523_ACTORID_UPIS, value } })
  const expires = getExpectedResponseDateTime(i.sbd)?.iso
  return {
    headerVersion: '1.0',
    sender: [org(`${s.icd}:${s.organization}`)],
    receiver: [org(/^\d{4}:/.test(provider) ? provider : `0192:${provider}`)],
    documentIdentification: compact({
      standard: dpiStandard(type),
      typeVersion: '1.0',
      instanceIdentifier: getMessageId(i.sbd),
      type,
      creationDateAndTime: formatOslo(i.now),
    }),
    businessScope: {
      scope: [
        compact({
          type: 'ConversationId',
          instanceIdentifier: getConversationId(i.sbd),
          identifier: dpiProcess(type),
          scopeInformation: [compact({ expectedResponseDateTime: expires })],
        }),
      ],
    },
  }
}

/**
 * The signed part of a DPI send: `digital` for a NextMove `digital` message, `utskrift` for `print`.
 * Throws {@link DpiMessageError} (a failure for good) when the result breaks the DPI schemas.
 */
export function dpiBusinessMessage(i: DpiBusinessInput): DpiDocument {
  if (i.sbd.type !== 'digital' && i.sbd.type !== 'print')
    throw new DpiMessageError(`DPI sends digital and print messages, not '${i.sbd.type}'`)
  const type = i.sbd.type === 'digital' ? 'digital' : 'utskrift'
  const common: Json = {
    avsender: avsender(i.sbd),
    dokumentpakkefingeravtrykk: { digestMethod: SHA256, digestValue: i.fingerprint },
    maskinportentoken: i.token,
  }
  const doc = {
    standardBusinessDocument: {
      standardBusinessDocumentHeader: header(i, type),
      [type]: type === 'digital' ? digital(i, common) : utskrift(i, common),
    },
  }
  const checked = checkDpiDocument(doc)
  if (!checked.ok) throw new DpiMessageError(`the DPI ${type} message breaks its schema: ${checked.problem}`)
  return checked.doc
}
