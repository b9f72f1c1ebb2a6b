import { CorrespondenceError } from './errors.js'
import {
  type Channel,
  type CorrespondenceRequest,
  isPerson,
  type NotificationRequest,
  recipientId,
} from './form.js'

/**
 * Altinn's business checks on a new correspondence, in Altinn's order (docs/altinn-broker-standin.md,
 * "Correspondence (DPV)"): a known idempotent key is a 409 before anything else is looked at, so a resend
 * of an accepted request always gets 409 even if its content differs. Pure: what it needs to know about
 * the world (the clock, the stored keys, the register) comes in `RuleContext`.
 */
export interface RuleContext {
  now: number
  keyExists(key: string): boolean
  /** organisation and national identity numbers the register does not know */
  unknownRecipients: ReadonlySet<string>
  /** national identity numbers reserved against digital mail (KRR) */
  reservedPersons: ReadonlySet<string>
}

export interface ReceivedFile {
  filename: string
  size: number
}

/** resources whose correspondences must be confidential (the IP's `difi.move.dpv.sensitiveResource`) */
export const isConfidentialResource = (resourceId: string) =>
  resourceId.replace(/^urn:altinn:resource:/, '').endsWith('-taushetsbelagt')

export const MAX_ATTACHMENTS = 100
export const MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024
const ALLOWED_EXTENSIONS = new Set(
  '.doc .xls .docx .xlsx .ppt .pps .zip .pdf .html .txt .xml .jpg .jpeg .gif .bmp .png .json .csv .dcm .dicom'.split(
    ' ',
  ),
)
const RESERVED_NAMES = /^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(\..*)?$/i
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const INVALID_NAME = /[<>:"/\\|?*\x00-\x1f]/

/**
 * Runs the checks; returns, for each attachment in the metadata, the index of its file part. Throws the
 * first CorrespondenceError.
 */
export function checkCorrespondence(
  r: CorrespondenceRequest,
  files: ReceivedFile[],
  ctx: RuleContext,
): number[] {
  if (r.idempotentKey !== undefined) {
    if (r.recipients.length > 1) throw new CorrespondenceError(1047)
    if (ctx.keyExists(r.idempotentKey)) throw new CorrespondenceError(1034)
  }
  if (isConfidentialResource(r.resourceId) && !r.isConfidential) throw new CorrespondenceError(1060)
  if (!isConfidentialResource(r.resourceId) && r.isConfidential) throw new CorrespondenceError(1061)
  checkRecipients(r, ctx)
  if (r.dueDateTime !== undefined && r.dueDateTime < ctx.now) throw new CorrespondenceError(1008)
  if (r.dueDateTime !== undefined && r.dueDateTime < (r.requestedPublishTime ?? ctx.now))
    throw new CorrespondenceError(1009)
  checkContent(r)
  const matched = checkAttachments(r, files)
  if (r.notification?.notificationTemplate === 'CustomMessage') checkNotification(r.notification)
  return matched
}

function checkRecipients(r: CorrespondenceRequest, ctx: RuleContext): void {
  const ids = r.recipients.map((x) => recipientId(x)!)
  if (new Set(ids).size !== ids.length) throw new CorrespondenceError(1006)
  const unknown = r.recipients.filter((_, i) => ctx.unknownRecipients.has(ids[i]!))
  if (unknown.length > 0) throw new CorrespondenceError(1029, { recipients: unknown.join(', ') })
  if (r.isConfirmationNeeded && r.dueDateTime === undefined) throw new CorrespondenceError(1016)
  // with several recipients a reserved person's copy becomes Reserved instead (see the store)
  if (ids.length === 1 && isPerson(ids[0]!) && ctx.reservedPersons.has(ids[0]!) && !r.ignoreReservation)
    throw new CorrespondenceError(1030, { recipientId: r.recipients[0]! })
}

function checkContent(r: CorrespondenceRequest): void {
  const content = r.content
  if (!content) throw new CorrespondenceError(1019)
  const title = content.messageTitle ?? ''
  if (title.trim() === '') throw new CorrespondenceError(1020)
  if (hasMarkup(title)) throw new CorrespondenceError(1002)
  if (title.length > 255) throw new CorrespondenceError(1037)
  const body = content.messageBody ?? ''
  if (body.length === 0) throw new CorrespondenceError(1021)
  if (body.length > 30_000) throw new CorrespondenceError(1022)
  if (!/^(nb|nn|en)$/i.test(content.language ?? '')) throw new CorrespondenceError(1023)
  if ((content.messageSummary ?? '').length > 255) throw new CorrespondenceError(1042)
  if (r.messageSender !== undefined && hasMarkup(r.messageSender)) throw new CorrespondenceError(1039)
}

/** what Altinn's plain-text check turns away: HTML tags and the common Markdown constructs */
export function hasMarkup(text: string): boolean {
  return (
    /<\/?[a-z!][^>]*>/i.test(text) ||
    /^\s{0,3}#{1,6}\s/m.test(text) ||
    /\[[^\]]*\]\([^)]*\)/.test(text) ||
    /(\*\*|__)\S.*?\S?\1/.test(text)
  )
}

function checkAttachments(r: CorrespondenceRequest, files: ReceivedFile[]): number[] {
  const metas = r.content?.attachments ?? []
  if (metas.length > MAX_ATTACHMENTS) throw new CorrespondenceError(1038)
  for (const meta of metas) {
    const name = meta.fileName ?? ''
    if (name.trim() === '') throw new CorrespondenceError(2010)
    if (name.length > 255) throw new CorrespondenceError(2011)
    if (INVALID_NAME.test(name)) throw new CorrespondenceError(2012)
    if (RESERVED_NAMES.test(name)) throw new CorrespondenceError(2021)
    const dot = name.lastIndexOf('.')
    if (dot < 0 || !ALLOWED_EXTENSIONS.has(name.slice(dot).toLowerCase())) throw new CorrespondenceError(2013)
  }
  if (metas.length !== files.length) throw new CorrespondenceError(1005)
  const used = new Set<number>()
  const matched = metas.map((meta, i) => {
    const index = fileIndex(meta.fileName!, i, files, used)
    if (index === undefined) throw new CorrespondenceError(1005)
    used.add(index)
    return index
  })
  for (const index of matched) {
    const size = files[index]!.size
    if (size === 0 || size > MAX_FILE_BYTES) throw new CorrespondenceError(2004)
  }
  return matched
}

/** the file at the same position if its name matches, else the one file of that name (ordinal comparison) */
function fileIndex(
  name: string,
  position: number,
  files: ReceivedFile[],
  used: Set<number>,
): number | undefined {
  if (files[position]?.filename === name && !used.has(position)) return position
  const same = files.flatMap((f, i) => (f.filename === name && !used.has(i) ? [i] : []))
  return same.length === 1 ? same[0] : undefined
}

const present = (s: string | undefined) => s !== undefined && s.trim() !== ''

function checkNotification(n: NotificationRequest): void {
  // Email is the enum's first value, the binder's default
  const main = n.notificationChannel ?? 'Email'
  const mainCode = missingFor(main, n.emailSubject, n.emailBody, n.smsBody, [3002, 3004, 3006, 3024])
  if (mainCode) throw new CorrespondenceError(mainCode)
  if (!n.sendReminder) return
  const reminder = n.reminderNotificationChannel ?? main
  const code = missingFor(
    reminder,
    n.reminderEmailSubject,
    n.reminderEmailBody,
    n.reminderSmsBody,
    [3003, 3005, 3007, 3025],
  )
  if (code) throw new CorrespondenceError(code)
}

function missingFor<C extends 3002 | 3003 | 3004 | 3005 | 3006 | 3007 | 3024 | 3025>(
  channel: Channel,
  subject: string | undefined,
  body: string | undefined,
  sms: string | undefined,
  [email, smsOnly, preferred, both]: [C, C, C, C],
): C | undefined {
  const mail = present(subject) && present(body)
  switch (channel) {
    case 'Email':
      return mail ? undefined : email
    case 'Sms':
      return present(sms) ? undefined : smsOnly
    case 'EmailPreferred':
    case 'SmsPreferred':
      return mail && present(sms) ? undefined : preferred
    case 'EmailAndSms':
      return mail && present(sms) ? undefined : both
  }
}
