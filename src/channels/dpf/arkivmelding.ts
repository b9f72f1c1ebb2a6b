// What a SvarUt forsendelse takes from an arkivmelding.xml: the saksmappe's and the journalpost's numbers,
// dates and titles, the Avsender korrespondansepart, the simple virksomhetsspesifikkeMetadata, and the
// documents in the order SvarUt gets them. Pure.

import { ApiError } from '../../errors/api-error.js'
import {
  children,
  firstText,
  hasXsiType,
  parseArkivmeldingTree,
  type XmlElement,
} from '../../sbd/arkivmelding.js'

export interface DpfKorrespondansepart {
  navn: string | null
  /** every postadresse line, in order */
  postadresse: string[]
  postnummer: string | null
  poststed: string | null
  land: string | null
  saksbehandler: string | null
}

export interface DpfArkivmelding {
  saksaar: number | null
  sakssekvensnummer: number | null
  journalaar: number | null
  journalsekvensnummer: number | null
  journalpostnummer: number | null
  /** the arkivmelding's words (`Utgående dokument`), mapped to Noark letters by the forsendelse */
  journalposttype: string | null
  journalstatus: string | null
  /** `yyyy-MM-dd` */
  journaldato: string | null
  dokumentetsDato: string | null
  offentligTittel: string | null
  /** the first korrespondansepart of type Avsender */
  avsender: DpfKorrespondansepart | null
  /** the childless children of virksomhetsspesifikkeMetadata: element name and text */
  ekstraMetadata: { key: string; value: string }[]
  /** referanseDokumentfil of each dokumentobjekt, Hoveddokument's first, each name once */
  files: string[]
}

/** Reads an arkivmelding.xml; `UnmarshalArkivmelding` or `MissingSaksmappe` (as the summary) when it cannot. */
export function readDpfArkivmelding(xml: string): DpfArkivmelding {
  const root = parseArkivmeldingTree(xml)
  const saksmappe = children(root, 'mappe').find((m) => hasXsiType(m, 'saksmappe'))
  const journalpost =
    saksmappe && children(saksmappe, 'basisregistrering').find((r) => hasXsiType(r, 'journalpost'))
  if (!saksmappe || !journalpost) throw new ApiError('MissingSaksmappe')
  const text = (el: XmlElement, name: string) => trimmed(firstText(el, name))
  const avsender = children(journalpost, 'korrespondansepart').find(
    (k) => text(k, 'korrespondanseparttype')?.toLowerCase() === 'avsender',
  )
  return {
    saksaar: integer(text(saksmappe, 'saksaar')),
    sakssekvensnummer: integer(text(saksmappe, 'sakssekvensnummer')),
    journalaar: integer(text(journalpost, 'journalaar')),
    journalsekvensnummer: integer(text(journalpost, 'journalsekvensnummer')),
    journalpostnummer: integer(text(journalpost, 'journalpostnummer')),
    journalposttype: text(journalpost, 'journalposttype'),
    journalstatus: text(journalpost, 'journalstatus'),
    journaldato: date(text(journalpost, 'journaldato')),
    dokumentetsDato: date(text(journalpost, 'dokumentetsDato')),
    offentligTittel: firstText(journalpost, 'offentligTittel'),
    avsender: avsender ? korrespondansepart(avsender) : null,
    ekstraMetadata: ekstraMetadata(journalpost),
    files: documentFiles(journalpost),
  }
}

function korrespondansepart(k: XmlElement): DpfKorrespondansepart {
  return {
    navn: trimmed(firstText(k, 'korrespondansepartNavn')),
    postadresse: children(k, 'postadresse')
      .map((p) => p.text.trim())
      .filter((line) => line !== ''),
    postnummer: trimmed(firstText(k, 'postnummer')),
    poststed: trimmed(firstText(k, 'poststed')),
    land: trimmed(firstText(k, 'land')),
    saksbehandler: trimmed(firstText(k, 'saksbehandler')),
  }
}

/** As the reference: only the elements that hold text, not those with elements inside. */
function ekstraMetadata(journalpost: XmlElement): { key: string; value: string }[] {
  const holder = children(journalpost, 'virksomhetsspesifikkeMetadata')[0]
  if (!holder) return []
  return holder.elements.filter((e) => e.elements.length === 0).map((e) => ({ key: e.local, value: e.text }))
}

/** The Hoveddokument's files first, then the others in the order of the arkivmelding. */
function documentFiles(journalpost: XmlElement): string[] {
  const beskrivelser = children(journalpost, 'dokumentbeskrivelse')
  const isMain = (d: XmlElement) =>
    trimmed(firstText(d, 'tilknyttetRegistreringSom'))?.toLowerCase() === 'hoveddokument'
  const ordered = [...beskrivelser.filter(isMain), ...beskrivelser.filter((d) => !isMain(d))]
  const names = ordered.flatMap((d) =>
    children(d, 'dokumentobjekt').flatMap((o) => trimmed(firstText(o, 'referanseDokumentfil')) ?? []),
  )
  return [...new Set(names)]
}

function trimmed(value: string | null): string | null {
  const t = value?.trim() ?? ''
  return t === '' ? null : t
}

function integer(value: string | null): number | null {
  if (value === null || !/^[+-]?\d{1,15}$/.test(value)) return null
  return Number(value)
}

/** The date part of an xs:date or xs:dateTime as the arkivmelding writes it (its own day, not UTC's). */
function date(value: string | null): string | null {
  return value !== null && /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : null
}
