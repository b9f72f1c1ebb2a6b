// The form fields of a correspondence upload, as the reference's DotNotationFlattener writes the
// InitializeCorrespondencesExt it builds: camelCase dot/bracket paths, booleans and dates as JSON text, no
// field for a value it leaves null. Pure: what the message, the configuration and the clock say.

import type { Config } from '../../config/types.js'
import { formatOslo } from '../../util/time.js'

/** `dpv` of an arkivmelding or digital_dpv business message (nextmove-api DpvSettings) */
export interface DpvSettings {
  varselType?: string | null
  varselTransportType?: string | null
  varselTekst?: string | null
  taushetsbelagtVarselTekst?: string | null
  dagerTilSvarfrist?: number | null
}

export interface Correspondence {
  messageId: string
  /** the business message type: `arkivmelding` or `digital_dpv` */
  type: string
  process: string
  /** the sending organisation, nine digits */
  sender: string
  /** its name in the ServiceRegistry (`info/{orgnr}`), shown as the sender; null when it has none */
  senderName: string | null
  /** nine digits (an organisation) or eleven (a person) */
  recipient: string
  /** the Altinn resource of the receiver's service record for the process */
  resourceId: string
  title: string
  summary: string | null
  body: string
  /** the files sent, in order */
  attachments: readonly { fileName: string; displayName: string }[]
  dpv: DpvSettings | null
  now: Date
}

/** As the reference: every attachment carries this constant as its sender's reference. */
export const ATTACHMENT_REFERENCE = 'AttachmentReference_as123452'
/** As the reference: `ignoreReservation` is set for digital_dpv with this process only. */
export const INFO_PROCESS = 'urn:no:difi:profile:digitalpost:info:ver1.0'
const DAY_MS = 86_400_000
/** As the reference: the notification is asked for 5 minutes after sending (Altinn ignores it since 2026-03). */
const NOTIFICATION_DELAY_MS = 5 * 60_000

export type FormFields = [name: string, value: string][]

export function correspondenceFields(c: Correspondence, config: Config['dpv']): FormFields {
  const sensitive = c.resourceId === config.sensitiveResource
  const now = c.now.getTime()
  const fields: FormFields = [
    ['recipients[0]', recipientUrn(c.recipient)],
    ['idempotentKey', c.messageId],
    ['correspondence.resourceId', c.resourceId],
    ['correspondence.sender', `0192:${c.sender}`],
    ['correspondence.sendersReference', c.messageId],
  ]
  if (c.senderName !== null) fields.push(['correspondence.messageSender', c.senderName])
  fields.push(['correspondence.requestedPublishTime', formatOslo(now)])
  const due = dueDays(c.dpv, config)
  if (due !== null) fields.push(['correspondence.dueDateTime', formatOslo(now + due * DAY_MS)])
  fields.push(
    ['correspondence.isConfirmationNeeded', 'false'],
    ['correspondence.isConfidential', String(sensitive)],
    ['correspondence.ignoreReservation', String(c.type === 'digital_dpv' && c.process === INFO_PROCESS)],
    ['correspondence.propertyList.senderOrgNumber', c.sender],
    ['correspondence.content.language', 'nb'],
    ['correspondence.content.messageTitle', c.title],
  )
  if (c.summary !== null) fields.push(['correspondence.content.messageSummary', c.summary])
  fields.push(['correspondence.content.messageBody', c.body])
  for (const [i, a] of c.attachments.entries()) {
    const at = `correspondence.content.attachments[${i}]`
    fields.push(
      [`${at}.fileName`, a.fileName],
      [`${at}.displayName`, a.displayName],
      [`${at}.isEncrypted`, 'false'],
      [`${at}.sendersReference`, ATTACHMENT_REFERENCE],
    )
  }
  fields.push(...notificationFields(c, config, sensitive, now))
  return fields
}

/** `urn:altinn:person:identifier-no:` for an eleven-digit national id, else the organisation's urn */
export function recipientUrn(id: string): string {
  return /^\d{11}$/.test(id)
    ? `urn:altinn:person:identifier-no:${id}`
    : `urn:altinn:organization:identifier-no:${id}`
}

/** the message's `dagerTilSvarfrist` when above 0; else daysToReply when due dates are on; else none */
function dueDays(dpv: DpvSettings | null, config: Config['dpv']): number | null {
  const asked = dpv?.dagerTilSvarfrist
  if (typeof asked === 'number' && asked > 0) return asked
  return config.enableDueDate ? config.daysToReply : null
}

const CHANNELS: Record<string, string> = { Epost: 'Email', SMS: 'Sms', EpostOgSMS: 'EmailAndSms' }

/** the message's `varselTransportType`, else the configured channels; null: no notification */
function notificationChannel(dpv: DpvSettings | null, config: Config['dpv']): string | null {
  const asked = dpv?.varselTransportType ? CHANNELS[dpv.varselTransportType] : undefined
  if (asked) return asked
  if (config.notifyEmail && config.notifySms) return 'EmailAndSms'
  if (config.notifyEmail) return 'Email'
  return config.notifySms ? 'Sms' : null
}

function notificationFields(
  c: Correspondence,
  config: Config['dpv'],
  sensitive: boolean,
  now: number,
): FormFields {
  const channel = notificationChannel(c.dpv, config)
  if (channel === null) return []
  const text = notificationText(c, config, sensitive)
  const n = 'correspondence.notification'
  const fields: FormFields = [
    [`${n}.notificationTemplate`, 'CustomMessage'],
    [`${n}.notificationChannel`, channel],
    [`${n}.emailSubject`, config.emailSubject],
    [`${n}.emailBody`, text],
    [`${n}.emailContentType`, 'Plain'],
    [`${n}.smsBody`, text],
    [`${n}.requestedSendTime`, formatOslo(now + NOTIFICATION_DELAY_MS)],
  ]
  const reminder = c.dpv?.varselType !== 'VarselDPVUtenRevarsel'
  fields.push([`${n}.sendReminder`, String(reminder)])
  if (reminder)
    fields.push(
      [`${n}.reminderNotificationChannel`, channel],
      [`${n}.reminderEmailSubject`, config.emailSubject],
      [`${n}.reminderEmailBody`, text],
      [`${n}.reminderEmailContentType`, 'Plain'],
      [`${n}.reminderSmsBody`, text],
    )
  return fields
}

/**
 * The message's own text or the configured one, the sensitive kind for the sensitive resource.
 * `$reporterName$` becomes the sender's name; Altinn fills in `$correspondenceRecipientName$`, which also
 * takes the place of Altinn 2's `$reporteeName$` that older configurations still carry.
 */
function notificationText(c: Correspondence, config: Config['dpv'], sensitive: boolean): string {
  const own = sensitive ? c.dpv?.taushetsbelagtVarselTekst : c.dpv?.varselTekst
  const text = own || (sensitive ? config.sensitiveNotificationText : config.notificationText)
  return text
    .replaceAll('$reporterName$', c.senderName ?? `0192:${c.sender}`)
    .replaceAll('$reporteeName$', '$correspondenceRecipientName$')
}
