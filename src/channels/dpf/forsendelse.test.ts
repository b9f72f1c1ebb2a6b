import { describe, expect, it } from 'vitest'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import { readDpfArkivmelding } from './arkivmelding.js'
import {
  excludedFromPrint,
  ForsendelseError,
  type ForsendelseMessage,
  forsendelseMessage,
  organisasjonForsendelse,
  osloMidnight,
} from './forsendelse.js'
import { ARKIVMELDING, FIKS, info, MESSAGE_ID, RECEIVER, SENDER } from './test-support.js'

const FILES = [
  { name: 'arkivmelding.xml', mimeType: 'application/xml' },
  { name: 'vedtak.pdf', mimeType: 'application/pdf' },
  {
    name: 'vedlegg.docx',
    mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  },
  { name: 'ikke-nevnt.txt', mimeType: 'text/plain' },
]

function message(over: Partial<ForsendelseMessage> = {}): ForsendelseMessage {
  return {
    messageId: MESSAGE_ID,
    receiverRef: null,
    sikkerhetsnivaa: 3,
    forsendelseType: null,
    senderOrgnr: SENDER,
    receiverOrgnr: RECEIVER,
    arkivmelding: readDpfArkivmelding(ARKIVMELDING),
    files: FILES,
    ...over,
  }
}

const PARTIES = { receiver: info(RECEIVER, 'Testkommune'), sender: info(SENDER, 'DIGDIR', 'Postboks 9') }

describe('the organisation forsendelse of an arkivmelding', () => {
  it("is the reference's documented example, field by field", () => {
    expect(organisasjonForsendelse(message(), PARTIES, FIKS)).toEqual({
      tittel: 'Vedtak i sak 2026/12',
      mottaker: {
        navn: 'Testkommune',
        digitalId: RECEIVER,
        adresse: { adresselinje1: 'Postboks 1', postnummer: '0151', poststed: 'OSLO' },
      },
      kunDigitalLevering: false,
      kryptert: true,
      utskriftskonfigurasjon: { tosidig: true },
      sikkerhetsniva: 'BETYDELIG',
      metadataFraAvleverendeSystem: {
        saksaar: 2026,
        sakssekvensnummer: 12,
        journalaar: 2026,
        journalsekvensnummer: 345,
        journalpostnummer: 3,
        journalposttype: 'U',
        journalstatus: 'E',
        journaldato: '2026-08-20T00:00:00+02:00',
        dokumentetsDato: '2026-08-20T00:00:00+02:00',
        tittel: 'Vedtak i sak 2026/12',
        saksbehandler: 'Kari Nordmann',
        // the simple elements only: <adresse><gate/></adresse> is not one
        ekstraMetadata: [
          { key: 'gnr', value: '12' },
          { key: 'bnr', value: '345' },
        ],
      },
      // the Avsender part, not the Mottaker before it, its address lines joined by a space
      svarSendesTil: {
        navn: 'Digdir',
        type: 'ORGANISASJON',
        digitalId: SENDER,
        adresse: { adresselinje1: 'Postboks 1382 Vika', postnummer: '0114', poststed: 'OSLO' },
      },
      // the Hoveddokument first though the Vedlegg comes first in the arkivmelding; neither
      // arkivmelding.xml nor the file it does not name; the type as uploaded
      dokumenter: [
        { filnavn: 'vedtak.pdf', mimeType: 'application/pdf', skalEkskluderesFraUtskrift: false },
        { filnavn: 'vedlegg.docx', mimeType: FILES[2]!.mimeType },
      ],
      eksternReferanse: MESSAGE_ID,
    })
  })

  it('asks for the highest security level for sikkerhetsnivaa 4 only', () => {
    const level = (sikkerhetsnivaa: number | null) =>
      organisasjonForsendelse(message({ sikkerhetsnivaa }), PARTIES, FIKS).sikkerhetsniva
    expect([level(4), level(3), level(null)]).toEqual(['HOYESTE', 'BETYDELIG', 'BETYDELIG'])
  })

  it('answers the forsendelse named by ReceiverRef when that is a UUID', () => {
    const id = 'd6b23522-ddf3-462a-8140-16e59e1f476d'
    const answer = organisasjonForsendelse(message({ receiverRef: id }), PARTIES, FIKS)
    expect(answer.svarPaForsendelseId).toBe(id)
    const notUuid = organisasjonForsendelse(message({ receiverRef: 'sak-12' }), PARTIES, FIKS)
    expect(notUuid).not.toHaveProperty('svarPaForsendelseId')
  })

  it('carries the forsendelse type and the configured konteringskode, kryptert and kunDigitalLevering', () => {
    const config = {
      ...FIKS,
      kryptert: false,
      ut: { ...FIKS.ut, konteringskode: 'K-12', kunDigitalLevering: true },
    }
    const f = organisasjonForsendelse(message({ forsendelseType: 'Byggesak' }), PARTIES, config)
    expect(f).toMatchObject({
      forsendelsestype: 'Byggesak',
      konteringskode: 'K-12',
      kryptert: false,
      kunDigitalLevering: true,
    })
    const none = organisasjonForsendelse(message({ forsendelseType: '' }), PARTIES, FIKS)
    expect(none).not.toHaveProperty('forsendelsestype')
    expect(none).not.toHaveProperty('konteringskode')
  })

  it("keeps documents out of print by extension, or all but PDFs with '*'", () => {
    expect(excludedFromPrint('a.PDF', ['*'])).toBe(false)
    expect(excludedFromPrint('a.docx', ['*'])).toBe(true)
    expect(excludedFromPrint('a.docx', ['docx'])).toBe(true)
    expect(excludedFromPrint('a.odt', ['docx'])).toBeNull()
    expect(excludedFromPrint('uten-endelse', ['docx'])).toBeNull()
    const config = { ...FIKS, ut: { ...FIKS.ut, ekskluderesFraPrint: ['docx'] } }
    const docs = organisasjonForsendelse(message(), PARTIES, config).dokumenter
    expect(docs[1]).toMatchObject({ filnavn: 'vedlegg.docx', skalEkskluderesFraUtskrift: true })
  })

  it("replies to the sender's info record when the arkivmelding has no Avsender part", () => {
    const xml = ARKIVMELDING.replace(
      /<korrespondansepart>\s*<korrespondanseparttype>Avsender[\s\S]*?<\/korrespondansepart>/,
      '',
    )
    const f = organisasjonForsendelse(message({ arkivmelding: readDpfArkivmelding(xml) }), PARTIES, FIKS)
    expect(f.svarSendesTil).toEqual({
      navn: 'DIGDIR',
      type: 'ORGANISASJON',
      digitalId: SENDER,
      adresse: { adresselinje1: 'Postboks 9', postnummer: '0151', poststed: 'OSLO' },
    })
    expect(f.metadataFraAvleverendeSystem).not.toHaveProperty('saksbehandler')
  })

  it('never sends an address SvarUt would refuse (the reference sends swapped or empty fields)', () => {
    const xml = ARKIVMELDING.replace(/<postadresse>[^<]*<\/postadresse>/g, '')
    const parties = {
      receiver: info(RECEIVER, 'Testkommune', null),
      sender: info(SENDER, 'DIGDIR', 'Postboks 9'),
    }
    const f = organisasjonForsendelse(message({ arkivmelding: readDpfArkivmelding(xml) }), parties, FIKS)
    expect(f.mottaker).toEqual({ navn: 'Testkommune', digitalId: RECEIVER })
    // the Avsender's name with the sender's registered address
    expect(f.svarSendesTil).toMatchObject({ navn: 'Digdir', adresse: { adresselinje1: 'Postboks 9' } })
    const nowhere = organisasjonForsendelse(
      message({ arkivmelding: readDpfArkivmelding(xml) }),
      { receiver: null, sender: null },
      FIKS,
    )
    expect(nowhere).not.toHaveProperty('svarSendesTil')
    expect(nowhere.mottaker).toEqual({ navn: RECEIVER, digitalId: RECEIVER })
  })

  it("maps every Noark journalposttype and journalstatus as the reference's tables, with its defaults", () => {
    const codes = (type: string | null, status: string | null) => {
      const a = { ...readDpfArkivmelding(ARKIVMELDING), journalposttype: type, journalstatus: status }
      const m = organisasjonForsendelse(
        message({ arkivmelding: a }),
        PARTIES,
        FIKS,
      ).metadataFraAvleverendeSystem
      return `${m.journalposttype}${m.journalstatus}`
    }
    expect(codes('Inngående dokument', 'Journalført')).toBe('IJ')
    expect(codes('Saksframlegg', 'Ferdigstilt fra saksbehandler')).toBe('SR')
    expect(codes('Organinternt dokument for oppfølging', 'Godkjent av leder')).toBe('NF')
    expect(codes('Organinternt dokument uten oppfølging', 'Arkivert')).toBe('XA')
    expect(codes('Utgående dokument', 'Utgår')).toBe('UU')
    expect(codes(null, null)).toBe('IR')
    expect(codes('Noe annet', 'Midlertidig registrering')).toBe('IR')
  })

  it('writes a date as the start of that day in Oslo, summer or winter', () => {
    expect(osloMidnight('2026-08-20')).toBe('2026-08-20T00:00:00+02:00')
    expect(osloMidnight('2026-01-15')).toBe('2026-01-15T00:00:00+01:00')
    expect(osloMidnight(null)).toBeNull()
  })

  it('fails for good without an offentligTittel or when a named file was not uploaded', () => {
    const untitled = { ...readDpfArkivmelding(ARKIVMELDING), offentligTittel: null }
    expect(() => organisasjonForsendelse(message({ arkivmelding: untitled }), PARTIES, FIKS)).toThrow(
      ForsendelseError,
    )
    const missing = message({ files: FILES.filter((f) => f.name !== 'vedlegg.docx') })
    expect(() => organisasjonForsendelse(missing, PARTIES, FIKS)).toThrow(
      new ForsendelseError("the arkivmelding names vedlegg.docx, which is not among the message's files"),
    )
  })
})

describe('the message the mapping reads from an SBD', () => {
  function sbd(sender: string, scopes: Record<string, unknown>[] = []): StandardBusinessDocument {
    return {
      standardBusinessDocumentHeader: {
        sender: [{ identifier: { value: sender, authority: 'iso6523-actorid-upis' } }],
        receiver: [{ identifier: { value: `0192:${RECEIVER}`, authority: 'iso6523-actorid-upis' } }],
        documentIdentification: { instanceIdentifier: MESSAGE_ID, type: 'arkivmelding' },
        businessScope: { scope: scopes },
      },
      type: 'arkivmelding',
      businessMessage: {
        hoveddokument: 'vedtak.pdf',
        sikkerhetsnivaa: 4,
        dpf: { forsendelseType: 'Byggesak' },
      },
    }
  }

  it('takes the ids, the references, the security level and the forsendelse type', () => {
    const ref = 'd6b23522-ddf3-462a-8140-16e59e1f476d'
    const m = forsendelseMessage(
      sbd(`0192:${SENDER}`, [{ type: 'ReceiverRef', instanceIdentifier: ref }]),
      ARKIVMELDING,
      FILES,
    )
    expect(m).toMatchObject({
      messageId: MESSAGE_ID,
      receiverRef: ref,
      sikkerhetsnivaa: 4,
      forsendelseType: 'Byggesak',
      senderOrgnr: SENDER,
      receiverOrgnr: RECEIVER,
      files: FILES,
    })
    expect(m.arkivmelding.files).toEqual(['vedtak.pdf', 'vedlegg.docx'])
  })

  it('answers as the organisation an on-behalf-of sender sends for', () => {
    expect(forsendelseMessage(sbd(`0192:${SENDER}:910075918`), ARKIVMELDING, FILES).senderOrgnr).toBe(
      '910075918',
    )
  })
})
