import { describe, expect, it } from 'vitest'
import type { Config } from '../../config/types.js'
import { type Correspondence, correspondenceFields, INFO_PROCESS } from './form.js'

const CONFIG: Config['dpv'] = {
  correspondenceUrl: 'https://example.invalid/altinn-proxy/correspondence/api/v1',
  exchangeUrl: 'https://example.invalid/exchange',
  healthCheckUrl: 'https://example.invalid/health-probe',
  notifyEmail: true,
  notifySms: true,
  emailSubject: 'Melding mottatt i Altinn',
  notificationText: '$correspondenceRecipientName$: Du har mottatt en melding fra $reporterName$.',
  sensitiveNotificationText: 'Taushetsbelagt fra $reporterName$ til $reporteeName$.',
  daysToReply: 7,
  enableDueDate: true,
  sensitiveResource: 'eformidling-dpv-taushetsbelagt',
  statusPollingRateMs: 60_000,
  requestTimeoutMs: 30_000,
  maskinportenAudience: 'https://test.maskinporten.no/',
  maskinportenUrl: null,
}

const ID = 'abc8849c-e281-4809-8555-7cd54952b926'
// 2019-03-25T12:38:23+01:00, the reference's example
const NOW = new Date('2019-03-25T11:38:23Z')

function arkivmelding(over: Partial<Correspondence> = {}): Correspondence {
  return {
    messageId: ID,
    type: 'arkivmelding',
    process: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
    sender: '910077473',
    senderName: 'TEST - C4',
    recipient: '910075946',
    resourceId: 'eformidling-dpv-administrasjon',
    title: 'Nye lysrør',
    summary: 'Nye lysrør',
    body: 'Nye lysrør',
    attachments: [{ fileName: 'test.txt', displayName: 'Test' }],
    dpv: null,
    now: NOW,
    ...over,
  }
}

const TEXT = '$correspondenceRecipientName$: Du har mottatt en melding fra TEST - C4.'

describe('the correspondence form fields', () => {
  it('are those of the reference for an arkivmelding with one file, in its order', () => {
    expect(correspondenceFields(arkivmelding(), CONFIG)).toEqual([
      ['recipients[0]', 'urn:altinn:organization:identifier-no:910075946'],
      ['idempotentKey', ID],
      ['correspondence.resourceId', 'eformidling-dpv-administrasjon'],
      ['correspondence.sender', '0192:910077473'],
      ['correspondence.sendersReference', ID],
      ['correspondence.messageSender', 'TEST - C4'],
      ['correspondence.requestedPublishTime', '2019-03-25T12:38:23+01:00'],
      // the same instant as the reference's 12:38:23+01:00: seven days of 24 hours, written in Oslo's summer time
      ['correspondence.dueDateTime', '2019-04-01T13:38:23+02:00'],
      ['correspondence.isConfirmationNeeded', 'false'],
      ['correspondence.isConfidential', 'false'],
      ['correspondence.ignoreReservation', 'false'],
      ['correspondence.propertyList.senderOrgNumber', '910077473'],
      ['correspondence.content.language', 'nb'],
      ['correspondence.content.messageTitle', 'Nye lysrør'],
      ['correspondence.content.messageSummary', 'Nye lysrør'],
      ['correspondence.content.messageBody', 'Nye lysrør'],
      ['correspondence.content.attachments[0].fileName', 'test.txt'],
      ['correspondence.content.attachments[0].displayName', 'Test'],
      ['correspondence.content.attachments[0].isEncrypted', 'false'],
      ['correspondence.content.attachments[0].sendersReference', 'AttachmentReference_as123452'],
      ['correspondence.notification.notificationTemplate', 'CustomMessage'],
      ['correspondence.notification.notificationChannel', 'EmailAndSms'],
      ['correspondence.notification.emailSubject', 'Melding mottatt i Altinn'],
      ['correspondence.notification.emailBody', TEXT],
      ['correspondence.notification.emailContentType', 'Plain'],
      ['correspondence.notification.smsBody', TEXT],
      ['correspondence.notification.requestedSendTime', '2019-03-25T12:43:23+01:00'],
      ['correspondence.notification.sendReminder', 'true'],
      ['correspondence.notification.reminderNotificationChannel', 'EmailAndSms'],
      ['correspondence.notification.reminderEmailSubject', 'Melding mottatt i Altinn'],
      ['correspondence.notification.reminderEmailBody', TEXT],
      ['correspondence.notification.reminderEmailContentType', 'Plain'],
      ['correspondence.notification.reminderSmsBody', TEXT],
    ])
  })

  const get = (fields: [string, string][], name: string) => fields.find(([n]) => n === name)?.[1]
  const names = (fields: [string, string][]) => fields.map(([n]) => n)

  it('sends the sensitive resource as confidential with the sensitive text', () => {
    const f = correspondenceFields(arkivmelding({ resourceId: 'eformidling-dpv-taushetsbelagt' }), CONFIG)
    expect(get(f, 'correspondence.isConfidential')).toBe('true')
    // $reporteeName$ of Altinn 2 texts becomes Altinn 3's recipient placeholder
    expect(get(f, 'correspondence.notification.emailBody')).toBe(
      'Taushetsbelagt fra TEST - C4 til $correspondenceRecipientName$.',
    )
  })

  it('addresses a person by the person urn, and ignores reservation for digital_dpv info only', () => {
    const person = { type: 'digital_dpv', recipient: '15857540015', process: INFO_PROCESS }
    const info = correspondenceFields(arkivmelding(person), CONFIG)
    expect(get(info, 'recipients[0]')).toBe('urn:altinn:person:identifier-no:15857540015')
    expect(get(info, 'correspondence.ignoreReservation')).toBe('true')
    const vedtak = { ...person, process: 'urn:no:difi:profile:digitalpost:vedtak:ver1.0' }
    expect(get(correspondenceFields(arkivmelding(vedtak), CONFIG), 'correspondence.ignoreReservation')).toBe(
      'false',
    )
    // an arkivmelding with the info process is not digital_dpv
    const ark = correspondenceFields(arkivmelding({ process: INFO_PROCESS }), CONFIG)
    expect(get(ark, 'correspondence.ignoreReservation')).toBe('false')
  })

  it("takes the message's own dpv options over the configuration", () => {
    const f = correspondenceFields(
      arkivmelding({
        dpv: {
          varselType: 'VarselDPVUtenRevarsel',
          varselTransportType: 'SMS',
          varselTekst: 'Fra $reporterName$',
          dagerTilSvarfrist: 3,
        },
      }),
      CONFIG,
    )
    expect(get(f, 'correspondence.dueDateTime')).toBe('2019-03-28T12:38:23+01:00')
    expect(get(f, 'correspondence.notification.notificationChannel')).toBe('Sms')
    expect(get(f, 'correspondence.notification.smsBody')).toBe('Fra TEST - C4')
    expect(get(f, 'correspondence.notification.sendReminder')).toBe('false')
    expect(names(f).filter((n) => n.includes('.reminder'))).toEqual([])
    const email = correspondenceFields(arkivmelding({ dpv: { varselTransportType: 'Epost' } }), CONFIG)
    expect(get(email, 'correspondence.notification.notificationChannel')).toBe('Email')
    expect(get(email, 'correspondence.notification.reminderNotificationChannel')).toBe('Email')
  })

  it('follows the configured channels and due date, and omits what is null', () => {
    const off = { ...CONFIG, notifyEmail: false, notifySms: false, enableDueDate: false }
    const f = correspondenceFields(arkivmelding({ senderName: null, summary: null, attachments: [] }), off)
    expect(names(f).filter((n) => n.includes('notification') || n.includes('attachments'))).toEqual([])
    expect(names(f)).not.toContain('correspondence.dueDateTime')
    expect(names(f)).not.toContain('correspondence.messageSender')
    expect(names(f)).not.toContain('correspondence.content.messageSummary')
    const sms = correspondenceFields(arkivmelding(), { ...CONFIG, notifyEmail: false })
    expect(get(sms, 'correspondence.notification.notificationChannel')).toBe('Sms')
    const email = correspondenceFields(arkivmelding(), { ...CONFIG, notifySms: false })
    expect(get(email, 'correspondence.notification.notificationChannel')).toBe('Email')
  })

  it('numbers several attachments in order', () => {
    const f = correspondenceFields(
      arkivmelding({
        attachments: [
          { fileName: 'a.pdf', displayName: 'A' },
          { fileName: 'b.pdf', displayName: 'B' },
        ],
      }),
      CONFIG,
    )
    expect(f.filter(([n]) => n.endsWith('.fileName'))).toEqual([
      ['correspondence.content.attachments[0].fileName', 'a.pdf'],
      ['correspondence.content.attachments[1].fileName', 'b.pdf'],
    ])
  })
})
