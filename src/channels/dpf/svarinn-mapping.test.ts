import { describe, expect, it } from 'vitest'
import { parseArkivmelding } from '../../sbd/arkivmelding.js'
import { readDpfArkivmelding } from './arkivmelding.js'
import { forsendelseIdOf, parseSvarInnForsendelse, SvarInnForsendelseError } from './svarinn-forsendelse.js'
import { escapeXml, incomingForsendelse, stableUuid } from './svarinn-mapping.js'
import { FIKS } from './test-support.js'

const ID = '81264cfa-1ba5-4fb5-a95d-48c824ed3bbb'
// 2026-03-10T09:00:00+01:00
const NOW = new Date('2026-03-10T08:00:00Z')
const SETTINGS = { inn: FIKS.inn, ttlHours: 24, now: NOW }

/** The shape of SvarInn's documented example, with our own values. */
function listed(): Record<string, unknown> {
  return {
    id: ID,
    tittel: 'Svar på søknad om skjenkebevilling',
    date: 1553183240681,
    avsender: { navn: 'Testkommune', adresselinje1: '', postnr: '0151', poststed: 'Oslo' },
    mottaker: {
      navn: 'Digdir',
      orgnr: '910075918',
      fnr: null,
      adresse1: null,
      postnr: '0114',
      poststed: 'Oslo',
    },
    svarSendesTil: {
      navn: 'Testkommune',
      orgnr: '910229028',
      fnr: null,
      adresse1: 'Pb 253',
      adresse2: null,
      adresse3: null,
      postnr: '9951',
      poststed: 'VARDØ',
      land: '',
    },
    metadataFraAvleverendeSystem: {
      sakssekvensnummer: 1,
      saksaar: 2016,
      journalaar: 2016,
      journalsekvensnummer: 25,
      journalpostnummer: 13,
      journalposttype: 'U',
      journalstatus: 'F',
      // 2016-03-21T00:00:00+01:00
      journaldato: 1458514800000,
      dokumentetsDato: 1458514800000,
      tittel: 'Vedtak: skjenkebevilling <innvilget> & "klar"',
      saksBehandler: 'Ola Nordmann',
      ekstraMetadata: [
        { key: 'gnr', value: '12' },
        { key: 'ikke et navn', value: 'x' },
      ],
    },
    metadataForImport: { sakssekvensnummer: 0, saksaar: 0, dokumentetsDato: '2014-10-21T09:30:13.310+02:00' },
    status: 'Klar for mottak',
    niva: '3',
    filmetadata: [
      { filnavn: 'vedtak.pdf', mimetype: 'application/pdf', sha256hash: 'ab', dokumentType: null, size: 77 },
      { filnavn: 'kart.png', mimetype: 'image/png', sha256hash: 'cd', dokumentType: null, size: 0 },
    ],
    svarPaForsendelse: 'd6b23522-ddf3-462a-8140-16e59e1f476d',
    forsendelseType: null,
    eksternRef: 'bb8323b9-1023-4046-b620-63c4f9120c56',
    lenker: [],
    downloadUrl: `https://svarut.example/tjenester/svarinn/forsendelse/${ID}`,
  }
}

const incoming = (value = listed(), settings = SETTINGS) =>
  incomingForsendelse(parseSvarInnForsendelse(value), settings)

describe('a SvarInn forsendelse taken in', () => {
  it("is an arkivmelding SBD as the reference's: ids, parties, process, type and the answered forsendelse", () => {
    expect(incoming().sbd).toEqual({
      standardBusinessDocumentHeader: {
        headerVersion: '1.0',
        sender: [{ identifier: { value: '0192:910229028', authority: 'iso6523-actorid-upis' } }],
        receiver: [{ identifier: { value: '0192:910075918', authority: 'iso6523-actorid-upis' } }],
        documentIdentification: {
          standard: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
          typeVersion: '2.0',
          instanceIdentifier: ID,
          type: 'arkivmelding',
          creationDateAndTime: '2026-03-10T09:00:00+01:00',
        },
        businessScope: {
          scope: [
            {
              type: 'ConversationId',
              instanceIdentifier: ID,
              identifier: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
              scopeInformation: [{ expectedResponseDateTime: '2026-03-11T09:00:00+01:00' }],
            },
            { type: 'ReceiverRef', instanceIdentifier: 'd6b23522-ddf3-462a-8140-16e59e1f476d' },
          ],
        },
      },
      type: 'arkivmelding',
      businessMessage: {},
    })
  })

  it('comes from the fallback organisation when svarSendesTil has no organisation number', () => {
    const value = listed()
    value.svarSendesTil = { navn: 'Kari', fnr: '08089409382', orgnr: null }
    value.svarPaForsendelse = null
    const { sbd } = incoming(value)
    expect(sbd.standardBusinessDocumentHeader.sender).toEqual([
      { identifier: { value: '0192:999999999', authority: 'iso6523-actorid-upis' } },
    ])
    expect(sbd.standardBusinessDocumentHeader.businessScope?.scope).toHaveLength(1)
  })

  it('has the arkivmelding.xml the reference generates, element by element', () => {
    const uuid = (what: string) => stableUuid(ID, what)
    expect(incoming().arkivmelding).toBe(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <system>Integrasjonspunkt</system>
  <meldingId>${ID}</meldingId>
  <tidspunkt>2016-03-21T00:00:00+01:00</tidspunkt>
  <antallFiler>2</antallFiler>
  <mappe xsi:type="saksmappe">
    <systemID>${uuid('saksmappe')}</systemID>
    <basisregistrering xsi:type="journalpost">
      <systemID>${uuid('journalpost')}</systemID>
      <dokumentbeskrivelse>
        <systemID>${uuid('dokumentbeskrivelse:0')}</systemID>
        <tittel>vedtak.pdf</tittel>
        <dokumentobjekt>
          <referanseDokumentfil>vedtak.pdf</referanseDokumentfil>
        </dokumentobjekt>
      </dokumentbeskrivelse>
      <dokumentbeskrivelse>
        <systemID>${uuid('dokumentbeskrivelse:1')}</systemID>
        <tittel>kart.png</tittel>
        <dokumentobjekt>
          <referanseDokumentfil>kart.png</referanseDokumentfil>
        </dokumentobjekt>
      </dokumentbeskrivelse>
      <tittel>Vedtak: skjenkebevilling &lt;innvilget&gt; &amp; &quot;klar&quot;</tittel>
      <offentligTittel>Svar på søknad om skjenkebevilling</offentligTittel>
      <virksomhetsspesifikkeMetadata>
        <gnr>12</gnr>
      </virksomhetsspesifikkeMetadata>
      <journalaar>2016</journalaar>
      <journalsekvensnummer>25</journalsekvensnummer>
      <journalpostnummer>13</journalpostnummer>
      <journalposttype>Utgående dokument</journalposttype>
      <journalstatus>Godkjent av leder</journalstatus>
      <journaldato>2016-03-21</journaldato>
      <dokumentetsDato>2016-03-21</dokumentetsDato>
      <korrespondansepart>
        <korrespondanseparttype>Avsender</korrespondanseparttype>
        <korrespondansepartNavn>Testkommune</korrespondansepartNavn>
        <postadresse>Pb 253</postadresse>
        <postnummer>9951</postnummer>
        <poststed>VARDØ</poststed>
      </korrespondansepart>
    </basisregistrering>
    <saksaar>2016</saksaar>
    <sakssekvensnummer>1</sakssekvensnummer>
    <saksansvarlig>Ola Nordmann</saksansvarlig>
  </mappe>
</arkivmelding>
`)
  })

  it('reads back as an arkivmelding naming every document, as a fagsystem would read it', () => {
    const { arkivmelding, documents } = incoming()
    expect(parseArkivmelding(arkivmelding)).toMatchObject({
      title: 'Svar på søknad om skjenkebevilling',
      referencedFiles: ['vedtak.pdf', 'kart.png'],
    })
    expect(readDpfArkivmelding(arkivmelding)).toMatchObject({
      journalposttype: 'Utgående dokument',
      saksaar: 2016,
    })
    expect(documents).toEqual([
      { filnavn: 'vedtak.pdf', mimeType: 'application/pdf' },
      { filnavn: 'kart.png', mimeType: 'image/png' },
    ])
  })

  it("fills in the reference's defaults when the metadata is empty, and marks an eDialog from a person", () => {
    const value = listed()
    value.metadataFraAvleverendeSystem = { journaldato: null, dokumentetsDato: null }
    value.svarSendesTil = { navn: 'Kari', fnr: '08089409382' }
    const xml = incoming(value).arkivmelding
    expect(xml).toContain('<tidspunkt>2026-03-10T09:00:00+01:00</tidspunkt>')
    expect(xml).toContain('<tittel>Svar på søknad om skjenkebevilling (eDialog fra 08089409382)</tittel>')
    expect(xml).toContain('<journalaar>2026</journalaar>')
    expect(xml).toContain('<journalsekvensnummer>0</journalsekvensnummer>')
    expect(xml).toContain('<journalpostnummer>0</journalpostnummer>')
    expect(xml).toContain('<journalposttype>Inngående dokument</journalposttype>')
    expect(xml).toContain('<journalstatus>Ferdigstilt fra saksbehandler</journalstatus>')
    expect(xml).toContain('<journaldato>2026-03-10</journaldato>')
    expect(xml).not.toMatch(
      /<dokumentetsDato>|<saksaar>|<saksansvarlig>|<postadresse>|<virksomhetsspesifikkeMetadata>/,
    )
  })

  it('is the same message when fetched again, even later', () => {
    const later = { ...SETTINGS, now: new Date('2026-03-11T08:00:00Z') }
    expect(incoming(listed(), later).arkivmelding).toBe(incoming().arkivmelding)
    expect(
      incoming(listed(), later).sbd.standardBusinessDocumentHeader.documentIdentification?.instanceIdentifier,
    ).toBe(ID)
  })

  it('accepts the numbers SvarInn writes as text', () => {
    const value = listed()
    value.metadataFraAvleverendeSystem = { journalaar: '2015', saksaar: '2015', journaldato: '1458514800000' }
    const xml = incoming(value).arkivmelding
    expect(xml).toContain('<journalaar>2015</journalaar>')
    expect(xml).toContain('<saksaar>2015</saksaar>')
    expect(xml).toContain('<journaldato>2016-03-21</journaldato>')
  })
})

describe('a SvarInn forsendelse that can never be taken in', () => {
  const refused = (edit: (v: Record<string, unknown>) => void) => {
    const value = listed()
    edit(value)
    try {
      parseSvarInnForsendelse(value)
    } catch (err) {
      expect(err).toBeInstanceOf(SvarInnForsendelseError)
      return (err as Error).message
    }
    throw new Error('accepted')
  }

  it('is refused with the reason, for each thing the mapping needs', () => {
    expect(refused((v) => delete v.svarSendesTil)).toMatch(/svarSendesTil/)
    expect(refused((v) => (v.mottaker = { navn: 'X', orgnr: null }))).toMatch(/mottaker\.orgnr/)
    expect(refused((v) => (v.metadataFraAvleverendeSystem = null))).toMatch(/metadataFraAvleverendeSystem/)
    expect(refused((v) => (v.filmetadata = []))).toMatch(/filmetadata: no documents/)
    expect(refused((v) => (v.id = '../etc'))).toMatch(/id: not a UUID/)
  })

  it('is refused when a document name cannot be kept or is used twice', () => {
    const names =
      (...filnavn: string[]) =>
      (v: Record<string, unknown>) => {
        v.filmetadata = filnavn.map((n) => ({ filnavn: n, mimetype: 'application/pdf' }))
      }
    expect(refused(names('../vedtak.pdf'))).toMatch(/path separator/)
    expect(refused(names('a.pdf', 'A.PDF'))).toMatch(/used twice/)
    expect(refused(names('arkivmelding.xml'))).toMatch(/arkivmelding\.xml/)
  })

  it('still names its id when it has one', () => {
    expect(forsendelseIdOf({ id: ID, tittel: 3 })).toBe(ID)
    expect(forsendelseIdOf(null)).toBeNull()
    expect(forsendelseIdOf({ id: 7 })).toBeNull()
  })
})

describe('escapeXml', () => {
  it('escapes markup and drops what XML 1.0 cannot carry', () => {
    expect(escapeXml('a<b>&"c"\u0001\uffff\u{1F600}')).toBe('a&lt;b&gt;&amp;&quot;c&quot;\u{1F600}')
  })
})
