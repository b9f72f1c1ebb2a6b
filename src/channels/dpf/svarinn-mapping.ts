// A forsendelse received through SvarInn as the reference takes it in: an arkivmelding SBD whose
// messageId and conversationId are the forsendelse's id, and an arkivmelding.xml built from its metadata
// (a saksmappe with one journalpost, the Avsender from svarSendesTil, one dokumentbeskrivelse per file).
// Pure: the forsendelse, the configuration and the clock. The same forsendelse always gives the same
// systemIDs, so one fetched again after a crash is the same message.

import { createHash } from 'node:crypto'
import { DateTime } from 'luxon'
import type { Config } from '../../config/types.js'
import { ARKIVMELDING_NS } from '../../sbd/arkivmelding.js'
import { defaultTypeVersion } from '../../sbd/prototype.js'
import { ISO6523_ACTORID_UPIS, type StandardBusinessDocument } from '../../sbd/types.js'
import { formatOslo, OSLO, parseDateTime } from '../../util/time.js'
import type { SvarInnForsendelse } from './svarinn-forsendelse.js'

export interface IncomingForsendelse {
  sbd: StandardBusinessDocument
  /** arkivmelding.xml, UTF-8 */
  arkivmelding: string
  /** the documents in the zip, in filmetadata's order, with the type SvarInn gives */
  documents: { filnavn: string; mimeType: string }[]
}

export interface IncomingSettings {
  inn: Config['fiks']['inn']
  /** hours until the SBD's expectedResponseDateTime (difi.move.fiks.ut.default-ttl-hours) */
  ttlHours: number
  now: Date
}

export function incomingForsendelse(f: SvarInnForsendelse, s: IncomingSettings): IncomingForsendelse {
  return {
    sbd: incomingSbd(f, s),
    arkivmelding: arkivmeldingXml(f, s.now),
    documents: f.filmetadata.map((m) => ({
      filnavn: m.filnavn,
      mimeType: m.mimetype || 'application/octet-stream',
    })),
  }
}

function incomingSbd(f: SvarInnForsendelse, s: IncomingSettings): StandardBusinessDocument {
  const now = s.now.getTime()
  const party = (orgnr: string) => [
    { identifier: { value: `0192:${orgnr}`, authority: ISO6523_ACTORID_UPIS } },
  ]
  const sender = /^\d{9}$/.test(f.svarSendesTil.orgnr ?? '')
    ? f.svarSendesTil.orgnr!
    : s.inn.fallbackSenderOrgNr
  const scopes: NonNullable<
    NonNullable<StandardBusinessDocument['standardBusinessDocumentHeader']['businessScope']>['scope']
  > = [
    {
      type: 'ConversationId',
      instanceIdentifier: f.id,
      identifier: s.inn.process,
      scopeInformation: [{ expectedResponseDateTime: formatOslo(now + s.ttlHours * 3_600_000) }],
    },
  ]
  if (f.svarPaForsendelse) scopes.push({ type: 'ReceiverRef', instanceIdentifier: f.svarPaForsendelse })
  return {
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      sender: party(sender),
      receiver: party(f.mottaker.orgnr),
      documentIdentification: {
        standard: s.inn.documentType,
        typeVersion: defaultTypeVersion('arkivmelding'),
        instanceIdentifier: f.id,
        type: 'arkivmelding',
        creationDateAndTime: formatOslo(now),
      },
      businessScope: { scope: scopes },
    },
    type: 'arkivmelding',
    // as the reference: an empty business message (SvarInn says nothing of a main document)
    businessMessage: {},
  }
}

// the reference's tables, letters to the arkivmelding's words; unknown letters get its defaults
const JOURNALPOSTTYPE: Record<string, string> = {
  I: 'Inngående dokument',
  U: 'Utgående dokument',
  S: 'Saksframlegg',
  N: 'Organinternt dokument for oppfølging',
  X: 'Organinternt dokument uten oppfølging',
}
const JOURNALSTATUS: Record<string, string> = {
  R: 'Ferdigstilt fra saksbehandler',
  E: 'Ekspedert',
  A: 'Arkivert',
  F: 'Godkjent av leder',
  J: 'Journalført',
  U: 'Utgår',
}

/** The arkivmelding.xml, its elements in the schema's order, only those the reference fills. */
export function arkivmeldingXml(f: SvarInnForsendelse, now: Date): string {
  const m = f.metadataFraAvleverendeSystem
  const sst = f.svarSendesTil
  const year = DateTime.fromJSDate(now, { zone: OSLO }).year
  const dokumentetsDato = osloDay(m.dokumentetsDato)
  const tittel = (m.tittel || f.tittel || '') + (sst.fnr ? ` (eDialog fra ${sst.fnr})` : '')
  const x = new Xml()
  x.open('arkivmelding', `xmlns="${ARKIVMELDING_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`)
  x.leaf('system', 'Integrasjonspunkt')
  x.leaf('meldingId', f.id)
  x.leaf(
    'tidspunkt',
    dokumentetsDato ? `${dokumentetsDato}T00:00:00${osloOffset(dokumentetsDato)}` : formatOslo(now),
  )
  x.leaf('antallFiler', String(f.filmetadata.length))
  x.open('mappe', 'xsi:type="saksmappe"')
  x.leaf('systemID', stableUuid(f.id, 'saksmappe'))
  x.open('basisregistrering', 'xsi:type="journalpost"')
  x.leaf('systemID', stableUuid(f.id, 'journalpost'))
  documentElements(x, f)
  x.leaf('tittel', tittel)
  x.leaf('offentligTittel', f.tittel ?? null)
  const extra = (m.ekstraMetadata ?? []).filter((e) => NAME.test(e.key))
  if (extra.length > 0) {
    x.open('virksomhetsspesifikkeMetadata')
    for (const e of extra) x.leaf(e.key, e.value ?? '')
    x.close('virksomhetsspesifikkeMetadata')
  }
  x.leaf('journalaar', String(m.journalaar ?? year))
  x.leaf('journalsekvensnummer', String(m.journalsekvensnummer ?? 0))
  x.leaf('journalpostnummer', String(m.journalpostnummer ?? 0))
  x.leaf('journalposttype', JOURNALPOSTTYPE[m.journalposttype ?? ''] ?? JOURNALPOSTTYPE.I!)
  x.leaf('journalstatus', JOURNALSTATUS[m.journalstatus ?? ''] ?? JOURNALSTATUS.R!)
  x.leaf('journaldato', osloDay(m.journaldato) ?? DateTime.fromJSDate(now, { zone: OSLO }).toISODate()!)
  x.leaf('dokumentetsDato', dokumentetsDato)
  avsenderElement(x, f.svarSendesTil)
  x.close('basisregistrering')
  x.leaf('saksaar', m.saksaar == null ? null : String(m.saksaar))
  x.leaf('sakssekvensnummer', m.sakssekvensnummer == null ? null : String(m.sakssekvensnummer))
  x.leaf('saksansvarlig', m.saksBehandler || null)
  x.close('mappe').close('arkivmelding')
  return x.toString()
}

function documentElements(x: Xml, f: SvarInnForsendelse): void {
  for (const [i, file] of f.filmetadata.entries()) {
    x.open('dokumentbeskrivelse')
    x.leaf('systemID', stableUuid(f.id, `dokumentbeskrivelse:${i}`))
    x.leaf('tittel', file.filnavn)
    x.open('dokumentobjekt')
    x.leaf('referanseDokumentfil', file.filnavn)
    x.close('dokumentobjekt').close('dokumentbeskrivelse')
  }
}

/** As the reference: the one Avsender is svarSendesTil, with its first address line only. */
function avsenderElement(x: Xml, sst: SvarInnForsendelse['svarSendesTil']): void {
  x.open('korrespondansepart')
  x.leaf('korrespondanseparttype', 'Avsender')
  x.leaf('korrespondansepartNavn', sst.navn ?? '')
  x.leaf('postadresse', sst.adresse1 || null)
  x.leaf('postnummer', sst.postnr || null)
  x.leaf('poststed', sst.poststed || null)
  x.leaf('land', sst.land || null)
  x.close('korrespondansepart')
}

// an ekstraMetadata key becomes an element name; one that cannot be is left out rather than the forsendelse
const NAME =
  /^[A-Za-z_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u00FF][A-Za-z0-9_.\-\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u00FF]*$/

/** SvarInn's date (epoch milliseconds, or ISO text) as its day in Oslo, `yyyy-MM-dd`. */
function osloDay(value: number | string | null | undefined): string | null {
  const parsed = parseDateTime(value)
  return parsed ? DateTime.fromMillis(parsed.instant, { zone: OSLO }).toISODate() : null
}

function osloOffset(day: string): string {
  return DateTime.fromISO(day, { zone: OSLO }).toFormat('ZZ')
}

/** A UUID (version 5 layout) from the forsendelse id and what it names: the same every time. */
export function stableUuid(id: string, what: string): string {
  const h = createHash('sha1').update(`svarinn:${id}:${what}`).digest()
  h[6] = (h[6]! & 0x0f) | 0x50
  h[8] = (h[8]! & 0x3f) | 0x80
  const hex = h.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Just enough XML writing: escaped text, characters XML 1.0 cannot carry dropped, two-space indents. */
class Xml {
  private readonly lines = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>']
  private depth = 0

  open(name: string, attrs = ''): this {
    this.lines.push(`${this.pad()}<${name}${attrs ? ` ${attrs}` : ''}>`)
    this.depth++
    return this
  }

  close(name: string): this {
    this.depth--
    this.lines.push(`${this.pad()}</${name}>`)
    return this
  }

  /** an element with text; none at all for null */
  leaf(name: string, value: string | null): this {
    if (value !== null) this.lines.push(`${this.pad()}<${name}>${escapeXml(value)}</${name}>`)
    return this
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`
  }

  private pad(): string {
    return '  '.repeat(this.depth)
  }
}

export function escapeXml(value: string): string {
  return value
    .replace(/[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}
