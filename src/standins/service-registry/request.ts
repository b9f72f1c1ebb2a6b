import { badRequest } from './errors.js'

/**
 * Reading a request as the reference's Spring stack does: query values converted as Spring converts
 * them (a bad one is a 400), the `Accept` header choosing the JSON or the signed (JOSE) variant,
 * and Spring Security's firewall refusing paths that try to climb or hide segments.
 */

const INT_MIN = -(2 ** 31)
const INT_MAX = 2 ** 31 - 1

/** Spring's String → Integer: blank is absent; several values take the first. */
export function integerParam(name: string, raw: unknown): number | null {
  const value = first(raw)
  if (value === undefined || value.trim() === '') return null
  const text = value.trim()
  if (!/^[+-]?\d{1,12}$/.test(text)) throw badRequest(`${name}: '${value}' is not an integer`)
  const n = Number(text)
  if (n < INT_MIN || n > INT_MAX) throw badRequest(`${name}: '${value}' is out of range`)
  return n
}

/** Spring's String → boolean: true/on/yes/1 and false/off/no/0, any case; blank is the default. */
export function booleanParam(name: string, raw: unknown, fallback: boolean): boolean {
  const value = first(raw)
  if (value === undefined || value.trim() === '') return fallback
  const text = value.trim().toLowerCase()
  if (['true', 'on', 'yes', '1'].includes(text)) return true
  if (['false', 'off', 'no', '0'].includes(text)) return false
  throw badRequest(`${name}: '${value}' is not a boolean`)
}

function first(raw: unknown): string | undefined {
  const value = Array.isArray(raw) ? raw[0] : raw
  return typeof value === 'string' ? value : undefined
}

/**
 * Whether the client prefers the signed variant: the first media range (by quality, then order)
 * that names `application/jose` or `application/json` decides; wildcards mean the default, JSON.
 * The reference answers 406 when neither is acceptable; we answer the default instead.
 */
export function prefersJose(accept: string | undefined): boolean {
  if (!accept) return false
  const ranges = accept
    .split(',')
    .map((part, index) => {
      const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase())
      const q = params.find((p) => p.startsWith('q='))
      return { type, q: q ? Number(q.slice(2)) : 1, index }
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index)
  for (const { type } of ranges) {
    if (type === 'application/jose') return true
    if (type === 'application/json' || type === '*/*' || type === 'application/*') return false
  }
  return false
}

// Spring Security's StrictHttpFirewall: encoded separators, dot segments, ';', '\' and control characters
const REFUSED_ENCODED = /%(2f|5c|25|2e|3b|00)/i
const REFUSED_RAW = /[;\\]/
const DOT_SEGMENT = /(^|\/)\.\.?(\/|$)/

/** Why the firewall refuses this raw path, or undefined when it passes. */
export function refusedPath(rawPath: string): string | undefined {
  if (REFUSED_ENCODED.test(rawPath)) return 'the URL contains an encoded separator, dot or percent'
  if (REFUSED_RAW.test(rawPath) || hasControlCharacter(rawPath))
    return 'the URL contains a semicolon, backslash or control character'
  if (rawPath.includes('//')) return 'the URL contains an empty segment'
  if (DOT_SEGMENT.test(rawPath)) return 'the URL is not normalized'
  return undefined
}

/**
 * The organisation a Maskinporten token was issued to (`consumer.ID`, `0192:<orgnr>`). The stand-in
 * does not authenticate: it reads the claim when a token is sent, without checking the signature.
 */
export function consumerOf(authorization: string | undefined): string | null {
  const m = /^Bearer\s+[\w-]+\.([\w-]+)\.[\w-]*$/i.exec(authorization ?? '')
  if (!m) return null
  try {
    const claims = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as {
      consumer?: { ID?: unknown }
    }
    const id = claims?.consumer?.ID
    const orgnr = typeof id === 'string' ? /^0192:(\d{9})$/.exec(id)?.[1] : undefined
    return orgnr ?? null
  } catch {
    return null
  }
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}
