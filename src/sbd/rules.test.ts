import { describe, expect, it } from 'vitest'
import type { ApiError } from '../errors/api-error.js'
import { parseSbd } from './parse.js'
import {
  checkDph,
  checkIdentifiers,
  checkKnownType,
  checkMessageChannel,
  checkPrintAddresses,
  checkProcess,
  checkStandardMatchesType,
  KNOWN_TYPES_TEXT,
} from './rules.js'
import { FNR, header, type Json, sbdJson } from './test-support.js'

const brief = (e: ApiError | undefined) =>
  e && { code: e.code, status: e.status, exception: e.exception, message: e.message }

function businessFirst(
  type: 'arkivmelding' | 'print',
  edit: (h: Record<string, Json>) => void,
  bm: Record<string, unknown> = {},
) {
  const h = header(type)
  edit(h)
  return parseSbd({ [type]: bm, standardBusinessDocumentHeader: h })
}

describe('checkKnownType', () => {
  it('lists the non-receipt types as the reference does', () => {
    expect(KNOWN_TYPES_TEXT).toBe(
      'status, feil, arkivmelding, avtalt, digital, digital_dpv, print, dialogmelding, innsynskrav, publisering',
    )
    expect(checkKnownType(parseSbd(sbdJson('arkivmelding')))).toBeUndefined()
    const strange = businessFirst('arkivmelding', (h) => (h.documentIdentification.type = 'strange'))
    expect(brief(checkKnownType(strange))).toEqual({
      code: 'UnknownMessageType',
      status: 400,
      exception: 'no.difi.meldingsutveksling.exceptions.UnknownMessageTypeException',
      message:
        'Unknown NextMove document type strange. Expected one of the following values: status, feil, arkivmelding, avtalt, digital, digital_dpv, print, dialogmelding, innsynskrav, publisering',
    })
  })
})

describe('checkIdentifiers and checkProcess', () => {
  it('refuses identifiers that do not parse for their authority', () => {
    expect(checkIdentifiers(parseSbd(sbdJson('arkivmelding')))).toBeUndefined()
    expect(checkIdentifiers(parseSbd(sbdJson('arkivmelding', {}, { receiver: 'nobody' })))?.message).toBe(
      "Unable to parse identifier = 'nobody'",
    )
    expect(checkIdentifiers(parseSbd(sbdJson('arkivmelding', {}, { authority: 'strange' })))?.message).toBe(
      'Unknown authority = strange',
    )
    const nhn = checkIdentifiers(
      parseSbd(sbdJson('dialogmelding', {}, { authority: 'nhn-actorid', sender: 'her-id:x' })),
    )
    expect(nhn?.message).toBe('Invalid NHN identifier: her-id:x')
    expect(nhn?.exception).toBe('java.lang.IllegalArgumentException')
  })

  it('requires the ConversationId scope to name a process', () => {
    expect(checkProcess(parseSbd(sbdJson('arkivmelding')))).toBeUndefined()
    const none = businessFirst('arkivmelding', (h) => delete h.businessScope.scope[0].identifier)
    expect(checkProcess(none)?.message).toBe('SBD missing process')
  })
})

describe('checkPrintAddresses', () => {
  const address = { navn: 'Ola', adresselinje1: 'Gate 1', postnummer: '0150', poststed: 'OSLO' }
  const print = (bm: Record<string, unknown>) => parseSbd(sbdJson('print', bm, { receiver: FNR }))
  const text = (field: string) =>
    `--no.difi.meldingsutveksling.exceptions.MissingAddressInformationException-- [${field}]`

  it('passes complete addresses and ignores other types', () => {
    expect(checkPrintAddresses(print({ mottaker: address, retur: { mottaker: address } }))).toBeUndefined()
    expect(checkPrintAddresses(parseSbd(sbdJson('digital')))).toBeUndefined()
  })

  it('names the missing part in the reference’s argument text', () => {
    expect(checkPrintAddresses(print({}))?.message).toBe(text('mottaker'))
    expect(checkPrintAddresses(print({ mottaker: { ...address, adresselinje1: '' } }))?.message).toBe(
      text('mottaker.postnummer/poststed/adresselinje1'),
    )
    expect(checkPrintAddresses(print({ mottaker: { ...address, postnummer: null } }))?.message).toBe(
      text('mottaker.postnummer/poststed/adresselinje1'),
    )
    expect(checkPrintAddresses(print({ mottaker: address }))?.message).toBe(text('retur'))
    expect(checkPrintAddresses(print({ mottaker: address, retur: {} }))?.message).toBe(text('retur.mottaker'))
    expect(
      checkPrintAddresses(print({ mottaker: address, retur: { mottaker: { adresselinje1: 'x' } } }))?.message,
    ).toBe(text('retur.postnummer/poststed/adresselinje1'))
  })

  it('needs postnummer and poststed only for Norwegian addresses (NO and blank count as Norway)', () => {
    const foreign = { adresselinje1: 'Street 1', land: 'Sverige' }
    expect(checkPrintAddresses(print({ mottaker: foreign, retur: { mottaker: foreign } }))).toBeUndefined()
    for (const land of ['NO', 'norway', 'NORGE', '', 'NOR']) {
      const norwegian = { adresselinje1: 'Gate 1', land }
      expect(checkPrintAddresses(print({ mottaker: norwegian, retur: { mottaker: address } }))?.code).toBe(
        'MissingAddressInformation',
      )
    }
  })
})

describe('checkStandardMatchesType', () => {
  it('requires the standard to end with ::type', () => {
    expect(checkStandardMatchesType(parseSbd(sbdJson('digital')))).toBeUndefined()
    const wrong = businessFirst(
      'arkivmelding',
      (h) => (h.documentIdentification.standard = 'urn:no:difi:arkivmelding:xsd::ARKIVMELDING'),
    )
    expect(brief(checkStandardMatchesType(wrong))).toEqual({
      code: 'MessageTypeDoesNotFitDocumentType',
      status: 400,
      exception: 'no.difi.meldingsutveksling.exceptions.MessageTypeDoesNotFitDocumentTypeException',
      message:
        'Message type arkivmelding does not match the document type urn:no:difi:arkivmelding:xsd::ARKIVMELDING',
    })
  })
})

describe('checkMessageChannel', () => {
  const withChannel = (channel: string) =>
    businessFirst('arkivmelding', (h) =>
      h.businessScope.scope.push({ type: 'MessageChannel', instanceIdentifier: 'x', identifier: channel }),
    )

  it('compares a DPO message’s channel with the configured one', () => {
    expect(checkMessageChannel(withChannel('a'), 'a', 'DPO')).toBeUndefined()
    expect(checkMessageChannel(parseSbd(sbdJson('arkivmelding')), 'a', 'DPO')).toBeUndefined()
    expect(checkMessageChannel(withChannel('b'), null, 'DPO')).toBeUndefined()
    expect(checkMessageChannel(withChannel('b'), 'a', 'DPV')).toBeUndefined()
    expect(brief(checkMessageChannel(withChannel('b'), 'a', 'DPO'))).toEqual({
      code: 'MessageChannelInvalid',
      status: 400,
      exception: 'no.difi.meldingsutveksling.exceptions.MessageChannelInvalidException',
      message: 'Valid channels: a, but found b in SBDH',
    })
  })
})

describe('checkDph', () => {
  const dph = (sender: string, receiver: string, authority = 'nhn-actorid') =>
    parseSbd(sbdJson('dialogmelding', {}, { authority, sender, receiver }))

  it('accepts our HER-id sending to an NHN address', () => {
    expect(checkDph(dph('her-id:123', 'her-id:456'), ['123'])).toBeUndefined()
    expect(checkDph(dph('her-id:123', `fastlege-for:${FNR}`), ['0123'])).toBeUndefined()
  })

  it('gives the reference’s Sender and Receiver texts', () => {
    expect(brief(checkDph(dph('0192:987654321', 'her-id:456', 'iso6523-actorid-upis'), ['123']))).toEqual({
      code: 'Sender',
      status: 400,
      exception: 'no.difi.meldingsutveksling.exceptions.SenderException',
      message: 'Sender have to be a nhn-actorid for DPH messages!',
    })
    expect(checkDph(dph('her-id:999', 'her-id:456'), ['123'])?.message).toBe(
      'Sender have to be one of the her-ids listed in the difi.move.dph.her-ids property!',
    )
    expect(checkDph(dph(`fastlege-for:${FNR}`, 'her-id:456'), ['123'])?.code).toBe('Sender')
    const mixed = businessFirst('arkivmelding', (h) => {
      h.sender[0].identifier = { value: 'her-id:123', authority: 'nhn-actorid' }
    })
    expect(brief(checkDph(mixed, ['123']))).toMatchObject({
      code: 'Receiver',
      exception: 'no.difi.meldingsutveksling.exceptions.ReceiverException',
      message: 'Receiver have to be a nhn-actorid for DPH messages!',
    })
  })
})
