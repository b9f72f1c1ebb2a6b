import { isValidPersonIdentifier } from '../../../sbd/identifiers.js'
import { ValidationProblem } from './errors.js'

/**
 * `InitializeCorrespondencesExt` read from multipart form fields as ASP.NET's model binder reads them: keys
 * are dot/bracket paths of the JSON model (`correspondence.content.attachments[0].fileName`), matched
 * case-insensitively, so the integration point's camelCase and the published PascalCase both bind;
 * array indices run from 0 up to the first gap; unknown keys are ignored. A value that does not convert
 * (a boolean, a date, a GUID, an enum) or breaks a model annotation is a validation problem naming the
 * field, answered before any business rule runs.
 */
export interface AttachmentMeta {
  fileName?: string
  displayName?: string
  sendersReference?: string
  isEncrypted: boolean
}

export interface NotificationRequest {
  notificationTemplate: 'CustomMessage' | 'GenericAltinnMessage'
  notificationChannel?: Channel
  emailSubject?: string
  emailBody?: string
  smsBody?: string
  sendReminder: boolean
  reminderNotificationChannel?: Channel
  reminderEmailSubject?: string
  reminderEmailBody?: string
  reminderSmsBody?: string
}

export interface CorrespondenceRequest {
  recipients: string[]
  idempotentKey?: string
  resourceId: string
  sendersReference: string
  messageSender?: string
  /** epoch ms */
  requestedPublishTime?: number
  dueDateTime?: number
  isConfirmationNeeded: boolean
  isConfidential: boolean
  ignoreReservation: boolean
  propertyList: Record<string, string>
  content?: {
    language?: string
    messageTitle?: string
    messageSummary?: string
    messageBody?: string
    attachments: AttachmentMeta[]
  }
  notification?: NotificationRequest
}

const CHANNELS = ['Email', 'Sms', 'EmailPreferred', 'SmsPreferred', 'EmailAndSms'] as const
export type Channel = (typeof CHANNELS)[number]
const TEMPLATES = ['CustomMessage', 'GenericAltinnMessage'] as const

const GUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i
const ORG_RECIPIENT = /^(?:0192:|urn:altinn:organization:identifier-no:)([0-9]{9})$/i
const PERSON_RECIPIENT = /^(?:urn:altinn:person:identifier-no:)?([0-9]{11})$/i
const RESOURCE_ID = /^(?:urn:altinn:resource:)?[^:]{1,255}$/
const MAX_RECIPIENTS = 500
/** Altinn's limits since 2025-10, not the older ones of the published spec (160 for an SMS would refuse the IP's own texts) */
const NOTIFICATION_LENGTHS: [keyof NotificationRequest & `${string}${'Subject' | 'Body'}`, number][] = [
  ['emailSubject', 512],
  ['reminderEmailSubject', 512],
  ['emailBody', 10_000],
  ['reminderEmailBody', 10_000],
  ['smsBody', 2144],
  ['reminderSmsBody', 2144],
]

/** The organisation number or national identity number a recipient names, or undefined when it names none. */
export function recipientId(recipient: string): string | undefined {
  const org = ORG_RECIPIENT.exec(recipient)
  if (org) return org[1]
  const person = PERSON_RECIPIENT.exec(recipient)
  return person && isValidPersonIdentifier(person[1]!) ? person[1] : undefined
}

export const isPerson = (id: string) => id.length === 11

/** Reads the form; throws ValidationProblem with every field that does not bind. */
export function readCorrespondenceForm(fields: Map<string, string>): CorrespondenceRequest {
  const form = new Form(fields)
  const c = 'correspondence.'
  const request: CorrespondenceRequest = {
    recipients: form.list('recipients'),
    idempotentKey: form.guid('idempotentKey'),
    resourceId: form.text(`${c}resourceId`) ?? '',
    sendersReference: form.text(`${c}sendersReference`) ?? '',
    messageSender: form.text(`${c}messageSender`),
    requestedPublishTime: form.date(`${c}requestedPublishTime`),
    dueDateTime: form.date(`${c}dueDateTime`),
    isConfirmationNeeded: form.bool(`${c}isConfirmationNeeded`) ?? false,
    isConfidential: form.bool(`${c}isConfidential`) ?? false,
    ignoreReservation: form.bool(`${c}ignoreReservation`) ?? false,
    propertyList: form.dictionary(`${c}propertyList`),
    content: form.has(`${c}content`) ? readContent(form, `${c}content.`) : undefined,
    notification: form.has(`${c}notification`) ? readNotification(form, `${c}notification.`) : undefined,
  }
  checkAnnotations(form, request)
  if (form.errors.size > 0) throw new ValidationProblem(Object.fromEntries(form.errors))
  return request
}

function readContent(form: Form, p: string): NonNullable<CorrespondenceRequest['content']> {
  const attachments: AttachmentMeta[] = []
  for (let i = 0; form.has(`${p}attachments[${i}]`); i++) {
    const a = `${p}attachments[${i}].`
    attachments.push({
      fileName: form.text(`${a}fileName`),
      displayName: form.text(`${a}displayName`),
      sendersReference: form.text(`${a}sendersReference`),
      isEncrypted: form.bool(`${a}isEncrypted`) ?? false,
    })
  }
  return {
    language: form.text(`${p}language`),
    messageTitle: form.text(`${p}messageTitle`),
    messageSummary: form.text(`${p}messageSummary`),
    messageBody: form.text(`${p}messageBody`),
    attachments,
  }
}

function readNotification(form: Form, p: string): NotificationRequest {
  return {
    notificationTemplate: form.oneOf(`${p}notificationTemplate`, TEMPLATES) ?? 'CustomMessage',
    notificationChannel: form.oneOf(`${p}notificationChannel`, CHANNELS),
    emailSubject: form.text(`${p}emailSubject`),
    emailBody: form.text(`${p}emailBody`),
    smsBody: form.text(`${p}smsBody`),
    sendReminder: form.bool(`${p}sendReminder`) ?? false,
    reminderNotificationChannel: form.oneOf(`${p}reminderNotificationChannel`, CHANNELS),
    reminderEmailSubject: form.text(`${p}reminderEmailSubject`),
    reminderEmailBody: form.text(`${p}reminderEmailBody`),
    reminderSmsBody: form.text(`${p}reminderSmsBody`),
  }
}

function checkAnnotations(form: Form, r: CorrespondenceRequest): void {
  if (r.recipients.length === 0 || r.recipients.length > MAX_RECIPIENTS)
    form.fail('Recipients', `Recipients must have between 1 and ${MAX_RECIPIENTS} entries`)
  r.recipients.forEach((recipient, i) => {
    if (recipientId(recipient) === undefined)
      form.fail(
        `Recipients[${i}]`,
        'Recipient must be an organization number (0192:<orgnr> or urn:altinn:organization:identifier-no:<orgnr>) ' +
          'or a valid national identity number (optionally as urn:altinn:person:identifier-no:<fnr>)',
      )
  })
  if (!r.resourceId) form.fail('Correspondence.ResourceId', 'The ResourceId field is required.')
  else if (!RESOURCE_ID.test(r.resourceId))
    form.fail('Correspondence.ResourceId', 'ResourceId must match ^(urn:altinn:resource:)?[^:]{1,255}$')
  if (!r.sendersReference || r.sendersReference.length > 4096)
    form.fail(
      'Correspondence.SendersReference',
      'The SendersReference field is required (1 to 4096 characters).',
    )
  if (r.messageSender !== undefined && r.messageSender.length > 255)
    form.fail('Correspondence.MessageSender', 'MessageSender cannot be longer than 255 characters')
  const props = Object.entries(r.propertyList)
  if (props.length > 10 || props.some(([k, v]) => k.length > 50 || v.length > 300))
    form.fail(
      'Correspondence.PropertyList',
      'At most 10 properties, keys up to 50 and values up to 300 characters',
    )
  const n = r.notification
  for (const [field, max] of NOTIFICATION_LENGTHS) {
    const value = n?.[field]
    if (value !== undefined && value.length > max)
      form.fail(
        `Correspondence.Notification.${pascal(field)}`,
        `${pascal(field)} cannot be longer than ${max} characters`,
      )
  }
  r.content?.attachments.forEach((a, i) => {
    const at = `Correspondence.Content.Attachments[${i}]`
    if (!a.sendersReference || a.sendersReference.length > 4096)
      form.fail(`${at}.SendersReference`, 'The SendersReference field is required (1 to 4096 characters).')
    if (a.displayName !== undefined && a.displayName.length > 255)
      form.fail(`${at}.DisplayName`, 'DisplayName cannot be longer than 255 characters')
  })
}

/** The form's fields under their lower-cased paths, read the way the model binder converts them. */
class Form {
  readonly errors = new Map<string, string[]>()
  readonly #values = new Map<string, string>()
  /** the key as the client wrote it, for dictionary keys */
  readonly #keys = new Map<string, string>()
  /** every path prefix present (`correspondence`, `correspondence.content`, `…attachments[0]`) */
  readonly #prefixes = new Set<string>()

  constructor(fields: Map<string, string>) {
    for (const [key, value] of fields) {
      const path = key.trim().toLowerCase()
      this.#values.set(path, value)
      this.#keys.set(path, key.trim())
      for (let i = 0; i < path.length; i++)
        if (path[i] === '.' || path[i] === '[') this.#prefixes.add(path.slice(0, i))
      this.#prefixes.add(path)
    }
  }

  has(path: string): boolean {
    return this.#prefixes.has(path.toLowerCase())
  }

  text(path: string): string | undefined {
    return this.#values.get(path.toLowerCase())
  }

  fail(path: string, message: string): void {
    this.errors.set(path, [...(this.errors.get(path) ?? []), message])
  }

  /** `name[0]`, `name[1]`, … up to the first gap; or a single `name` */
  list(path: string): string[] {
    const out: string[] = []
    for (let i = 0; this.text(`${path}[${i}]`) !== undefined; i++) out.push(this.text(`${path}[${i}]`)!)
    const single = this.text(path)
    if (out.length === 0 && single !== undefined) out.push(single)
    return out
  }

  /** `name.key` or `name[key]`, keys as the client wrote them */
  dictionary(path: string): Record<string, string> {
    const prefix = path.toLowerCase()
    const out: Record<string, string> = Object.create(null)
    for (const [key, value] of this.#values) {
      if (!key.startsWith(prefix)) continue
      const written = this.#keys.get(key)!.slice(prefix.length)
      const rest = /^(?:\.([^.[\]]+)|\[([^\]]+)\])$/.exec(written)
      if (rest) out[rest[1] ?? rest[2]!] = value
    }
    return out
  }

  bool(path: string): boolean | undefined {
    const value = this.text(path)
    if (value === undefined || value === '') return undefined
    if (/^true$/i.test(value.trim())) return true
    if (/^false$/i.test(value.trim())) return false
    this.fail(pascal(path), `The value '${value}' is not valid for ${lastName(path)}.`)
    return undefined
  }

  date(path: string): number | undefined {
    const value = this.text(path)
    if (value === undefined || value === '') return undefined
    const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+)?(Z|[+-]\d{2}:?\d{2})?$/i.test(value.trim())
      ? Date.parse(value.trim())
      : Number.NaN
    if (Number.isNaN(ms)) this.fail(pascal(path), `The value '${value}' is not valid for ${lastName(path)}.`)
    return Number.isNaN(ms) ? undefined : ms
  }

  guid(path: string): string | undefined {
    const value = this.text(path)
    if (value === undefined || value === '') return undefined
    if (!GUID.test(value.trim())) {
      this.fail(pascal(path), `The value '${value}' is not valid for ${lastName(path)}.`)
      return undefined
    }
    const hex = value.trim().replace(/-/g, '').toLowerCase()
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }

  /** enums bind by name case-insensitively, or by their number */
  oneOf<T extends string>(path: string, allowed: readonly T[]): T | undefined {
    const value = this.text(path)?.trim()
    if (value === undefined || value === '') return undefined
    const found = /^\d+$/.test(value)
      ? allowed[Number(value)]
      : allowed.find((a) => a.toLowerCase() === value.toLowerCase())
    if (!found) this.fail(pascal(path), `The value '${value}' is not valid for ${lastName(path)}.`)
    return found
  }
}

const lastName = (path: string) => pascal(path.split('.').pop() ?? path)
/** a path as ASP.NET names it in `errors` (`Correspondence.Content.MessageTitle`) */
const pascal = (path: string) =>
  path
    .split('.')
    .map((s) => s.charAt(0).toUpperCase() + s.slice(1))
    .join('.')
