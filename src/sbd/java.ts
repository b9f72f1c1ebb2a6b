/**
 * Small re-creations of the Java library behaviour the reference's rules rely on (Spring's
 * `StringUtils.hasText`, `String.split`, `UUID.fromString`, `Integer.parseInt`), so the rules
 * built on them accept and reject exactly what the reference does.
 */

/** `Character.isWhitespace`: Unicode space separators except the no-break ones, plus the ASCII controls. */
const CONTROL_WHITESPACE = new Set([9, 10, 11, 12, 13, 28, 29, 30, 31])

export function isJavaWhitespace(ch: string): boolean {
  if (CONTROL_WHITESPACE.has(ch.codePointAt(0) ?? -1)) return true
  if (ch === '\u00A0' || ch === '\u2007' || ch === '\u202F') return false
  return /^[\p{Zs}\u2028\u2029]$/u.test(ch)
}

/** Spring's `StringUtils.hasText`: not null and holding some non-whitespace character. */
export function hasText(value: string | null | undefined): value is string {
  if (typeof value !== 'string') return false
  for (const ch of value) if (!isJavaWhitespace(ch)) return true
  return false
}

/** Guava's `Strings.isNullOrEmpty`. */
export function isNullOrEmpty(value: string | null | undefined): boolean {
  return value === null || value === undefined || value === ''
}

/** Java's `String.split(literal)`: trailing empty strings are removed. */
export function javaSplit(value: string, separator: string): string[] {
  const parts = value.split(separator)
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
  return parts
}

const LONG_MAX = 0x7fffffffffffffffn

/** Java's `Long.parseLong(s, 16)` acceptance, for one UUID segment. */
function isHexLong(segment: string): boolean {
  const m = /^([+-]?)([0-9a-fA-F]+)$/.exec(segment)
  if (!m) return false
  const n = BigInt(`0x${m[2]}`)
  return m[1] === '-' ? n <= LONG_MAX + 1n : n <= LONG_MAX
}

/**
 * `java.util.UUID.fromString` acceptance (JDK 21): five dash-separated hex groups of any length that fit
 * a signed long, at most 36 characters. Lenient (`1-1-1-1-1` passes), as the reference's `@UUID` check.
 */
export function isJavaUuid(value: string): boolean {
  if (value.length > 36) return false
  const parts = value.split('-')
  if (parts.length !== 5) return false
  return parts.every(isHexLong)
}

/** `Integer.parseInt` for ASCII digits with an optional sign; undefined when not an int. */
export function parseJavaInt(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined
  const n = Number(text)
  return n >= -2147483648 && n <= 2147483647 ? n : undefined
}
