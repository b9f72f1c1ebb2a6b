import { describe, expect, it } from 'vitest'
import {
  getConversationId,
  getConversationScope,
  getExpectedResponseDateTime,
  getHoveddokument,
  getMessageChannel,
  getMessageId,
  getProcess,
  getReceiver,
  getReceiverRef,
  getSender,
  getSenderRef,
  getSikkerhetsnivaa,
  getStandard,
  getTitle,
  getTypeName,
} from './accessors.js'
import { parseSbd } from './parse.js'
import {
  CONVERSATION_ID,
  FNR,
  header,
  type Json,
  MESSAGE_ID,
  OTHER_ORG,
  OWN_ORG,
  sbdJson,
} from './test-support.js'

describe('accessors', () => {
  const h = header('arkivmelding', { expectedResponseDateTime: '2026-02-01T10:00:00Z' })
  ;(h.businessScope as Json).scope.push(
    { type: 'SENDER_REF', instanceIdentifier: 'our-ref' },
    { type: 'ReceiverRef', instanceIdentifier: 'their-ref' },
    { type: 'MessageChannel', instanceIdentifier: 'x', identifier: 'kanal' },
  )
  const sbd = parseSbd({
    standardBusinessDocumentHeader: h,
    arkivmelding: { hoveddokument: 'a.pdf', sikkerhetsnivaa: 4 },
  })

  it('reads the header', () => {
    expect(getMessageId(sbd)).toBe(MESSAGE_ID)
    expect(getConversationId(sbd)).toBe(CONVERSATION_ID)
    expect(getConversationScope(sbd)?.type).toBe('ConversationId')
    expect(getProcess(sbd)).toBe('urn:no:difi:profile:arkivmelding:administrasjon:ver1.0')
    expect(getStandard(sbd)).toBe('urn:no:difi:arkivmelding:xsd::arkivmelding')
    expect(getTypeName(sbd)).toBe('arkivmelding')
    expect(getExpectedResponseDateTime(sbd)).toEqual({
      instant: Date.parse('2026-02-01T10:00:00Z'),
      iso: '2026-02-01T10:00:00Z',
    })
    expect(getSenderRef(sbd)).toBe('our-ref')
    expect(getReceiverRef(sbd)).toBe('their-ref')
    expect(getMessageChannel(sbd)).toBe('kanal')
    expect(getSender(sbd)?.value).toBe(`0192:${OWN_ORG}`)
    expect(getReceiver(sbd)?.value).toBe(`0192:${OTHER_ORG}`)
  })

  it('reads the business message where the type has the field', () => {
    expect(getHoveddokument(sbd)).toBe('a.pdf')
    expect(getSikkerhetsnivaa(sbd)).toBe(4)
    expect(getTitle(sbd)).toBeUndefined()
    expect(getTitle(parseSbd(sbdJson('digital_dpv', { tittel: 'T' })))).toBe('T')
    expect(getHoveddokument(parseSbd(sbdJson('dialogmelding_kvittering', {})))).toBeUndefined()
  })

  it('uses the partner’s authority and is undefined for what does not parse', () => {
    expect(getReceiver(parseSbd(sbdJson('digital', {}, { receiver: FNR })))).toEqual({
      kind: 'person',
      value: FNR,
    })
    expect(getReceiver(parseSbd(sbdJson('digital', {}, { receiver: 'her-id:5' })))).toBeUndefined()
    expect(getReceiver(parseSbd(sbdJson('print', {}, { receiver: null })))).toBeUndefined()
    expect(
      getExpectedResponseDateTime(parseSbd(sbdJson('print', {}, { expectedResponseDateTime: null }))),
    ).toBeUndefined()
  })
})
