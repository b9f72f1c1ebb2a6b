/** DPI documents for tests: one of each type, every optional member filled in where it has one. */
import { type DpiDocument, type DpiType, dpiProcess, dpiReceipt, dpiStandard } from './dpi.js'

export const LETTER_ID = '3f0c1a52-9d1e-4c55-8a0e-0b8f7f1a6e21'
export const CONVERSATION = '8d2b6c8e-6f0e-4b7e-9a51-3c1d2e4f5a60'
export const PROVIDER = '910094548'
export const SENDER = '910077473'

const org = (value: string) => ({ authority: 'iso6523-actorid-upis', value })

function header(type: 'digital' | 'utskrift' | 'flyttet') {
  return {
    headerVersion: '1.0',
    sender: [{ identifier: org(`0192:${SENDER}`) }],
    receiver: [{ identifier: org(`0192:${PROVIDER}`) }],
    documentIdentification: {
      standard: dpiStandard(type),
      typeVersion: '1.0',
      instanceIdentifier: LETTER_ID,
      type,
      creationDateAndTime: '2026-08-20T10:15:30.12+02:00',
    },
    businessScope: {
      scope: [
        {
          type: 'ConversationId',
          instanceIdentifier: CONVERSATION,
          identifier: dpiProcess(type === 'utskrift' ? 'utskrift' : 'digital'),
          scopeInformation: [{ expectedResponseDateTime: '2026-08-21T10:15:30+02:00' }],
        },
      ],
    },
  }
}

const common = {
  avsender: {
    virksomhetsidentifikator: org(`0192:${SENDER}`),
    avsenderidentifikator: 'A1',
    fakturaReferanse: 'F-1',
  },
  dokumentpakkefingeravtrykk: {
    digestMethod: 'http://www.w3.org/2001/04/xmlenc#sha256',
    digestValue: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=',
  },
  maskinportentoken: 'eyJhbGciOiJub25lIn0.e30.',
}

const letter = {
  ...common,
  mottaker: { postkasseadresse: 'ola.digital#1A2B' },
  sikkerhetsnivaa: 4,
  virkningsdato: '2026-08-20',
  virkningstidspunkt: '2026-08-20T00:00:00+02:00',
  aapningskvittering: true,
  ikkesensitivtittel: 'Vedtak om barnehageplass',
  spraak: 'NO',
  varsler: {
    epostvarsel: { epostadresse: 'ola@example.no', varslingstekst: 'Du har post', repetisjoner: [0, 7] },
    smsvarsel: { mobiltelefonnummer: '+47 99 99 99 99', varslingstekst: 'Du har post', repetisjoner: [0, 7] },
  },
}

export const NORWAY = {
  navn: 'Ola Nordmann',
  adresselinje1: 'Gate 1',
  adresselinje2: 'Oppgang B',
  postnummer: '0150',
  poststed: 'Oslo',
}
export const ABROAD = {
  navn: 'Kari Nordmann',
  adresselinje1: 'Rue 1',
  adresselinje2: '75001 Paris',
  land: 'Frankrike',
}

export function digitalDoc(): DpiDocument {
  return {
    standardBusinessDocument: {
      standardBusinessDocumentHeader: header('digital'),
      digital: structuredClone(letter),
    },
  }
}

export function utskriftDoc(mottaker: object = NORWAY, retur: object = ABROAD): DpiDocument {
  return {
    standardBusinessDocument: {
      standardBusinessDocumentHeader: header('utskrift'),
      utskrift: {
        ...structuredClone(common),
        mottaker: structuredClone(mottaker),
        utskriftstype: 'FARGE',
        retur: { mottaker: structuredClone(retur), returposthaandtering: 'MAKULERING_MED_MELDING' },
        posttype: 'A',
      },
    },
  }
}

export function flyttetDoc(): DpiDocument {
  return {
    standardBusinessDocument: {
      standardBusinessDocumentHeader: header('flyttet'),
      flyttet: {
        ...structuredClone(letter),
        tidspunkt: '2026-08-22T08:00:00Z',
        mottakstidspunkt: '2026-08-20',
        aapnet: false,
      },
    },
  }
}

export const RECEIPT_ID = 'b7a1a0c2-31f3-4c1e-9f55-2f7c1d3e4a10'

export function receiptDoc(type: Exclude<DpiType, 'digital' | 'utskrift' | 'flyttet'>): DpiDocument {
  return dpiReceipt({
    type,
    original: type === 'mottakskvittering' || type === 'returpostkvittering' ? utskriftDoc() : digitalDoc(),
    provider: PROVIDER,
    id: RECEIPT_ID,
    tidspunkt: new Date('2026-08-20T08:16:00Z'),
    varslingskanal: 'sms',
    beskrivelse: 'Nummeret finnes ikke',
    feiltype: 'KLIENT',
    detaljer: 'Kan ikke dekryptere',
    now: new Date('2026-08-20T08:16:01.5Z'),
  })
}

/** one document of every type, named */
export function allDocs(): [string, DpiDocument][] {
  return [
    ['digital', digitalDoc()],
    ['utskrift (Norway, return abroad)', utskriftDoc()],
    ['utskrift (landkode)', utskriftDoc({ navn: 'N', adresselinje1: 'L1', landkode: 'se' }, NORWAY)],
    ['flyttet', flyttetDoc()],
    ...(
      [
        'leveringskvittering',
        'aapningskvittering',
        'mottakskvittering',
        'varslingfeiletkvittering',
        'returpostkvittering',
        'feil',
      ] as const
    ).map((t): [string, DpiDocument] => [t, receiptDoc(t)]),
  ]
}
