// An arkivmelding message as the SvarUt REST v3 organisation forsendelse the reference makes of it: the
// `forsendelse` JSON part and the documents after it, in order. Pure: the message, the ServiceRegistry's
// info records and the configuration. Fields the reference leaves null are left out (SvarUt treats an
// absent field as null).

import { DateTime } from 'luxon'
import type { Config } from '../../config/types.js'
import type { BrregPostadresse, InfoRecord } from '../../registry/types.js'
import {
  getMessageId,
  getReceiver,
  getReceiverRef,
  getSender,
  getSikkerhetsnivaa,
} from '../../sbd/accessors.js'
import { partOrPrimary, primaryIdentifier } from '../../sbd/identifiers.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import { OSLO } from '../../util/time.js'
import { type DpfArkivmelding, type DpfKorrespondansepart, readDpfArkivmelding } from './arkivmelding.js'

export interface Adresse {
  adresselinje1: string
  postnummer?: string
  poststed: string
}

export interface OrganisasjonForsendelse {
  tittel: string
  mottaker: { navn: string; digitalId: string; adresse?: Adresse }
  konteringskode?: string
  kunDigitalLevering: boolean
  kryptert: boolean
  utskriftskonfigurasjon: { tosidig: boolean }
  sikkerhetsniva: 'BETYDELIG' | 'HOYESTE'
  metadataFraAvleverendeSystem: NoarkMetadata
  svarSendesTil?: { navn: string; type: 'ORGANISASJON'; digitalId: string; adresse: Adresse }
  svarPaForsendelseId?: string
  dokumenter: Dokument[]
  forsendelsestype?: string
  eksternReferanse: string
}

export interface NoarkMetadata {
  saksaar?: number
  sakssekvensnummer?: number
  journalaar?: number
  journalsekvensnummer?: number
  journalpostnummer?: number
  journalposttype: string
  journalstatus: string
  journaldato?: string
  dokumentetsDato?: string
  tittel?: string
  saksbehandler?: string
  ekstraMetadata: { key: string; value: string }[]
}

export interface Dokument {
  filnavn: string
  mimeType: string
  skalEkskluderesFraUtskrift?: boolean
}

export interface ForsendelseMessage {
  messageId: string
  /** the SBD's ReceiverRef scope: the forsendelse this one answers, when it is a UUID */
  receiverRef: string | null
  /** the business message's `sikkerhetsnivaa` */
  sikkerhetsnivaa: number | null
  /** the business message's `dpf.forsendelseType` */
  forsendelseType: string | null
  /** nine digits each */
  senderOrgnr: string
  receiverOrgnr: string
  arkivmelding: DpfArkivmelding
  /** the message's files as uploaded */
  files: readonly { name: string; mimeType: string }[]
}

export interface Parties {
  receiver: InfoRecord | null
  sender: InfoRecord | null
}

/** A message that can never become a forsendelse: sending it again would fail the same way. */
export class ForsendelseError extends Error {}

/** What the mapping needs from an arkivmelding SBD, its arkivmelding.xml and its files. */
export function forsendelseMessage(
  sbd: StandardBusinessDocument,
  arkivmeldingXml: string,
  files: readonly { name: string; mimeType: string }[],
): ForsendelseMessage {
  const sender = getSender(sbd)
  const receiver = getReceiver(sbd)
  if (!sender || !receiver) throw new ForsendelseError('the message has no sender or receiver')
  const dpf = sbd.businessMessage.dpf as { forsendelseType?: unknown } | null | undefined
  return {
    messageId: getMessageId(sbd)!,
    receiverRef: getReceiverRef(sbd) ?? null,
    sikkerhetsnivaa: getSikkerhetsnivaa(sbd) ?? null,
    forsendelseType: typeof dpf?.forsendelseType === 'string' ? dpf.forsendelseType : null,
    // an on-behalf-of sender (0192:ours:theirs) answers as the organisation it sends for
    senderOrgnr: partOrPrimary(sender),
    receiverOrgnr: primaryIdentifier(receiver),
    arkivmelding: readDpfArkivmelding(arkivmeldingXml),
    files,
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function organisasjonForsendelse(
  m: ForsendelseMessage,
  parties: Parties,
  config: Config['fiks'],
): OrganisasjonForsendelse {
  const a = m.arkivmelding
  if (a.offentligTittel === null || a.offentligTittel.trim() === '')
    throw new ForsendelseError(
      "the arkivmelding's journalpost has no offentligTittel, which SvarUt needs as tittel",
    )
  const mottakerAdresse = brregAdresse(parties.receiver?.postadresse ?? null)
  const svarSendesTil = replyTo(m, parties.sender)
  return {
    tittel: a.offentligTittel,
    mottaker: {
      navn: parties.receiver?.organizationName ?? m.receiverOrgnr,
      digitalId: m.receiverOrgnr,
      ...(mottakerAdresse && { adresse: mottakerAdresse }),
    },
    ...(config.ut.konteringskode !== null && { konteringskode: config.ut.konteringskode }),
    kunDigitalLevering: config.ut.kunDigitalLevering,
    kryptert: config.kryptert,
    utskriftskonfigurasjon: { tosidig: true },
    sikkerhetsniva: m.sikkerhetsnivaa === 4 ? 'HOYESTE' : 'BETYDELIG',
    metadataFraAvleverendeSystem: noarkMetadata(a),
    ...(svarSendesTil && { svarSendesTil }),
    ...(m.receiverRef !== null && UUID.test(m.receiverRef) && { svarPaForsendelseId: m.receiverRef }),
    dokumenter: dokumenter(m, config.ut.ekskluderesFraPrint),
    ...(m.forsendelseType && { forsendelsestype: m.forsendelseType }),
    eksternReferanse: m.messageId,
  }
}

/** The Avsender korrespondansepart, else the sender's info record; left out when it has no usable address. */
function replyTo(m: ForsendelseMessage, info: InfoRecord | null): OrganisasjonForsendelse['svarSendesTil'] {
  const part = m.arkivmelding.avsender
  // a part without a usable address borrows the sender's: SvarUt refuses an svarSendesTil without one
  const adresse = (part && partAdresse(part)) ?? brregAdresse(info?.postadresse ?? null)
  const navn = part?.navn ?? info?.organizationName ?? null
  if (adresse === null || navn === null) return undefined
  return { navn, type: 'ORGANISASJON', digitalId: m.senderOrgnr, adresse }
}

function partAdresse(p: DpfKorrespondansepart): Adresse | null {
  return adresse(p.postadresse.join(' '), p.postnummer, p.poststed)
}

function brregAdresse(p: BrregPostadresse | null): Adresse | null {
  return p && adresse(p.adresse, p.postnummer, p.poststed)
}

/** null unless it has the two fields SvarUt requires (the reference sends them empty, and gets a 400). */
function adresse(line: string | null, postnummer: string | null, poststed: string | null): Adresse | null {
  const linje = line?.trim()
  if (!linje || !poststed) return null
  return { adresselinje1: linje, ...(postnummer && { postnummer }), poststed }
}

const JOURNALPOSTTYPE: Record<string, string> = {
  'inngående dokument': 'I',
  'utgående dokument': 'U',
  saksframlegg: 'S',
  'organinternt dokument for oppfølging': 'N',
  'organinternt dokument uten oppfølging': 'X',
}

// as the reference's table, which gives R to "Ferdigstilt fra saksbehandler" and F to "Godkjent av leder"
const JOURNALSTATUS: Record<string, string> = {
  'ferdigstilt fra saksbehandler': 'R',
  ekspedert: 'E',
  arkivert: 'A',
  'godkjent av leder': 'F',
  journalført: 'J',
  utgår: 'U',
}

function noarkMetadata(a: DpfArkivmelding): NoarkMetadata {
  const numbers = {
    saksaar: a.saksaar,
    sakssekvensnummer: a.sakssekvensnummer,
    journalaar: a.journalaar,
    journalsekvensnummer: a.journalsekvensnummer,
    journalpostnummer: a.journalpostnummer,
  }
  return {
    ...withoutNulls(numbers),
    // unknown or missing: the reference's defaults, Inngående dokument and Ferdigstilt fra saksbehandler
    journalposttype: JOURNALPOSTTYPE[a.journalposttype?.toLowerCase() ?? ''] ?? 'I',
    journalstatus: JOURNALSTATUS[a.journalstatus?.toLowerCase() ?? ''] ?? 'R',
    ...withoutNulls({
      journaldato: osloMidnight(a.journaldato),
      dokumentetsDato: osloMidnight(a.dokumentetsDato),
      tittel: a.offentligTittel,
      saksbehandler: a.avsender?.saksbehandler ?? null,
    }),
    ekstraMetadata: a.ekstraMetadata,
  }
}

/** `2026-08-20` as `2026-08-20T00:00:00+02:00`: the start of that day in Oslo, as the reference's JVM zone. */
export function osloMidnight(day: string | null): string | null {
  if (day === null) return null
  const dt = DateTime.fromISO(day, { zone: OSLO }).startOf('day')
  return dt.isValid ? dt.toFormat("yyyy-MM-dd'T'HH:mm:ssZZ") : null
}

/** Only the files the arkivmelding names, the Hoveddokument's first; arkivmelding.xml itself never. */
function dokumenter(m: ForsendelseMessage, exclude: readonly string[]): Dokument[] {
  const uploaded = new Map(m.files.map((f) => [f.name, f.mimeType]))
  return m.arkivmelding.files.map((filnavn) => {
    const mimeType = uploaded.get(filnavn)
    if (mimeType === undefined)
      throw new ForsendelseError(`the arkivmelding names ${filnavn}, which is not among the message's files`)
    const print = excludedFromPrint(filnavn, exclude)
    return { filnavn, mimeType, ...(print !== null && { skalEkskluderesFraUtskrift: print }) }
  })
}

/** false for a PDF; true when its extension is listed or `*` is; otherwise not said (null). */
export function excludedFromPrint(filnavn: string, exclude: readonly string[]): boolean | null {
  const dot = filnavn.lastIndexOf('.')
  const extension = dot < 0 ? '' : filnavn.slice(dot + 1).toLowerCase()
  if (extension === 'pdf') return false
  return exclude.includes('*') || (extension !== '' && exclude.includes(extension)) ? true : null
}

function withoutNulls<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: NonNullable<T[K]> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null)) as {
    [K in keyof T]?: NonNullable<T[K]>
  }
}
