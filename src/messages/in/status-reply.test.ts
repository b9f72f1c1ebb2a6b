import { describe, expect, it } from 'vitest'
import { load } from '../../config/test-helpers.js'
import { parseSbd, serializeSbd } from '../../sbd/parse.js'
import { CONVERSATION_ID, type Json, MESSAGE_ID, sbdJson } from '../../sbd/test-support.js'
import { createStatusFrom } from './status-reply.js'

const NOW = new Date('2026-03-10T10:00:00+01:00')

function original(type: Parameters<typeof sbdJson>[0], o: Parameters<typeof sbdJson>[2] = {}) {
  return parseSbd(sbdJson(type, {}, { sender: '0192:910075918', receiver: '0192:910077473:kunde1', ...o }))
}

describe('createStatusFrom', () => {
  const config = load()

  it('answers the sender with the same ids, the receipt process and a 24 hour lifetime', () => {
    const status = serializeSbd(createStatusFrom(original('arkivmelding'), 'MOTTATT', config, NOW))
    expect(status).toEqual({
      standardBusinessDocumentHeader: {
        headerVersion: '1.0',
        sender: [{ identifier: { value: '0192:910077473:kunde1', authority: 'iso6523-actorid-upis' } }],
        receiver: [{ identifier: { value: '0192:910075918', authority: 'iso6523-actorid-upis' } }],
        documentIdentification: {
          standard: 'urn:no:difi:eformidling:xsd::status',
          typeVersion: '2.0',
          instanceIdentifier: MESSAGE_ID,
          type: 'status',
          creationDateAndTime: '2026-03-10T10:00:00+01:00',
        },
        businessScope: {
          scope: [
            {
              type: 'ConversationId',
              instanceIdentifier: CONVERSATION_ID,
              identifier: 'urn:no:difi:profile:arkivmelding:response:ver1.0',
              scopeInformation: [{ expectedResponseDateTime: '2026-03-11T10:00:00+01:00' }],
            },
          ],
        },
      },
      status: { status: 'MOTTATT' },
    })
  })

  it('picks the receipt process of the original kind', () => {
    const process = (sbd: ReturnType<typeof original>) =>
      createStatusFrom(sbd, 'LEVERT', config, NOW).standardBusinessDocumentHeader.businessScope?.scope?.[0]
        ?.identifier
    expect(process(original('publisering'))).toBe('urn:no:difi:profile:einnsyn:response:ver1.0')
    expect(process(original('innsynskrav'))).toBe('urn:no:difi:profile:einnsyn:response:ver1.0')
    expect(process(original('avtalt'))).toBe('urn:no:difi:profile:avtalt:response:ver1.0')
    expect(process(original('arkivmelding_kvittering'))).toBe(
      'urn:no:difi:profile:arkivmelding:response:ver1.0',
    )
  })

  it('copies the message channel', () => {
    const json: Json = sbdJson('arkivmelding', {}, { sender: '0192:910075918', receiver: '0192:910077473' })
    json.standardBusinessDocumentHeader.businessScope.scope.push({
      type: 'MessageChannel',
      identifier: 'kanal-1',
    })
    const status = createStatusFrom(parseSbd(json), 'LEVERT', config, NOW)
    expect(status.standardBusinessDocumentHeader.businessScope?.scope?.[1]).toEqual({
      type: 'MessageChannel',
      identifier: 'kanal-1',
    })
  })
})
