import { randomUUID } from 'node:crypto'
import { request } from 'node:http'
import { maskinportenToken } from '../test-support.js'

/** Test helpers for the Correspondence API of the Altinn stand-in (not part of the build). */

export const PROXY = '/altinn-proxy/correspondence/api/v1/correspondence'
export const DIRECT = '/correspondence/api/v1/correspondence'
export const SENDER = '0192:910077473'
export const ORG_RECIPIENT = 'urn:altinn:organization:identifier-no:910094092'
export const PERSON = '15857540015'

export type Fields = [string, string][]
export interface FilePart {
  filename: string
  bytes: Buffer
  /** the part's name; `attachments` unless given */
  name?: string
}

/**
 * The form fields the reference integration point sends for an arkivmelding with one file (camelCase,
 * dot/bracket paths), with `overrides` replacing or adding fields and `null` removing one.
 */
export function ipFields(overrides: Record<string, string | null> = {}, now = new Date()): Fields {
  const id = randomUUID()
  const at = (days: number) => new Date(now.getTime() + days * 86_400_000).toISOString()
  const text = '$correspondenceRecipientName$: Du har mottatt en melding fra TEST - C4.'
  const base: Record<string, string> = {
    'recipients[0]': ORG_RECIPIENT,
    idempotentKey: id,
    'correspondence.resourceId': 'eformidling-dpv-administrasjon',
    'correspondence.sender': SENDER,
    'correspondence.sendersReference': id,
    'correspondence.messageSender': 'TEST - C4',
    'correspondence.requestedPublishTime': at(0),
    'correspondence.dueDateTime': at(7),
    'correspondence.isConfirmationNeeded': 'false',
    'correspondence.isConfidential': 'false',
    'correspondence.ignoreReservation': 'false',
    'correspondence.propertyList.senderOrgNumber': '910077473',
    'correspondence.content.language': 'nb',
    'correspondence.content.messageTitle': 'Nye lysrør',
    'correspondence.content.messageSummary': 'Nye lysrør',
    'correspondence.content.messageBody': 'Nye lysrør',
    'correspondence.content.attachments[0].fileName': 'test.txt',
    'correspondence.content.attachments[0].displayName': 'Test',
    'correspondence.content.attachments[0].isEncrypted': 'false',
    'correspondence.content.attachments[0].sendersReference': 'AttachmentReference_as123452',
    'correspondence.notification.notificationTemplate': 'CustomMessage',
    'correspondence.notification.notificationChannel': 'EmailAndSms',
    'correspondence.notification.emailSubject': 'Melding mottatt i Altinn',
    'correspondence.notification.emailBody': text,
    'correspondence.notification.emailContentType': 'Plain',
    'correspondence.notification.smsBody': text,
    'correspondence.notification.requestedSendTime': at(0),
    'correspondence.notification.sendReminder': 'true',
    'correspondence.notification.reminderNotificationChannel': 'EmailAndSms',
    'correspondence.notification.reminderEmailSubject': 'Melding mottatt i Altinn',
    'correspondence.notification.reminderEmailBody': text,
    'correspondence.notification.reminderEmailContentType': 'Plain',
    'correspondence.notification.reminderSmsBody': text,
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v === null) delete base[k]
    else base[k] = v
  }
  return Object.entries(base)
}

export const file = (filename: string, bytes: Buffer | string): FilePart => ({
  filename,
  bytes: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes),
})

export interface Answer {
  status: number
  text: string
  // biome-ignore lint/suspicious/noExplicitAny: test answers are read field by field
  json(): any
}

export function correspondenceClient(url: string) {
  const call = async (path: string, init: RequestInit & { token?: string } = {}): Promise<Answer> => {
    const headers = new Headers(init.headers)
    if (init.token) headers.set('authorization', `Bearer ${init.token}`)
    const res = await fetch(`${url}${path}`, { ...init, headers })
    const text = await res.text()
    return { status: res.status, text, json: () => JSON.parse(text) }
  }
  /** an Altinn token exchanged for a Maskinporten token of `org` with `scope` */
  const token = async (org = SENDER, scope = 'eformidling:dpv') => {
    const mp = maskinportenToken({ consumer: { authority: 'iso6523-actorid-upis', ID: org }, scope })
    const res = await call('/authentication/api/v1/exchange/maskinporten', { token: mp })
    if (res.status !== 200) throw new Error(`exchange failed: ${res.status} ${res.text}`)
    return res.text
  }
  const upload = (tok: string | undefined, fields: Fields, files: FilePart[] = [], base = PROXY) => {
    const form = new FormData()
    for (const [k, v] of fields) form.append(k, v)
    for (const f of files)
      form.append(f.name ?? 'attachments', new Blob([new Uint8Array(f.bytes)]), f.filename)
    return call(`${base}/upload`, { method: 'POST', body: form, ...(tok ? { token: tok } : {}) })
  }
  const sandbox = (path: string, init: RequestInit = {}) => call(`/sandbox/api/correspondences${path}`, init)
  const hook = (id: string, action: string, body?: unknown) =>
    sandbox(`/${id}/${action}`, {
      method: 'POST',
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    })
  return {
    call,
    token,
    upload,
    overview: (tok: string, id: string, base = PROXY) => call(`${base}/${id}`, { token: tok }),
    search: (tok: string, query: string, base = PROXY) => call(`${base}?${query}`, { token: tok }),
    sandbox,
    hook,
  }
}

/**
 * Streams a multipart upload of the IP's fields and one file of `total` bytes with node:http, each piece
 * pulled only when the socket takes it, so the test itself holds no more than a chunk.
 */
export function streamUpload(
  url: string,
  token: string,
  fields: Fields,
  filename: string,
  total: number,
  onChunk: (sent: number) => void,
  chunk = 64 * 1024,
): Promise<{ status: number | undefined; text: string }> {
  const { hostname, port } = new URL(url)
  const boundary = `----stand-in-${randomUUID()}`
  const head = Buffer.from(
    fields
      .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
      .join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="${filename}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  return new Promise((resolve, reject) => {
    const req = request({
      host: hostname,
      port,
      path: `${PROXY}/upload`,
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': head.length + total + tail.length,
      },
    })
    req.on('error', reject)
    req.on('response', (res) => {
      let text = ''
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode, text }))
    })
    req.write(head)
    let sent = 0
    const piece = Buffer.alloc(chunk, 0x61)
    const pump = () => {
      while (sent < total) {
        const n = Math.min(chunk, total - sent)
        sent += n
        onChunk(sent)
        if (!req.write(n === chunk ? piece : piece.subarray(0, n))) return void req.once('drain', pump)
      }
      req.end(tail)
    }
    pump()
  })
}
