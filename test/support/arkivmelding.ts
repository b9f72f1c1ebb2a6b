/** A small Noark 5 arkivmelding of our own: one saksmappe, one journalpost, the files it names. */
export function arkivmeldingXml(opts: {
  files: string[]
  title?: string
  journalpostnummer?: number
  saksmappeId?: string
}): string {
  const docs = opts.files
    .map(
      (f, i) => `
      <dokumentbeskrivelse>
        <systemID>doc-${i + 1}</systemID>
        <dokumenttype>Brev</dokumenttype>
        <dokumentstatus>Dokumentet er ferdigstilt</dokumentstatus>
        <tittel>Dokument ${i + 1}</tittel>
        <tilknyttetRegistreringSom>${i === 0 ? 'Hoveddokument' : 'Vedlegg'}</tilknyttetRegistreringSom>
        <dokumentnummer>${i + 1}</dokumentnummer>
        <dokumentobjekt>
          <versjonsnummer>1</versjonsnummer>
          <variantformat>Produksjonsformat</variantformat>
          <referanseDokumentfil>${f}</referanseDokumentfil>
        </dokumentobjekt>
      </dokumentbeskrivelse>`,
    )
    .join('')
  return `<?xml version="1.0" encoding="utf-8"?>
<arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <system>Fagsystem</system>
  <meldingId>m-1</meldingId>
  <tidspunkt>2026-03-10T10:00:00</tidspunkt>
  <antallFiler>${opts.files.length}</antallFiler>
  <mappe xsi:type="saksmappe">
    <systemID>${opts.saksmappeId ?? 'sak-42'}</systemID>
    <tittel>Sak</tittel>
    <basisregistrering xsi:type="journalpost">
      <systemID>jp-1</systemID>${docs}
      <tittel>Vedtak om tilskudd</tittel>
      <offentligTittel>${opts.title ?? 'Vedtak om tilskudd'}</offentligTittel>
      ${opts.journalpostnummer === undefined ? '' : `<journalpostnummer>${opts.journalpostnummer}</journalpostnummer>`}
      <journalposttype>Utgående dokument</journalposttype>
      <journalstatus>Journalført</journalstatus>
    </basisregistrering>
  </mappe>
</arkivmelding>
`
}
