/** The project's own DPF fixtures, for the tests in this folder only. */
import type { Config } from '../../config/types.js'
import type { InfoRecord } from '../../registry/types.js'

export const MESSAGE_ID = '5c0f8a0e-2d4c-4a55-9a0e-7b1f2f1d9e11'
export const SENDER = '991825827'
export const RECEIVER = '910229028'

/**
 * An arkivmelding with what the mapping reads and what it must pass over: a Mottaker part before the
 * Avsender, a Vedlegg before the Hoveddokument, a nested element in virksomhetsspesifikkeMetadata.
 */
export const ARKIVMELDING = `<?xml version="1.0" encoding="utf-8"?>
<arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <system>Fagsystem</system>
  <meldingId>${MESSAGE_ID}</meldingId>
  <tidspunkt>2026-08-20T10:00:00+02:00</tidspunkt>
  <antallFiler>2</antallFiler>
  <mappe xsi:type="saksmappe">
    <systemID>9d3c1a52-7e54-4d8c-a1f0-6f2b8c9e0a11</systemID>
    <tittel>Byggesak Storgata 1</tittel>
    <basisregistrering xsi:type="journalpost">
      <systemID>1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0</systemID>
      <dokumentbeskrivelse>
        <tilknyttetRegistreringSom>Vedlegg</tilknyttetRegistreringSom>
        <dokumentnummer>2</dokumentnummer>
        <dokumentobjekt><referanseDokumentfil>vedlegg.docx</referanseDokumentfil></dokumentobjekt>
      </dokumentbeskrivelse>
      <dokumentbeskrivelse>
        <tilknyttetRegistreringSom>Hoveddokument</tilknyttetRegistreringSom>
        <dokumentnummer>1</dokumentnummer>
        <dokumentobjekt><referanseDokumentfil>vedtak.pdf</referanseDokumentfil></dokumentobjekt>
      </dokumentbeskrivelse>
      <tittel>Vedtak om rammetillatelse</tittel>
      <offentligTittel>Vedtak i sak 2026/12</offentligTittel>
      <virksomhetsspesifikkeMetadata>
        <gnr>12</gnr>
        <bnr>345</bnr>
        <adresse><gate>Storgata 1</gate></adresse>
      </virksomhetsspesifikkeMetadata>
      <journalaar>2026</journalaar>
      <journalsekvensnummer>345</journalsekvensnummer>
      <journalpostnummer>3</journalpostnummer>
      <journalposttype>Utgående dokument</journalposttype>
      <journalstatus>Ekspedert</journalstatus>
      <dokumentetsDato>2026-08-20</dokumentetsDato>
      <journaldato>2026-08-20</journaldato>
      <korrespondansepart>
        <korrespondanseparttype>Mottaker</korrespondanseparttype>
        <korrespondansepartNavn>Testkommune</korrespondansepartNavn>
      </korrespondansepart>
      <korrespondansepart>
        <korrespondanseparttype>Avsender</korrespondanseparttype>
        <korrespondansepartNavn>Digdir</korrespondansepartNavn>
        <postadresse>Postboks 1382</postadresse>
        <postadresse>Vika</postadresse>
        <postnummer>0114</postnummer>
        <poststed>OSLO</poststed>
        <saksbehandler>Kari Nordmann</saksbehandler>
      </korrespondansepart>
    </basisregistrering>
    <saksaar>2026</saksaar>
    <sakssekvensnummer>12</sakssekvensnummer>
  </mappe>
</arkivmelding>`

export function info(orgnr: string, name: string, adresse: string | null = 'Postboks 1'): InfoRecord {
  return {
    identifier: orgnr,
    organizationName: name,
    organizationNumber: orgnr,
    entityType: { name: 'KOMM', acronym: null },
    postadresse: adresse === null ? null : { adresse, postnummer: '0151', poststed: 'OSLO', land: 'Norge' },
    parentHerId: null,
    parentOrganizationName: null,
    herId: null,
  }
}

export const FIKS: Config['fiks'] = {
  type: 'rest',
  kryptert: true,
  ut: {
    endpointUrl: 'http://127.0.0.1:1',
    kontoId: '7f1c6e2a-3d6b-4a8e-9a51-0c1d2e3f4a5b',
    integrasjonId: '3b0e2f4c-1111-4222-8333-944455556666',
    integrasjonPassord: 'hemmelig',
    konteringskode: null,
    kunDigitalLevering: false,
    ekskluderesFraPrint: [],
    scopes: 'ks:fiks',
    maskinportenAudience: 'https://test.maskinporten.no/',
    maskinportenUrl: null,
    requestTimeoutMs: 5_000,
    statusPollingRateMs: 60_000,
  },
  inn: {
    enable: true,
    baseUrl: 'http://127.0.0.1:1/tjenester/svarinn',
    username: 'mottaker',
    password: 'passord',
    process: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
    documentType: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
    orgnr: SENDER,
    fallbackSenderOrgNr: '999999999',
    connectTimeoutMs: 5_000,
    readTimeoutMs: 5_000,
    pollingRateMs: 900_000,
  },
}
