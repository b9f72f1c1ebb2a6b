import { describe, expect, it } from 'vitest'
import { type DpiDocument, dpiBody, dpiProcess, dpiStandard } from '../../sbd/dpi.js'
import { ajvErrors, hasDpiSchemas } from '../../sbd/dpi-ajv.fixtures.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import {
  type DpiBusinessInput,
  DpiMessageError,
  type DpiRecord,
  dpiBusinessMessage,
  dpiSender,
  manifestInput,
} from './business-message.js'

const OWN = '910075918'
const CUSTOMER = '910077473'
const MESSAGE_ID = 'ff88849c-e281-4809-8555-7cd54952b916'
const CONVERSATION_ID = '37efbd4c-413d-4e2c-bbc5-257ef4a65a45'
const FINGERPRINT = 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg='
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJjb25zdW1lciI6e319.c2ln'
const NOW = new Date('2026-08-20T08:15:30.120Z')
const ORG = (value: string) => ({ authority: 'iso6523-actorid-upis', value })

type Json = Record<string, unknown>

function nextMove(
  type: 'digital' | 'print',
  businessMessage: Json,
  sender = `0192:${OWN}`,
): StandardBusinessDocument {
  return {
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      sender: [{ identifier: ORG(sender) }],
      receiver: [{ identifier: ORG('01819040180') }],
      documentIdentification: {
        standard: `urn:no:difi:digitalpost:xsd:${type === 'digital' ? 'digital::digital' : 'fysisk::print'}`,
        typeVersion: '2.0',
        instanceIdentifier: MESSAGE_ID,
        type,
        creationDateAndTime: '2026-08-20T10:00:00+02:00',
      },
      businessScope: {
        scope: [
          {
            type: 'ConversationId',
            instanceIdentifier: CONVERSATION_ID,
            identifier: 'urn:no:difi:profile:digitalpost:vedtak:ver1.0',
            scopeInformation: [{ expectedResponseDateTime: '2026-08-21T10:00:00+02:00' }],
          },
        ],
      },
    },
    type,
    businessMessage,
  }
}

const MAILBOX: DpiRecord = {
  postkasseAdresse: 'ola.digital#1A2B',
  orgnrPostkasse: '910094548',
  epostAdresse: 'ola@example.no',
  mobilnummer: '+4799999999',
  spraak: 'nb',
  pemCertificate: '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n',
}
const PRINT: DpiRecord = { ...MAILBOX, postkasseAdresse: null, orgnrPostkasse: '910085379' }

const FULL_DIGITAL: Json = {
  hoveddokument: 'vedtak.pdf',
  sikkerhetsnivaa: 4,
  avsenderId: 'avd-42',
  fakturaReferanse: 'F-2026-1',
  tittel: 'Vedtak om barnehageplass',
  spraak: 'EN',
  digitalPostInfo: { virkningsdato: '2026-09-01', aapningskvittering: true },
  varsler: { epostTekst: 'Du har fått post', smsTekst: 'Du har post' },
  metadataFiler: {},
}

const NORWAY = {
  navn: 'Ola Nordmann',
  adresselinje1: 'Gate 1',
  postnummer: '0150',
  poststed: 'Oslo',
  land: null,
}

function input(sbd: StandardBusinessDocument, record: DpiRecord): DpiBusinessInput {
  return { sbd, record, token: TOKEN, fingerprint: FINGERPRINT, defaultLanguage: 'NO', now: NOW }
}

/** builds, and checks what it built against the JSON schemas too */
function build(i: DpiBusinessInput): DpiDocument {
  const doc = dpiBusinessMessage(i)
  if (hasDpiSchemas) expect(ajvErrors(i.sbd.type === 'print' ? 'utskrift' : 'digital', doc)).toEqual([])
  return doc
}

const body = (doc: DpiDocument) => dpiBody(doc) as Json

describe('dpiBusinessMessage: digital', () => {
  it('fills in every option as the reference does', () => {
    const doc = build(input(nextMove('digital', FULL_DIGITAL), MAILBOX))
    expect(doc).toEqual({
      standardBusinessDocument: {
        standardBusinessDocumentHeader: {
          headerVersion: '1.0',
          sender: [{ identifier: ORG(`0192:${OWN}`) }],
          receiver: [{ identifier: ORG('0192:910094548') }],
          documentIdentification: {
            standard: dpiStandard('digital'),
            typeVersion: '1.0',
            instanceIdentifier: MESSAGE_ID,
            type: 'digital',
            creationDateAndTime: '2026-08-20T10:15:30.12+02:00',
          },
          businessScope: {
            scope: [
              {
                type: 'ConversationId',
                instanceIdentifier: CONVERSATION_ID,
                identifier: dpiProcess('digital'),
                scopeInformation: [{ expectedResponseDateTime: '2026-08-21T10:00:00+02:00' }],
              },
            ],
          },
        },
        digital: {
          avsender: {
            virksomhetsidentifikator: ORG(`0192:${OWN}`),
            avsenderidentifikator: 'avd-42',
            fakturaReferanse: 'F-2026-1',
          },
          mottaker: { postkasseadresse: 'ola.digital#1A2B' },
          dokumentpakkefingeravtrykk: {
            digestMethod: 'http://www.w3.org/2001/04/xmlenc#sha256',
            digestValue: FINGERPRINT,
          },
          maskinportentoken: TOKEN,
          sikkerhetsnivaa: 4,
          virkningstidspunkt: '2026-09-01T00:00:00+02:00',
          aapningskvittering: true,
          ikkesensitivtittel: 'Vedtak om barnehageplass',
          spraak: 'EN',
          varsler: {
            epostvarsel: {
              epostadresse: 'ola@example.no',
              varslingstekst: 'Du har fått post',
              repetisjoner: [0, 7],
            },
            smsvarsel: {
              mobiltelefonnummer: '+4799999999',
              varslingstekst: 'Du har post',
              repetisjoner: [0, 7],
            },
          },
        },
      },
    })
  })

  it('sends notices only where the record has the address and the message has the text', () => {
    const noMail = build(input(nextMove('digital', FULL_DIGITAL), { ...MAILBOX, epostAdresse: '' }))
    expect(Object.keys(body(noMail).varsler as Json)).toEqual(['smsvarsel'])
    const noSmsText = build(
      input(nextMove('digital', { ...FULL_DIGITAL, varsler: { epostTekst: 'Post' } }), MAILBOX),
    )
    expect(Object.keys(body(noSmsText).varsler as Json)).toEqual(['epostvarsel'])
    const none = build(input(nextMove('digital', { ...FULL_DIGITAL, varsler: null }), MAILBOX))
    expect(body(none).varsler).toEqual({})
  })

  it('sends on behalf of the part of a 0192:<own>:<customer> sender; the header keeps the main organisation', () => {
    const sbd = nextMove('digital', FULL_DIGITAL, `0192:${OWN}:${CUSTOMER}`)
    const doc = build(input(sbd, MAILBOX))
    expect(dpiSender(sbd)).toBe(`0192:${CUSTOMER}`)
    expect((body(doc).avsender as Json).virksomhetsidentifikator).toEqual(ORG(`0192:${CUSTOMER}`))
    expect(doc.standardBusinessDocument.standardBusinessDocumentHeader.sender[0]!.identifier.value).toBe(
      `0192:${OWN}`,
    )
  })

  it('falls back for the language (record, then configuration) and for virkning (now), leaves nulls out', () => {
    const minimal = {
      sikkerhetsnivaa: 3,
      tittel: 'T',
      avsenderId: null,
      digitalPostInfo: { virkningsdato: null, aapningskvittering: false },
    }
    const doc = build(input(nextMove('digital', minimal), MAILBOX))
    expect(body(doc)).toMatchObject({
      spraak: 'nb',
      virkningstidspunkt: '2026-08-20T10:15:30.12+02:00',
      aapningskvittering: false,
    })
    expect(body(doc).avsender).toEqual({ virksomhetsidentifikator: ORG(`0192:${OWN}`) })
    const configured = build(input(nextMove('digital', minimal), { ...MAILBOX, spraak: null }))
    expect(body(configured).spraak).toBe('NO')
    const winter = build(
      input(nextMove('digital', { ...minimal, digitalPostInfo: { virkningsdato: '2026-01-15' } }), MAILBOX),
    )
    expect(body(winter).virkningstidspunkt).toBe('2026-01-15T00:00:00+01:00')
  })
})

describe('dpiBusinessMessage: utskrift', () => {
  const print = (o: Json = {}) =>
    nextMove('print', {
      hoveddokument: 'brev.pdf',
      avsenderId: 'avd-42',
      mottaker: NORWAY,
      utskriftsfarge: 'FARGE',
      posttype: 'A_PRIORITERT',
      retur: { mottaker: { ...NORWAY, navn: 'Etaten' }, returhaandtering: 'MAKULERING_MED_MELDING' },
      printinstruksjoner: {},
      ...o,
    })

  it('writes a Norwegian address with postnummer and poststed, colour, A post and return handling', () => {
    const doc = build(input(print(), PRINT))
    expect(doc.standardBusinessDocument.standardBusinessDocumentHeader.receiver[0]!.identifier.value).toBe(
      '0192:910085379',
    )
    expect(doc.standardBusinessDocument.standardBusinessDocumentHeader.documentIdentification.standard).toBe(
      dpiStandard('utskrift'),
    )
    expect(body(doc)).toEqual({
      avsender: { virksomhetsidentifikator: ORG(`0192:${OWN}`), avsenderidentifikator: 'avd-42' },
      mottaker: { navn: 'Ola Nordmann', adresselinje1: 'Gate 1', postnummer: '0150', poststed: 'Oslo' },
      dokumentpakkefingeravtrykk: {
        digestMethod: 'http://www.w3.org/2001/04/xmlenc#sha256',
        digestValue: FINGERPRINT,
      },
      maskinportentoken: TOKEN,
      utskriftstype: 'FARGE',
      retur: {
        mottaker: { navn: 'Etaten', adresselinje1: 'Gate 1', postnummer: '0150', poststed: 'Oslo' },
        returposthaandtering: 'MAKULERING_MED_MELDING',
      },
      posttype: 'A',
    })
  })

  it('defaults to black and white, B post and direct return', () => {
    const doc = build(
      input(print({ utskriftsfarge: null, posttype: 'B_OEKONOMI', retur: { mottaker: NORWAY } }), PRINT),
    )
    expect(body(doc)).toMatchObject({
      utskriftstype: 'SORT_HVIT',
      posttype: 'B',
      retur: { returposthaandtering: 'DIREKTE_RETUR' },
    })
  })

  it('writes an address abroad with the postal line in the first free address line and the country', () => {
    const abroad = {
      navn: 'Kari',
      adresselinje1: 'Rue 1',
      postnummer: '75001',
      poststed: 'Paris',
      land: 'Frankrike',
    }
    const line2 = build(input(print({ mottaker: abroad }), PRINT))
    expect(body(line2).mottaker).toEqual({
      navn: 'Kari',
      adresselinje1: 'Rue 1',
      adresselinje2: '75001 Paris',
      land: 'Frankrike',
    })
    const line4 = build(
      input(
        print({ mottaker: { ...abroad, adresselinje2: 'B', adresselinje3: 'C', poststed: null } }),
        PRINT,
      ),
    )
    expect(body(line4).mottaker).toMatchObject({
      adresselinje3: 'C',
      adresselinje4: '75001',
      land: 'Frankrike',
    })
    const full = build(
      input(
        print({ mottaker: { ...abroad, adresselinje2: 'B', adresselinje3: 'C', adresselinje4: 'D' } }),
        PRINT,
      ),
    )
    expect(body(full).mottaker).toMatchObject({ adresselinje4: 'D 75001 Paris' })
    const norge = build(input(print({ mottaker: { ...NORWAY, land: 'NORGE' } }), PRINT))
    expect(body(norge).mottaker).toEqual({
      navn: 'Ola Nordmann',
      adresselinje1: 'Gate 1',
      postnummer: '0150',
      poststed: 'Oslo',
    })
  })
})

describe('dpiBusinessMessage: failures for good', () => {
  it.each([
    [
      'no mailbox address',
      () => input(nextMove('digital', FULL_DIGITAL), { ...MAILBOX, postkasseAdresse: null }),
      /postkasseadresse: is required/,
    ],
    [
      'no provider',
      () => input(nextMove('digital', FULL_DIGITAL), { ...MAILBOX, orgnrPostkasse: null }),
      /orgnrPostkasse/,
    ],
    [
      'a title too long',
      () => input(nextMove('digital', { ...FULL_DIGITAL, tittel: 'x'.repeat(256) }), MAILBOX),
      /ikkesensitivtittel/,
    ],
    [
      'a Norwegian address without postnummer',
      () =>
        input(
          nextMove('print', {
            mottaker: { navn: 'N', adresselinje1: 'L', poststed: 'Oslo' },
            retur: { mottaker: NORWAY },
          }),
          PRINT,
        ),
      /utskrift\.mottaker: needs/,
    ],
    [
      'not a DPI type',
      () => input({ ...nextMove('digital', FULL_DIGITAL), type: 'arkivmelding' }, MAILBOX),
      /not 'arkivmelding'/,
    ],
    [
      'a person as sender',
      () => input(nextMove('digital', FULL_DIGITAL, '01819040180'), MAILBOX),
      /organisation as sender/,
    ],
  ])('%s', (_, make, message) => {
    let error: unknown
    try {
      dpiBusinessMessage(make())
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(DpiMessageError)
    expect((error as DpiMessageError).retryable).toBe(false)
    expect((error as Error).message).toMatch(message)
  })
})

describe('manifestInput', () => {
  it('gives the manifest the mailbox address (digital only), the sender and the language', () => {
    const sbd = nextMove('digital', FULL_DIGITAL, `0192:${OWN}:${CUSTOMER}`)
    expect(manifestInput({ sbd, record: MAILBOX, defaultLanguage: 'NO' })).toEqual({
      postkasseadresse: 'ola.digital#1A2B',
      avsender: `0192:${CUSTOMER}`,
      avsenderidentifikator: 'avd-42',
      fakturaReferanse: 'F-2026-1',
      language: 'EN',
    })
    const print = nextMove('print', { mottaker: NORWAY })
    expect(manifestInput({ sbd: print, record: { ...PRINT, spraak: null }, defaultLanguage: 'NO' })).toEqual({
      postkasseadresse: null,
      avsender: `0192:${OWN}`,
      avsenderidentifikator: null,
      fakturaReferanse: null,
      language: 'NO',
    })
  })
})
