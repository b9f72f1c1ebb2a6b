/**
 * The subscription `filter` as the reference's WebhookFilterParser reads it: parts joined by `&`, each
 * `name=value[,value…]`; a part holds when any value equals the event's field ignoring case, and all parts
 * must hold. Names are `status`, `serviceIdentifier` and `direction`; `=` is the only operator.
 *
 * The reference splits with Java's `String.split`, which drops trailing empty pieces: so `status=FEIL&`
 * is valid, `&` alone is a valid filter that matches everything, and `status=,` never matches. We keep
 * those readings so a filter means here what it meant there.
 */

export const FILTER_NAMES = ['status', 'serviceIdentifier', 'direction'] as const
export type FilterName = (typeof FILTER_NAMES)[number]

export interface FilterPart {
  name: FilterName
  operator: '='
  /** the comma-separated values as written */
  value: string
}

export type ParsedFilter = { ok: true; parts: FilterPart[] } | { ok: false; reason: string }

/** The fields of an event a filter looks at. */
export interface FilterSubject {
  status: string
  serviceIdentifier: string
  direction: string
}

// Java's `.` stops at these line terminators; `\w` is ASCII in both languages
const PART = /^(\w+)(=)([^\n\r\u0085\u2028\u2029]+)$/
const WITH_OPERATOR = /^(\w+)([^\w\s]+)/

export function parseFilter(filter: string): ParsedFilter {
  const parts: FilterPart[] = []
  for (const text of javaSplit(filter, '&')) {
    const m = PART.exec(text)
    if (!m) {
      const op = WITH_OPERATOR.exec(text)
      if (op && op[2] !== '=' && !op[2]!.startsWith('='))
        return { ok: false, reason: `Unknown filter operator: ${op[2]}.` }
      return { ok: false, reason: `The filter part "${text}" is not of the form name=value[,value…]` }
    }
    const name = m[1]!
    if (!(FILTER_NAMES as readonly string[]).includes(name))
      return { ok: false, reason: `Unknown filter name: ${name}.` }
    parts.push({ name: name as FilterName, operator: '=', value: m[3]! })
  }
  return { ok: true, parts }
}

export function isValidFilter(filter: string): boolean {
  return parseFilter(filter).ok
}

/**
 * Whether an event passes a subscription's filter. No filter, or one without text, passes everything
 * (as the reference's `StringUtils.hasText` check); a filter that no longer parses passes nothing.
 */
export function filterMatches(filter: string | null, subject: FilterSubject): boolean {
  if (filter === null || filter.trim() === '') return true
  const parsed = parseFilter(filter)
  if (!parsed.ok) return false
  return parsed.parts.every((part) =>
    javaSplit(part.value, ',').some((v) => javaEqualsIgnoreCase(v, subject[part.name])),
  )
}

/** Java's `String.split` with a one-character separator: trailing empty pieces are dropped. */
export function javaSplit(text: string, separator: string): string[] {
  if (!text.includes(separator)) return [text]
  const pieces = text.split(separator)
  while (pieces.length > 0 && pieces[pieces.length - 1] === '') pieces.pop()
  return pieces
}

/** Java's `equalsIgnoreCase`: same length, each UTF-16 unit equal after upper- or lower-casing. */
export function javaEqualsIgnoreCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x === y) continue
    const ux = upper(x)
    const uy = upper(y)
    if (ux !== uy && lower(ux) !== lower(uy)) return false
  }
  return true
}

// Character.toUpperCase maps one char to one char; String casing may expand (ß -> SS), so keep the char then
const upper = (c: string) => {
  const u = c.toUpperCase()
  return u.length === 1 ? u : c
}
const lower = (c: string) => {
  const l = c.toLowerCase()
  return l.length === 1 ? l : c
}
