import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export { capturingLogger } from '../../../test/support/logging.js'

/** Test helpers for the Altinn 3 Broker stand-in (not part of the build). */

export const RESOURCE = 'eformidling-dpo-meldingsutveksling'
export const ORG_A = '0192:910075918'
export const ORG_B = '0192:910077473'
export const ORG_C = '0192:910094092'

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'broker-standin-'))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** An unsigned Maskinporten-style token for `org` (the stand-in decodes, never verifies). */
export function maskinportenToken(claims: Record<string, unknown>): string {
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`
}

export const consumerToken = (org: string) =>
  maskinportenToken({
    consumer: { authority: 'iso6523-actorid-upis', ID: org },
    scope: 'altinn:broker.write',
  })

export interface Answer {
  status: number
  type: string | null
  text: string
  // biome-ignore lint/suspicious/noExplicitAny: test answers are read field by field
  json(): any
}

export function brokerClient(url: string) {
  const call = async (path: string, init: RequestInit & { token?: string } = {}): Promise<Answer> => {
    const headers = new Headers(init.headers)
    if (init.token) headers.set('authorization', `Bearer ${init.token}`)
    const res = await fetch(`${url}${path}`, { ...init, headers })
    const text = await res.text()
    return { status: res.status, type: res.headers.get('content-type'), text, json: () => JSON.parse(text) }
  }
  const exchange = async (org: string) => {
    const res = await call('/authentication/api/v1/exchange/maskinporten', { token: consumerToken(org) })
    if (res.status !== 200) throw new Error(`exchange failed: ${res.status} ${res.text}`)
    return res.text
  }
  const api = (path: string) => `/broker/api/v1/filetransfer${path}`
  return {
    call,
    exchange,
    initialize: (token: string, body: unknown, path = '/') =>
      call(api(path), {
        method: 'POST',
        token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    upload: (token: string, id: string, bytes: Buffer) =>
      call(api(`/${id}/upload`), {
        method: 'POST',
        token,
        headers: { 'content-type': 'application/octet-stream' },
        body: new Uint8Array(bytes),
      }),
    list: (token: string, query = `?resourceId=${RESOURCE}&status=Published&recipientStatus=Initialized`) =>
      call(api(query), { token }),
    overview: (token: string, id: string) => call(api(`/${id}`), { token }),
    download: async (token: string, id: string) => {
      const res = await fetch(`${url}${api(`/${id}/download`)}`, {
        headers: { authorization: `Bearer ${token}` },
      })
      return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) }
    },
    confirm: (token: string, id: string) => call(api(`/${id}/confirmdownload`), { method: 'POST', token }),
  }
}

export const initBody = (sender: string, recipients: string[], extra: Record<string, unknown> = {}) => ({
  fileName: 'sbd.zip',
  resourceId: RESOURCE,
  sendersFileTransferReference: crypto.randomUUID(),
  sender,
  recipients,
  propertyList: {},
  checksum: null,
  disableVirusScan: null,
  ...extra,
})

/**
 * Streams `total` bytes in `chunk`-sized pieces with node:http, pulling each piece only when the
 * socket takes it, and stops at the first answer; says how many bytes left this process.
 */
export function streamUpload(
  url: string,
  path: string,
  token: string,
  total: number,
  chunk = 16_384,
): Promise<{ status: number | undefined; text: string; sent: number; error?: string }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    let sent = 0
    let answered = false
    const req = request({
      host: hostname,
      port,
      path,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    })
    const piece = Buffer.alloc(chunk, 7)
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk
        if (!req.write(piece)) return void req.once('drain', pump)
      }
      if (!answered) req.end()
    }
    req.on('response', (res) => {
      answered = true
      let text = ''
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode, text, sent }))
      res.on('error', (e) => resolve({ status: res.statusCode, text, sent, error: e.message }))
    })
    req.on('error', (e) => {
      if (!answered) resolve({ status: undefined, text: '', sent, error: e.message })
    })
    pump()
  })
}
