/**
 * Content-Disposition for an upload (`PUT /api/messages/out/{id}`: `attachment; name="<title>";
 * filename="<file>"`) and for a multipart file part (`form-data; …`), written so that both the
 * reference (Spring's ContentDisposition) and this project's server read back exactly the title and
 * filename given. Values go in quoted strings with `"` and `\` escaped. An HTTP header carries Latin-1
 * at most, so a non-ASCII upload value also gets the RFC 5987 form (`filename*=UTF-8''…`, which both
 * servers prefer) after an ASCII fallback; inside a multipart body the part headers are UTF-8, written
 * raw as browsers and curl do (Spring's multipart reads `name*` nowhere).
 * Hand-written: the `content-disposition` package writes only `filename`, not `name`.
 */

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/
// RFC 5987 attr-char: what an ext-value may carry without percent-encoding
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/

export function contentDisposition(
  type: 'attachment' | 'form-data',
  params: { name: string; filename: string },
): string {
  const param = type === 'attachment' ? parameter : rawParameter
  return `${type}; ${param('name', params.name)}; ${param('filename', params.filename)}`
}

/** Inside a multipart body: UTF-8 as it is; line breaks and other controls (they would end the header) as spaces. */
function rawParameter(key: string, value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  return `${key}=${quoted(value.replace(/[\u0000-\u001f\u007f]/g, ' '))}`
}

function parameter(key: string, value: string): string {
  if (PRINTABLE_ASCII.test(value)) return `${key}=${quoted(value)}`
  const fallback = value.replace(/[^\x20-\x7e]/g, '_')
  return `${key}=${quoted(fallback)}; ${key}*=UTF-8''${extValue(value)}`
}

function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

/** Percent-encodes every UTF-8 byte that is not an attr-char. */
export function extValue(value: string): string {
  let out = ''
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte)
    out += byte < 0x80 && ATTR_CHAR.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

const MIME_TYPES: Readonly<Record<string, string>> = {
  pdf: 'application/pdf',
  xml: 'application/xml',
  json: 'application/json',
  txt: 'text/plain',
  html: 'text/html',
  csv: 'text/csv',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  odt: 'application/vnd.oasis.opendocument.text',
  zip: 'application/zip',
}

/**
 * The MIME type of a filename by its extension, for the common ones; else application/octet-stream
 * (which the server then guesses from the extension itself). A lookup table rather than a library:
 * eleven entries do not justify a dependency in a package published alone.
 */
export function mimeTypeOf(filename: string): string {
  const dot = filename.lastIndexOf('.')
  const ext = dot < 0 ? '' : filename.slice(dot + 1).toLowerCase()
  return MIME_TYPES[ext] ?? 'application/octet-stream'
}
