/**
 * The parameters of one ServiceRegistry lookup, modelled on the reference's `SRParameter`: its
 * text (errors quote it, and the capabilities 404 passes that text on to clients), its URL
 * (`getUrlTemplate`) and its cache identity (everything but `conversationId`).
 */

export interface SrParams {
  identifier: string
  process?: string | null
  securityLevel?: number | null
  conversationId?: string | null
  /** false skips the SR's print (DSF/FREG) lookup for citizens */
  print?: boolean
}

/** The reference's `SRParameter` as its client sends it. */
export interface SrParameter {
  readonly identifier: string
  readonly process: string | null
  readonly securityLevel: number | null
  readonly print: boolean | null
  readonly infoOnly: boolean
  readonly conversationId: string | null
}

/**
 * Applies what the reference's client does before a call: with `enableDsfPrintLookup=false` it
 * sets `print=false` on every parameter (so the SR skips the print lookup), otherwise `print` is
 * sent only when the caller set it to false.
 */
export function toSrParameter(
  params: SrParams,
  opts: { printLookup: boolean; infoOnly: boolean },
): SrParameter {
  return {
    identifier: params.identifier,
    process: params.process ?? null,
    securityLevel: params.securityLevel ?? null,
    print: opts.printLookup ? (params.print ?? null) : false,
    infoOnly: opts.infoOnly,
    conversationId: params.conversationId ?? null,
  }
}

/** Lombok's `toString()` of `SRParameter`, field for field. */
export function srParameterText(p: SrParameter): string {
  return (
    `SRParameter(identifier=${p.identifier}, process=${p.process}, securityLevel=${p.securityLevel}, ` +
    `print=${p.print}, infoOnly=${p.infoOnly}, conversationId=${p.conversationId})`
  )
}

/**
 * The path after the endpoint, as `SRParameter.getUrlTemplate()` expanded: `info/{id}`, or
 * `identifier/{id}[/process/{p}]` with the query in the fixed order securityLevel, conversationId,
 * print=false. Process URNs keep their colons (path rules allow them).
 */
export function srPath(p: SrParameter): string {
  if (p.infoOnly) return `info/${pathSegment(p.identifier)}`
  let path = `identifier/${pathSegment(p.identifier)}`
  if (p.process) path += `/process/${pathSegment(p.process)}`
  const query: string[] = []
  if (p.securityLevel !== null) query.push(`securityLevel=${p.securityLevel}`)
  if (p.conversationId) query.push(`conversationId=${queryValue(p.conversationId)}`)
  if (p.print === false) query.push('print=false')
  return query.length === 0 ? path : `${path}?${query.join('&')}`
}

/** As the reference's cache key (`SRParameter.equals`), which leaves out `conversationId`. */
export function srCacheKey(p: SrParameter): string {
  return JSON.stringify([p.infoOnly, p.identifier, p.process, p.securityLevel, p.print])
}

// RFC 3986 pchar keeps sub-delims, ':' and '@' unencoded; encodeURIComponent encodes these.
const PCHAR_KEPT = /%(3A|40|24|26|2B|2C|3B|3D)/gi
const QUERY_KEPT = /%(3A|40|2F|3F|24|2C|3B)/gi

/**
 * One path segment. Unlike Spring's template expansion we also encode '/' and a '.'/'..' segment,
 * so no identifier can climb out of its segment (identifiers and process URNs never contain them).
 */
export function pathSegment(value: string): string {
  if (value === '.' || value === '..') return value.replaceAll('.', '%2E')
  return encodeURIComponent(value).replace(PCHAR_KEPT, (m) => decodeURIComponent(m))
}

function queryValue(value: string): string {
  return encodeURIComponent(value).replace(QUERY_KEPT, (m) => decodeURIComponent(m))
}
