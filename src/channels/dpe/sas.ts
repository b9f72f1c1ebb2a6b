// The Shared Access Signature the reference computes for every Service Bus call
// (ServiceBusRestClient.createAuthorizationHeader), and its check, for tests and stand-ins.

import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Java's `URLEncoder.encode(s, "UTF-8")`, which the reference signs with: `A–Z a–z 0–9 . - * _` kept,
 * space as `+`, every other UTF-8 byte as `%XX` in upper case. `encodeURIComponent` differs (it keeps
 * `!'()~` and writes a space as `%20`), and Service Bus compares the signed text byte for byte.
 */
export function javaUrlEncode(text: string): string {
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte)
    if (/[A-Za-z0-9.\-*_]/.test(c)) out += c
    else if (byte === 0x20) out += '+'
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** `URLDecoder.decode`: `+` is a space; undefined when a `%` escape is malformed. */
export function javaUrlDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    return undefined
  }
}

/** base64(HMAC-SHA256) with the key as the UTF-8 bytes of its text (not base64-decoded), as the reference and Azure. */
export function sasSignature(key: string, encodedResource: string, expiry: number | string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8'))
    .update(`${encodedResource}\n${expiry}`, 'utf8')
    .digest('base64')
}

/** The lifetimes we allow a token: at least the reference's 20 s, at most the 300 s stand-ins allow past `se`. */
export const MIN_LIFETIME_SECONDS = 20
export const MAX_LIFETIME_SECONDS = 300
/**
 * Ours: two minutes. The reference's float rounding gives anything from now − 44 s to
 * now + 84 s, so a third of its tokens are already expired when sent and Azure must tolerate some
 * skew. We compute `se` in whole seconds so a token is never born expired, and give it enough to cover
 * a 15 s connect and a clock a minute off, while a header caught in a log stops working soon after.
 */
export const DEFAULT_LIFETIME_SECONDS = 120

/** Epoch seconds a token made at `nowMs` expires: whole seconds, never the reference's float rounding. */
export function sasExpiry(nowMs: number, lifetimeSeconds = DEFAULT_LIFETIME_SECONDS): number {
  if (
    !Number.isInteger(lifetimeSeconds) ||
    lifetimeSeconds < MIN_LIFETIME_SECONDS ||
    lifetimeSeconds > MAX_LIFETIME_SECONDS
  )
    throw new RangeError(
      `a SAS lifetime must be ${MIN_LIFETIME_SECONDS}-${MAX_LIFETIME_SECONDS} s, got ${lifetimeSeconds}`,
    )
  return Math.floor(nowMs / 1000) + lifetimeSeconds
}

export interface SasInput {
  /** the request URL without its query: `<scheme>://<baseUrl>/<queue>/messages…` */
  resourceUrl: string
  /** difi.move.nextmove.serviceBus.sasKeyName, sent as `skn` */
  keyName: string
  /** the key's text (the ServiceRegistry's `/sastoken` payload, or serviceBus.sasToken) */
  key: string
  /** epoch seconds (sasExpiry) */
  expiry: number
}

/** `SharedAccessSignature sr=…&sig=…&se=…&skn=…`, the Authorization header's value. */
export function sasAuthorization({ resourceUrl, keyName, key, expiry }: SasInput): string {
  if (resourceUrl.includes('?'))
    throw new Error(`a SAS signs the request URL without its query, got ${resourceUrl}`)
  const sr = javaUrlEncode(resourceUrl)
  const sig = javaUrlEncode(sasSignature(key, sr, expiry))
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${expiry}&skn=${javaUrlEncode(keyName)}`
}

export type SasCheck = { ok: true; keyName: string } | { ok: false; reason: string }

export interface SasCheckOptions {
  /** the URL requested, with or without its query */
  url: string
  /** the key for a key name, undefined when there is none */
  keyFor(keyName: string): string | undefined
  nowMs: number
  /** how far past `se` a token is still taken: 300 s by default, which covers the reference's rounding */
  graceSeconds?: number
}

/**
 * Checks an Authorization header as a Service Bus stand-in should: parameters in any order, the
 * HMAC recomputed over `sr` as received (still encoded), the decoded `sr` a prefix of the URL
 * (case-insensitive), and `se` at most `graceSeconds` in the past.
 */
export function checkSas(header: string | undefined, opts: SasCheckOptions): SasCheck {
  const prefix = 'SharedAccessSignature '
  if (!header?.startsWith(prefix)) return { ok: false, reason: 'no SharedAccessSignature' }
  const params = new Map<string, string>()
  for (const part of header.slice(prefix.length).trim().split('&')) {
    const eq = part.indexOf('=')
    if (eq > 0) params.set(part.slice(0, eq), part.slice(eq + 1))
  }
  const sr = params.get('sr')
  const sig = params.get('sig')
  const se = params.get('se')
  const skn = params.get('skn')
  if (!sr || !sig || !se || !skn) return { ok: false, reason: 'sr, sig, se and skn are all required' }
  const keyName = javaUrlDecode(skn)
  const key = keyName === undefined ? undefined : opts.keyFor(keyName)
  if (keyName === undefined || key === undefined) return { ok: false, reason: `no key named ${skn}` }
  const expected = Buffer.from(sasSignature(key, sr, se))
  const given = Buffer.from(javaUrlDecode(sig) ?? '')
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'the signature does not match' }
  const resource = javaUrlDecode(sr)?.toLowerCase()
  if (resource === undefined || !opts.url.split('?')[0]!.toLowerCase().startsWith(resource))
    return { ok: false, reason: `sr ${javaUrlDecode(sr) ?? sr} does not cover ${opts.url}` }
  if (!/^\d+$/.test(se)) return { ok: false, reason: `se ${se} is not epoch seconds` }
  if (Number(se) < Math.floor(opts.nowMs / 1000) - (opts.graceSeconds ?? 300))
    return { ok: false, reason: `the token expired at ${se}` }
  return { ok: true, keyName }
}
