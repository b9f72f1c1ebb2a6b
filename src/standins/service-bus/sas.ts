import { timingSafeEqual } from 'node:crypto'
import { javaUrlDecode, sasAuthorization, sasSignature } from '../../channels/dpe/sas.js'

/**
 * Shared Access Signatures as the reference makes them and Azure checks them:
 * `SharedAccessSignature sr=<url-encoded resource URL>&sig=<url-encoded base64 HMAC>&se=<epoch s>&skn=<key name>`,
 * the HMAC-SHA256 keyed with the key string's UTF-8 bytes over `sr` as sent (still encoded) + "\n" + `se`.
 */

// the reference's encoding and HMAC, as the integration point signs with them (src/channels/dpe/sas.ts)
export { javaUrlEncode, sasSignature } from '../../channels/dpe/sas.js'

/** The `Authorization` value for a request to `resourceUrl` (no query), valid until `expiresAt` (epoch s). */
export function sasToken(opts: {
  resourceUrl: string
  keyName: string
  key: string
  expiresAt: number
}): string {
  const { expiresAt, ...rest } = opts
  return sasAuthorization({ ...rest, expiry: expiresAt })
}

export interface SasFields {
  /** as received, still URL-encoded: the signature covers these bytes */
  sr: string
  sig: string
  se: string
  skn: string
}

/** The four fields of a `SharedAccessSignature` header in any order; undefined when one is missing. */
export function parseSas(header: string | undefined): SasFields | undefined {
  const match = /^SharedAccessSignature\s+(.+)$/i.exec(header?.trim() ?? '')
  if (!match) return undefined
  const fields = new Map<string, string>()
  for (const pair of match[1]!.split('&')) {
    const eq = pair.indexOf('=')
    if (eq > 0) fields.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim())
  }
  const [sr, sig, se, skn] = ['sr', 'sig', 'se', 'skn'].map((k) => fields.get(k))
  if (!sr || !sig || !se || !skn) return undefined
  return { sr, sig, se, skn }
}

/**
 * How far past `se` a token is still taken: the reference rounds its expiry through a 32-bit float
 * (`Math.round((now + 20000) / 1000f)`), which lands anywhere from now − 44 s to now + 84 s, and Azure
 * takes those tokens (a quirk of the reference).
 */
export const EXPIRY_TOLERANCE_S = 300

export type SasCheck = { ok: true; keyName: string } | { ok: false; reason: string }

/**
 * Checks an `Authorization` header for a request. `requestUrls` are the forms of the URL (no query) the
 * client may have signed, e.g. with the path as sent and percent-decoded; the decoded `sr` must be a
 * case-insensitive prefix of one of them, as Azure requires of a token's scope.
 */
export function checkSas(
  header: string | undefined,
  requestUrls: string[],
  keys: Record<string, string>,
  nowMs: number,
): SasCheck {
  const sas = parseSas(header)
  if (!sas) return { ok: false, reason: 'no SharedAccessSignature with sr, sig, se and skn' }
  const keyName = javaUrlDecode(sas.skn)
  const key = keyName === undefined ? undefined : Object.hasOwn(keys, keyName) ? keys[keyName] : undefined
  if (key === undefined) return { ok: false, reason: `unknown key name ${sas.skn}` }
  if (!/^\d{1,12}$/.test(sas.se)) return { ok: false, reason: `se is not epoch seconds: ${sas.se}` }
  if (Number(sas.se) < Math.floor(nowMs / 1000) - EXPIRY_TOLERANCE_S)
    return { ok: false, reason: `the token expired at ${new Date(Number(sas.se) * 1000).toISOString()}` }
  const scope = javaUrlDecode(sas.sr)?.toLowerCase()
  if (!scope || !requestUrls.some((url) => url.toLowerCase().startsWith(scope)))
    return { ok: false, reason: `sr ${scope ?? sas.sr} does not cover ${requestUrls[0]}` }
  const given = Buffer.from(javaUrlDecode(sas.sig) ?? '', 'utf8')
  const expected = Buffer.from(sasSignature(key, sas.sr, sas.se), 'utf8')
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'the signature does not match' }
  return { ok: true, keyName: keyName! }
}
