import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  bareIdentifier,
  businessMessageOf,
  conversationIdOf,
  messageIdOf,
  processOf,
  receiverOf,
  senderOf,
  typeOf,
  withIds,
} from './accessors.js'
import {
  arkivmeldingKvitteringMessage,
  arkivmeldingMessage,
  avtaltMessage,
  buildSbd,
  isoTime,
  newMessageId,
  partner,
} from './build.js'
import { BUSINESS_MESSAGE_TYPES, DOCUMENT_TYPES } from './models/business-messages.js'
import type { StandardBusinessDocument } from './models/sbd.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('buildSbd', () => {
  it('fills the header as the server prototype does', () => {
    const now = new Date('2026-03-10T09:00:00Z')
    const sbd = buildSbd({
      sender: '910075918',
      receiver: '910077473',
      businessMessage: arkivmeldingMessage({ hoveddokument: 'vedtak.pdf' }),
      now,
    })
    const h = sbd.standardBusinessDocumentHeader
    expect(h.headerVersion).toBe('1.0')
    expect(h.sender).toEqual([{ identifier: { value: '0192:910075918', authority: 'iso6523-actorid-upis' } }])
    expect(h.receiver).toEqual([
      { identifier: { value: '0192:910077473', authority: 'iso6523-actorid-upis' } },
    ])
    expect(h.documentIdentification).toMatchObject({
      standard: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
      typeVersion: '2.0',
      type: 'arkivmelding',
    })
    expect(h.documentIdentification.instanceIdentifier).toMatch(UUID)
    expect(new Date(h.documentIdentification.creationDateAndTime!).getTime()).toBe(now.getTime())
    expect(h.businessScope.scope).toEqual([
      {
        type: 'ConversationId',
        instanceIdentifier: expect.stringMatching(UUID),
        identifier: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
      },
    ])
    // exactly two members: the header and the business message named after the type
    expect(Object.keys(sbd)).toEqual(['standardBusinessDocumentHeader', 'arkivmelding'])
    expect(businessMessageOf(sbd)).toEqual({ type: 'arkivmelding', message: { hoveddokument: 'vedtak.pdf' } })
  })

  it('takes the ids, process, time to live and security level given', () => {
    const sbd = buildSbd({
      receiver: '06068700602',
      process: 'urn:no:difi:profile:arkivmelding:planByggOgGeodata:ver1.0',
      messageId: 'm-1',
      conversationId: 'c-1',
      expectedResponseDateTime: '2026-04-01T12:00:00+02:00',
      securityLevel: 4,
      businessMessage: arkivmeldingMessage(),
    })
    expect(messageIdOf(sbd)).toBe('m-1')
    expect(conversationIdOf(sbd)).toBe('c-1')
    expect(processOf(sbd)).toBe('urn:no:difi:profile:arkivmelding:planByggOgGeodata:ver1.0')
    expect(sbd.standardBusinessDocumentHeader.sender).toBeUndefined()
    expect(receiverOf(sbd)).toBe('06068700602')
    expect(sbd.standardBusinessDocumentHeader.businessScope.scope[0]!.scopeInformation).toEqual([
      { expectedResponseDateTime: '2026-04-01T12:00:00+02:00' },
    ])
    expect('arkivmelding' in sbd && sbd.arkivmelding.sikkerhetsnivaa).toBe(4)
  })

  it('gives every type its document type and a default process, except status', () => {
    for (const type of BUSINESS_MESSAGE_TYPES.filter((t) => t !== 'status')) {
      const sbd = buildSbd({ receiver: '910077473', businessMessage: { type } as never })
      expect(sbd.standardBusinessDocumentHeader.documentIdentification.standard).toBe(DOCUMENT_TYPES[type])
      expect(DOCUMENT_TYPES[type].endsWith(`::${type}`)).toBe(true)
      expect(processOf(sbd)).toMatch(/^urn:no:difi:profile:/)
      expect(typeOf(sbd)).toBe(type)
    }
    expect(() => buildSbd({ businessMessage: { type: 'status', status: 'LEVERT' } })).toThrow(/process/)
    expect(() => buildSbd({ businessMessage: { type: 'fiksio' } as never })).toThrow(/Unknown message type/)
  })

  it('builds receipts and avtalt with their own processes', () => {
    const receipt = buildSbd({
      receiver: '910075918',
      businessMessage: arkivmeldingKvitteringMessage({ receiptType: 'OK', relatedToMessageId: 'x' }),
    })
    expect(processOf(receipt)).toBe('urn:no:difi:profile:arkivmelding:response:ver1.0')
    const avtalt = buildSbd({
      receiver: '910075918',
      businessMessage: avtaltMessage({ identifier: 'a', content: 1 }),
    })
    expect(processOf(avtalt)).toBe('urn:no:difi:profile:avtalt:avtalt:ver1.0')
  })
})

describe('identifiers', () => {
  it('writes organisation numbers with 0192: and NHN ids with their authority', () => {
    expect(partner('910077473').identifier).toEqual({
      value: '0192:910077473',
      authority: 'iso6523-actorid-upis',
    })
    expect(partner('0192:910077473:910075918').identifier.value).toBe('0192:910077473:910075918')
    expect(partner('her-id:123').identifier).toEqual({ value: 'her-id:123', authority: 'nhn-actorid' })
    expect(partner('06068700602').identifier.value).toBe('06068700602')
  })

  it('reads back the bare organisation number (the on-behalf-of one when there is one)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{9}$/), fc.option(fc.stringMatching(/^\d{9}$/)), (org, part) => {
        const value = part === null ? `0192:${org}` : `0192:${org}:${part}`
        expect(bareIdentifier(partner(value).identifier.value)).toBe(part ?? org)
        expect(bareIdentifier(partner(org).identifier.value)).toBe(org)
      }),
    )
    const sbd = buildSbd({
      sender: '0192:910075918:991825827',
      receiver: '910077473',
      businessMessage: arkivmeldingMessage(),
    })
    expect(senderOf(sbd)).toBe('991825827')
  })
})

describe('withIds', () => {
  it('adds a messageId and conversationId where missing and leaves the original alone', () => {
    const sbd = buildSbd({ receiver: '910077473', businessMessage: arkivmeldingMessage() })
    const bare = structuredClone(sbd) as StandardBusinessDocument
    delete bare.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
    delete bare.standardBusinessDocumentHeader.businessScope.scope[0]!.instanceIdentifier
    const filled = withIds(bare)
    expect(messageIdOf(filled)).toMatch(UUID)
    expect(conversationIdOf(filled)).toMatch(UUID)
    expect(messageIdOf(bare)).toBeUndefined()
    expect(messageIdOf(withIds(sbd))).toBe(messageIdOf(sbd))
  })

  it('makes a new messageId each time', () => {
    expect(newMessageId()).toMatch(UUID)
    expect(newMessageId()).not.toBe(newMessageId())
  })
})

describe('isoTime', () => {
  it('writes any instant with an offset that reads back as the same instant', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
        (d) => {
          const text = isoTime(d)
          expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/)
          expect(new Date(text).getTime()).toBe(Math.floor(d.getTime() / 1000) * 1000)
        },
      ),
    )
  })
})
