// Content-Disposition as `PUT /api/messages/out/{id}` accepts it: the reference parses
// it with Spring's ContentDisposition, which takes an unquoted value up to the next `;` (spaces included,
// as in its own example `name=Before The Law; filename=before_the_law.txt`), strips quotes, and decodes
// `filename*=charset'lang'value` for UTF-8 and ISO-8859-1 only. We accept the same and also `name*`.
// Where the reference fails with a 500 ("Invalid content disposition format") we throw
// ContentDispositionError, which the HTTP layer answers with a 400.

export class ContentDispositionError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ContentDispositionError'
  }
}

export interface ParsedHeader {
  /** the part before the first `;`, lower-cased (`attachment`, `form-data`) */
  type: string
  /** parameter values by lower-cased name; the RFC 5987 `name*` form is decoded and stored as `name` */
  params: Record<string, string>
}

interface RawParam {
  name: string
  value: string
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// RFC 5987 attr-char: the characters an ext-value may carry without percent-encoding
const ATTR_CHAR = /^[!#$&+\-.^_`|~0-9A-Za-z]$/
const UTF8_NAMES = new Set(['utf-8', 'utf8'])
const LATIN1_NAMES = new Set(['iso-8859-1', 'iso8859-1', 'iso_8859-1', 'iso8859_1', 'latin1', 'l1'])

export function parseContentDisposition(header: string): ParsedHeader {
  const { type, params } = parseParameterizedHeader(header, 'Content-Disposition')
  if (!TOKEN.test(type)) {
    throw new ContentDispositionError(
      `Content-Disposition must start with a disposition type such as "attachment", got "${type}"`,
    )
  }
  return { type, params: combineParams(params) }
}

/**
 * Splits `type; a=b; c="d"` into the first segment and raw parameters (names lower-cased, quoted
 * values unescaped, `*` names not yet decoded). Shared with the multipart Content-Type parser.
 */
export function parseParameterizedHeader(header: string, what: string): { type: string; params: RawParam[] } {
  const semi = header.indexOf(';')
  const type = (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase()
  if (type === '') throw new ContentDispositionError(`${what} header is empty or has no type before ';'`)
  const params: RawParam[] = []
  let i = semi < 0 ? header.length : semi
  while (i < header.length) {
    i = skipSpace(header, i + 1) // past the ';'
    if (i >= header.length || header[i] === ';') continue // empty segment, as Spring allows
    const param = readParam(header, i, what)
    params.push(param.param)
    i = param.next
  }
  return { type, params }
}

function readParam(s: string, start: number, what: string): { param: RawParam; next: number } {
  let i = start
  while (i < s.length && s[i] !== '=' && s[i] !== ';') i++
  const name = s.slice(start, i).trim()
  if (s[i] !== '=') {
    throw new ContentDispositionError(
      `${what} parameter "${name}" has no value: every parameter must be name=value`,
    )
  }
  if (!TOKEN.test(name)) throw new ContentDispositionError(`${what} has an invalid parameter name "${name}"`)
  i = skipSpace(s, i + 1)
  const { value, next } = s[i] === '"' ? readQuoted(s, i, name, what) : readUnquoted(s, i, name, what)
  return { param: { name: name.toLowerCase(), value }, next }
}

function readQuoted(s: string, start: number, name: string, what: string): { value: string; next: number } {
  let value = ''
  let i = start + 1
  for (; i < s.length && s[i] !== '"'; i++) {
    if (s[i] === '\\' && i + 1 < s.length) i++
    value += s[i]
  }
  if (i >= s.length)
    throw new ContentDispositionError(`${what} parameter "${name}" has an unterminated quoted value`)
  i = skipSpace(s, i + 1)
  if (i < s.length && s[i] !== ';') {
    throw new ContentDispositionError(`${what} parameter "${name}" has text after its closing quote`)
  }
  return { value, next: i }
}

function readUnquoted(s: string, start: number, name: string, what: string): { value: string; next: number } {
  let i = start
  while (i < s.length && s[i] !== ';') i++
  const value = s.slice(start, i).trim()
  if (value.includes('"')) {
    throw new ContentDispositionError(`${what} parameter "${name}" has a stray '"': quote the whole value`)
  }
  return { value, next: i }
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++
  return i
}

/** Decodes `x*` values and lets them win over plain `x`; a parameter given twice is ambiguous. */
function combineParams(raw: RawParam[]): Record<string, string> {
  const plain: Record<string, string> = Object.create(null)
  const extended: Record<string, string> = Object.create(null)
  for (const { name, value } of raw) {
    const isExt = name.endsWith('*')
    const base = isExt ? name.slice(0, -1) : name
    const target = isExt ? extended : plain
    if (base === '' || base.includes('*')) {
      throw new ContentDispositionError(`Content-Disposition has an invalid parameter name "${name}"`)
    }
    if (base in target)
      throw new ContentDispositionError(`Content-Disposition parameter "${name}" is given twice`)
    target[base] = isExt ? decodeExtValue(value, name) : value
  }
  return Object.assign(plain, extended)
}

/** RFC 5987 ext-value: charset'language'percent-encoded-bytes. */
export function decodeExtValue(value: string, name: string): string {
  const first = value.indexOf("'")
  const second = first < 0 ? -1 : value.indexOf("'", first + 1)
  if (second < 0) {
    throw new ContentDispositionError(
      `Content-Disposition parameter "${name}" must look like UTF-8''percent-encoded-text`,
    )
  }
  const charset = value.slice(0, first).toLowerCase()
  const isUtf8 = UTF8_NAMES.has(charset)
  if (!isUtf8 && !LATIN1_NAMES.has(charset)) {
    throw new ContentDispositionError(
      `Content-Disposition parameter "${name}" uses charset "${value.slice(0, first)}": only UTF-8 and ISO-8859-1 are supported`,
    )
  }
  const bytes = percentDecode(value.slice(second + 1), name)
  if (!isUtf8) return bytes.toString('latin1')
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new ContentDispositionError(
      `Content-Disposition parameter "${name}" is not valid UTF-8 once decoded`,
    )
  }
}

function percentDecode(text: string, name: string): Buffer {
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '%') {
      const hex = text.slice(i + 1, i + 3)
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
        throw new ContentDispositionError(
          `Content-Disposition parameter "${name}" has bad percent-encoding at "%${hex}"`,
        )
      }
      bytes.push(Number.parseInt(hex, 16))
      i += 2
    } else if (ATTR_CHAR.test(c)) {
      bytes.push(c.charCodeAt(0))
    } else {
      throw new ContentDispositionError(
        `Content-Disposition parameter "${name}" has the character ${JSON.stringify(c)}, which must be percent-encoded`,
      )
    }
  }
  return Buffer.from(bytes)
}
