// The one rule for what a document may be called inside an ASiC-E. The upload and the one-step send
// refuse what it refuses, and the writer applies it again, so a message the API accepted can always be
// packed: before, `C:x.pdf` passed the upload, yazl refused it at every send attempt, and the message
// waited for its expiry. What it refuses, and who would have refused it otherwise:
// - yazl: empty names, absolute paths (`/x`, `C:x`), `..` segments; it turns `\` into a folder separator;
// - the receiving side (our ASiC-E reader, the client's unpacking): `.`/`..`, `\`, NUL, drive letters;
//   our reader's XML parser trims the manifest's URIs, so a name with spaces around it never matches;
// - XML 1.0 cannot carry control characters, lone surrogates, U+FFFE or U+FFFF in the manifests;
// - the container's own entries (`mimetype`, `manifest.xml`, `META-INF/`);
// - file systems: names over 255 bytes, names of only dots and spaces (Windows trims them to nothing),
//   and two names that differ only in case or Unicode normal form (one file overwrites the other when
//   the container is unpacked on Windows or macOS).

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const NOT_XML = /[\ufffe\uffff]/
/** the names the container itself uses, compared as documentNameKey compares */
const RESERVED = new Set(['mimetype', 'manifest.xml', 'meta-inf'])
export const MAX_DOCUMENT_NAME_BYTES = 255

/** Why `name` cannot be a document's name in an ASiC-E, or null when it can. */
export function documentNameProblem(name: string): string | null {
  if (name === '') return 'it is empty'
  if (/^[. ]*$/.test(name)) return 'it is only dots and spaces'
  if (name.includes('/') || name.includes('\\')) return 'it has a path separator (/ or \\)'
  if (/^[A-Za-z]:/.test(name)) return 'it starts with a drive letter'
  if (CONTROL.test(name)) return 'it has a control character'
  if (LONE_SURROGATE.test(name) || NOT_XML.test(name)) return 'it has a character XML cannot carry'
  if (name.trim() !== name) return 'it starts or ends with white space'
  if (RESERVED.has(documentNameKey(name))) return 'the ASiC-E container uses that name itself'
  if (Buffer.byteLength(name, 'utf8') > MAX_DOCUMENT_NAME_BYTES)
    return `it is longer than ${MAX_DOCUMENT_NAME_BYTES} bytes of UTF-8`
  return null
}

/** The form names are compared in: two names with the same key are one file once unpacked. */
export function documentNameKey(name: string): string {
  return name.normalize('NFC').toLowerCase()
}

/** The first of `names` that collides with another one, or null. */
export function collidingName(names: readonly string[]): string | null {
  const seen = new Set<string>()
  for (const name of names) {
    const key = documentNameKey(name)
    if (seen.has(key)) return name
    seen.add(key)
  }
  return null
}

/** Whether `name` collides with one of `existing`. */
export function collidesWith(existing: readonly string[], name: string): boolean {
  const key = documentNameKey(name)
  return existing.some((e) => documentNameKey(e) === key)
}

/** Why these documents cannot go into one ASiC-E together, or null. */
export function documentNamesProblem(names: readonly string[]): string | null {
  for (const name of names) {
    const problem = documentNameProblem(name)
    if (problem) return `a document cannot be named ${JSON.stringify(name)} in an ASiC-E: ${problem}`
  }
  const twice = collidingName(names)
  if (twice !== null)
    return `a document cannot be named ${JSON.stringify(twice)} in an ASiC-E: another document has that name`
  return null
}
