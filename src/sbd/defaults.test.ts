import { describe, expect, it } from 'vitest'
import {
  getConversationId,
  getExpectedResponseDateTime,
  getMessageChannel,
  getMessageId,
} from './accessors.js'
import { applyDefaults, type DefaultsContext, normalizeOnBehalfOf } from './defaults.js'
import { parseSbd, serializeSbd } from './parse.js'
import { FNR, header, type Json, OTHER_ORG, OWN_ORG, sbdJson } from './test-support.js'
import type { StandardBusinessDocument } from './types.js'

function context(over: Partial<DefaultsContext> = {}): DefaultsContext {
  let n = 0
  return {
    ownOrg: OWN_ORG,
    now: new Date('2026-01-15T12:00:00+01:00'),
    ttlHours: 24,
    serviceIdentifier: 'DPO',
    messageChannel: null,
    newUuid: () => `00000000-0000-4000-8000-00000000000${++n}`,
    ...over,
  }
}

const senderOf = (sbd: StandardBusinessDocument) => sbd.standardBusinessDocumentHeader.sender

describe('normalizeOnBehalfOf', () => {
  it('rewrites a customer sender to own:customer and drops its contact information', () => {
    const json = sbdJson('arkivmelding', {}, { sender: `0192:${OTHER_ORG}` })
    ;(json.standardBusinessDocumentHeader as Json).sender[0].contactInformation = [{ contact: 'Ola' }]
    const input = parseSbd(json)
    const before = structuredClone(input)
    const out = normalizeOnBehalfOf(input, OWN_ORG)
    expect(senderOf(out)).toEqual([
      { identifier: { value: `0192:${OWN_ORG}:${OTHER_ORG}`, authority: 'iso6523-actorid-upis' } },
    ])
    expect(input).toEqual(before)
  })

  it('keeps the ICD the sender was given with', () => {
    const out = normalizeOnBehalfOf(
      parseSbd(sbdJson('arkivmelding', {}, { sender: `9909:${OTHER_ORG}` })),
      OWN_ORG,
    )
    expect(senderOf(out)?.[0]?.identifier?.value).toBe(`9909:${OWN_ORG}:${OTHER_ORG}`)
  })

  it('leaves our own organisation, an explicit part, a person and a missing sender alone', () => {
    for (const sender of [
      `0192:${OWN_ORG}`,
      `0192:${OWN_ORG}:${OTHER_ORG}`,
      `0192:${OTHER_ORG}:${OTHER_ORG}`,
      FNR,
      null,
    ]) {
      const sbd = parseSbd(sbdJson('arkivmelding', {}, { sender }))
      expect(normalizeOnBehalfOf(sbd, OWN_ORG)).toBe(sbd)
    }
  })
})

describe('applyDefaults', () => {
  it('fills sender, ids, creation time and time to live in the reference’s way', () => {
    const input = parseSbd(
      sbdJson(
        'arkivmelding',
        {},
        { sender: null, messageId: null, conversationId: null, expectedResponseDateTime: null },
      ),
    )
    const before = structuredClone(input)
    const out = applyDefaults(input, context())
    expect(input).toEqual(before)
    expect(senderOf(out)).toEqual([
      { identifier: { value: `0192:${OWN_ORG}`, authority: 'iso6523-actorid-upis' } },
    ])
    expect(getMessageId(out)).toBe('00000000-0000-4000-8000-000000000001')
    expect(out.standardBusinessDocumentHeader.documentIdentification?.creationDateAndTime).toBe(
      '2026-01-15T12:00:00+01:00',
    )
    expect(getExpectedResponseDateTime(out)?.iso).toBe('2026-01-16T12:00:00+01:00')
    expect(getConversationId(out)).toBe('00000000-0000-4000-8000-000000000002')
  })

  it('keeps what the client gave', () => {
    const input = parseSbd(sbdJson('arkivmelding'))
    const out = applyDefaults(input, context())
    expect(serializeSbd(out)).toEqual(
      serializeSbd({
        ...input,
        standardBusinessDocumentHeader: {
          ...input.standardBusinessDocumentHeader,
          documentIdentification: {
            ...input.standardBusinessDocumentHeader.documentIdentification,
            creationDateAndTime: '2026-01-15T12:00:00+01:00',
          },
        },
      }),
    )
  })

  it('puts the time to live into the first scopeInformation when that has none', () => {
    const h = header('arkivmelding')
    ;(h.businessScope as Json).scope[0].scopeInformation = [
      { requestingDocumentInstanceIdentifier: 'r' },
      { requestingDocumentInstanceIdentifier: 's' },
    ]
    const out = applyDefaults(
      parseSbd({ standardBusinessDocumentHeader: h, arkivmelding: {} }),
      context({ ttlHours: 2 }),
    )
    const infos = out.standardBusinessDocumentHeader.businessScope?.scope?.[0]?.scopeInformation
    expect(infos).toEqual([
      { requestingDocumentInstanceIdentifier: 'r', expectedResponseDateTime: '2026-01-15T14:00:00+01:00' },
      { requestingDocumentInstanceIdentifier: 's' },
    ])
  })

  it('gives every scope without text in its instanceIdentifier a new one', () => {
    const h = header('arkivmelding')
    ;(h.businessScope as Json).scope.push(
      { type: 'SenderRef', instanceIdentifier: '  ' },
      { type: 'ReceiverRef', instanceIdentifier: 'kept' },
    )
    const out = applyDefaults(parseSbd({ standardBusinessDocumentHeader: h, arkivmelding: {} }), context())
    expect(out.standardBusinessDocumentHeader.businessScope?.scope?.map((s) => s.instanceIdentifier)).toEqual(
      ['37efbd4c-413d-4e2c-bbc5-257ef4a65a45', '00000000-0000-4000-8000-000000000001', 'kept'],
    )
  })

  it('adds or completes the DPO message channel scope', () => {
    const added = applyDefaults(parseSbd(sbdJson('arkivmelding')), context({ messageChannel: 'kanal-1' }))
    expect(getMessageChannel(added)).toBe('kanal-1')
    expect(added.standardBusinessDocumentHeader.businessScope?.scope?.at(-1)).toEqual({
      type: 'MessageChannel',
      instanceIdentifier: '00000000-0000-4000-8000-000000000001',
      identifier: 'kanal-1',
    })
    const h = header('arkivmelding')
    ;(h.businessScope as Json).scope.push({ type: 'MessageChannel', instanceIdentifier: 'x', identifier: '' })
    const filled = applyDefaults(
      parseSbd({ standardBusinessDocumentHeader: h, arkivmelding: {} }),
      context({ messageChannel: 'kanal-1' }),
    )
    expect(filled.standardBusinessDocumentHeader.businessScope?.scope).toHaveLength(2)
    expect(getMessageChannel(filled)).toBe('kanal-1')
    const otherService = applyDefaults(
      parseSbd(sbdJson('arkivmelding')),
      context({ messageChannel: 'kanal-1', serviceIdentifier: 'DPV' }),
    )
    expect(getMessageChannel(otherService)).toBeUndefined()
  })

  it('names a DPH conversation after its first message and fills the patient for fastlege-for', () => {
    const input = parseSbd(
      sbdJson(
        'dialogmelding',
        {},
        {
          authority: 'nhn-actorid',
          sender: 'her-id:1',
          receiver: `fastlege-for:${FNR}`,
          conversationId: null,
        },
      ),
    )
    const out = applyDefaults(
      input,
      context({
        serviceIdentifier: 'DPH',
        serviceRecord: { patient: { fnr: FNR, firstName: 'Kari', middleName: null, lastName: 'Nordmann' } },
      }),
    )
    expect(getConversationId(out)).toBe(getMessageId(out))
    expect(out.businessMessage.pasient).toEqual({ fnr: FNR, fornavn: 'Kari', etternavn: 'Nordmann' })
  })

  it('sets print defaults and fills blank address fields from the service record', () => {
    const input = parseSbd(
      sbdJson('print', { mottaker: { navn: 'Given', adresselinje2: 'old line 2' } }, { receiver: FNR }),
    )
    const out = applyDefaults(
      input,
      context({
        serviceIdentifier: 'DPI',
        serviceRecord: {
          postAddress: {
            name: 'Ola',
            street: 'Gate 1;Oppgang B;;',
            postalCode: '0150',
            postalArea: 'OSLO',
            country: 'NO',
          },
          returnAddress: {
            name: 'Kommunen',
            street: 'Postboks 1',
            postalCode: '0151',
            postalArea: 'OSLO',
            country: null,
          },
        },
      }),
    )
    expect(out.businessMessage).toEqual({
      mottaker: {
        navn: 'Given',
        adresselinje1: 'Gate 1',
        adresselinje2: 'Oppgang B',
        postnummer: '0150',
        poststed: 'OSLO',
        land: 'NO',
      },
      utskriftsfarge: 'SORT_HVIT',
      posttype: 'B_OEKONOMI',
      retur: {
        mottaker: { navn: 'Kommunen', adresselinje1: 'Postboks 1', postnummer: '0151', poststed: 'OSLO' },
        returhaandtering: 'DIREKTE_RETUR',
      },
      printinstruksjoner: {},
    })
  })

  it('creates no addresses for print without a receiver', () => {
    const out = applyDefaults(
      parseSbd(sbdJson('print', {}, { receiver: null })),
      context({ serviceIdentifier: 'DPI' }),
    )
    expect(out.businessMessage).toEqual({
      utskriftsfarge: 'SORT_HVIT',
      posttype: 'B_OEKONOMI',
      printinstruksjoner: {},
    })
  })
})
