/**
 * A reader for Java `.properties` text with the rules of `java.util.Properties.load` (JDK 9+), so that
 * every `integrasjonspunkt-local.properties` an operator already has means here what it meant to the
 * reference:
 *
 * - natural lines end at `\n`, `\r` or `\r\n`; leading spaces, tabs and form feeds are skipped;
 * - a line whose first non-blank character is `#` or `!` is a comment (comments never continue);
 * - a line ending in an odd number of backslashes continues on the next one, whose leading blanks are
 *   dropped;
 * - the key ends at the first unescaped `=`, `:` or blank; blanks around one `=`/`:` are skipped and the
 *   rest of the line (trailing blanks included) is the value;
 * - escapes: `\t` `\n` `\r` `\f`, `\uXXXX`, and `\` before any other character stands for that character.
 *
 * Later duplicates win, as in Java's Hashtable.
 */

export interface PropertyEntry {
  key: string
  value: string
  /** 1-based number of the natural line the logical line starts on */
  line: number
}

export class PropertiesSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`)
    this.name = 'PropertiesSyntaxError'
  }
}

interface LogicalLine {
  text: string
  line: number
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\f'
const isEol = (c: string): boolean => c === '\n' || c === '\r'

/** Splits text into logical lines the way Java's `Properties.LineReader` does. */
export function logicalLines(text: string): LogicalLine[] {
  const lineOf = lineNumbers(text)
  const out: LogicalLine[] = []
  let buf = ''
  let start = 0
  let skipBlank = true
  let continuation = false
  let backslash = false
  const finish = (): void => {
    out.push({ text: backslash ? buf.slice(0, -1) : buf, line: lineOf(start) })
    buf = ''
    backslash = false
    skipBlank = true
  }
  let i = 0
  while (i < text.length) {
    const c = text[i++]!
    if (skipBlank) {
      if (isBlank(c) || (!continuation && isEol(c))) continue
      skipBlank = false
      continuation = false
    }
    if (buf.length === 0 && (c === '#' || c === '!')) {
      i = skipComment(text, i)
      skipBlank = true
    } else if (!isEol(c)) {
      if (buf.length === 0) start = i - 1
      buf += c
      backslash = c === '\\' ? !backslash : false
    } else if (buf.length === 0) {
      skipBlank = true
    } else if (backslash && i < text.length) {
      // a continued line: drop the backslash and the terminator, then the next line's leading blanks
      buf = buf.slice(0, -1)
      backslash = false
      skipBlank = true
      continuation = true
      if (c === '\r' && text[i] === '\n') i++
    } else {
      finish()
    }
  }
  if (buf.length > 0) finish()
  return out
}

/** Skips a comment up to and including its line terminator. */
function skipComment(text: string, from: number): number {
  let i = from
  while (i < text.length && !isEol(text[i]!)) i++
  return i + 1
}

/** Maps an offset to its 1-based natural line number (`\r\n` is one terminator). */
function lineNumbers(text: string): (offset: number) => number {
  const starts = [0]
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) starts.push(i + 1)
  }
  return (offset) => {
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid]! <= offset) lo = mid
      else hi = mid - 1
    }
    return lo + 1
  }
}

/** Splits one logical line into its raw (still escaped) key and value. */
function splitKeyValue(line: string): { key: string; value: string } {
  let keyLen = 0
  let valueStart = line.length
  let hasSep = false
  let backslash = false
  while (keyLen < line.length) {
    const c = line[keyLen]!
    if ((c === '=' || c === ':') && !backslash) {
      valueStart = keyLen + 1
      hasSep = true
      break
    }
    if (isBlank(c) && !backslash) {
      valueStart = keyLen + 1
      break
    }
    backslash = c === '\\' ? !backslash : false
    keyLen++
  }
  while (valueStart < line.length) {
    const c = line[valueStart]!
    if (!isBlank(c)) {
      if (hasSep || (c !== '=' && c !== ':')) break
      hasSep = true
    }
    valueStart++
  }
  return { key: line.slice(0, keyLen), value: line.slice(valueStart) }
}

const SIMPLE_ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' }

/** Java's `loadConvert`: resolves backslash escapes. */
export function unescapeProperty(raw: string, line = 0): string {
  let out = ''
  let i = 0
  while (i < raw.length) {
    const c = raw[i++]!
    if (c !== '\\') {
      out += c
      continue
    }
    const next = raw[i++]
    if (next === undefined) break
    if (next !== 'u') {
      out += SIMPLE_ESCAPES[next] ?? next
      continue
    }
    const hex = raw.slice(i, i + 4)
    if (!/^[0-9a-fA-F]{4}$/.test(hex))
      throw new PropertiesSyntaxError(line, `malformed \\uXXXX escape "\\u${hex}"`)
    out += String.fromCharCode(Number.parseInt(hex, 16))
    i += 4
  }
  return out
}

/** Every key/value pair in file order (duplicates kept; the last one is the one that counts). */
export function parsePropertyEntries(text: string): PropertyEntry[] {
  return logicalLines(text).map(({ text: lineText, line }) => {
    const { key, value } = splitKeyValue(lineText)
    return { key: unescapeProperty(key, line), value: unescapeProperty(value, line), line }
  })
}

/** The properties as `Properties.load` leaves them: one value per key, the last one wins. */
export function parseProperties(text: string): Map<string, string> {
  const map = new Map<string, string>()
  for (const { key, value } of parsePropertyEntries(text)) map.set(key, value)
  return map
}
