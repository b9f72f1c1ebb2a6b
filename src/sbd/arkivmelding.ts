/**
 * Reads what the integration point needs from an uploaded `arkivmelding.xml` (Noark 5 arkivmelding):
 * the title and reference shown on the conversation, and the files its documents name (checked on send),
 * as the reference's `ArkivmeldingUtil` does: the first `mappe` of type `saksmappe`, its first
 * `basisregistrering` of type `journalpost`, that journalpost's `dokumentbeskrivelse`s by `dokumentnummer`.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { ApiError } from '../errors/api-error.js'

export const ARKIVMELDING_NS = 'http://www.arkivverket.no/standarder/noark5/arkivmelding'
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance'
const XML_NS = 'http://www.w3.org/XML/1998/namespace'

export interface ArkivmeldingSummary {
  /** journalpost.offentligTittel */
  title: string | null
  /** `<saksmappe.systemID>-<journalpost.journalpostnummer>` when there is a journalpostnummer */
  reference: string | null
  /** every dokumentobjekt.referanseDokumentfil of the journalpost's dokumentbeskrivelser */
  referencedFiles: string[]
}

/** An element of a parsed arkivmelding, its namespace resolved. */
export interface XmlElement {
  ns: string | null
  local: string
  attrs: Record<string, string>
  scope: Map<string, string>
  elements: XmlElement[]
  /** the text and CDATA directly inside, decoded */
  text: string
}

class NotArkivmelding extends Error {}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  commentPropName: '#comment',
  // we decode the five XML entities and character references ourselves; no DTD entities
  processEntities: false,
  htmlEntities: false,
})

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

function decode(text: string): string {
  return text.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new NotArkivmelding('bare &')
    const code = /^#x([0-9a-fA-F]+)$/.exec(ref)?.[1] ?? /^#(\d+)$/.exec(ref)?.[1]
    if (code !== undefined) {
      const n = ref.startsWith('#x') ? Number.parseInt(code, 16) : Number(code)
      if (n > 0x10ffff || n === 0) throw new NotArkivmelding('bad character reference')
      return String.fromCodePoint(n)
    }
    const named = NAMED[ref]
    if (named === undefined) throw new NotArkivmelding(`undeclared entity ${ref}`)
    return named
  })
}

function splitName(name: string): [string | null, string] {
  const i = name.indexOf(':')
  return i < 0 ? [null, name] : [name.slice(0, i), name.slice(i + 1)]
}

function resolve(scope: Map<string, string>, prefix: string | null): string | null {
  if (prefix === 'xml') return XML_NS
  const ns = scope.get(prefix ?? '')
  if (ns === undefined && prefix !== null) throw new NotArkivmelding(`unbound prefix ${prefix}`)
  return ns === undefined || ns === '' ? null : ns
}

/** Builds the whole tree at once, so that a bad entity or an unbound prefix anywhere is refused. */
function build(nodes: unknown[], parentScope: Map<string, string>): { elements: XmlElement[]; text: string } {
  const elements: XmlElement[] = []
  let text = ''
  for (const node of nodes as Record<string, unknown>[]) {
    if (typeof node['#text'] === 'string') text += decode(node['#text'])
    const name = Object.keys(node).find((k) => k !== ':@')
    if (name === '#cdata')
      text += (node['#cdata'] as { '#text'?: string }[]).map((t) => t['#text'] ?? '').join('')
    if (name === undefined || name.startsWith('#')) continue
    const attrs: Record<string, string> = {}
    const scope = new Map(parentScope)
    for (const [key, raw] of Object.entries((node[':@'] ?? {}) as Record<string, string>)) {
      if (raw.includes('<')) throw new NotArkivmelding('< in attribute')
      attrs[key] = decode(raw)
      if (key === 'xmlns') scope.set('', attrs[key]!)
      else if (key.startsWith('xmlns:')) scope.set(key.slice(6), attrs[key]!)
    }
    const [prefix, local] = splitName(name)
    const inner = build(node[name] as unknown[], scope)
    elements.push({ ns: resolve(scope, prefix), local, attrs, scope, ...inner })
  }
  return { elements, text }
}

/** The element's arkivmelding children named `local`. */
export const children = (el: XmlElement, local: string) =>
  el.elements.filter((c) => c.ns === ARKIVMELDING_NS && c.local === local)

export function firstText(el: XmlElement, local: string): string | null {
  return children(el, local)[0]?.text ?? null
}

/** `xsi:type="saksmappe"` (or with a prefix), resolved in the element's namespaces. */
export function hasXsiType(el: XmlElement, local: string): boolean {
  for (const [key, value] of Object.entries(el.attrs)) {
    const [prefix, name] = splitName(key)
    if (prefix === null || name !== 'type' || resolve(el.scope, prefix) !== XSI_NS) continue
    const [typePrefix, typeLocal] = splitName(value.trim())
    return typeLocal === local && resolve(el.scope, typePrefix) === ARKIVMELDING_NS
  }
  return false
}

/** xs:integer as JAXB reads it into a BigInteger; undefined when it is not one. */
function integer(value: string | null): bigint | undefined {
  const text = value?.trim() ?? ''
  return /^(\+?\d+|-\d+)$/.test(text) ? BigInt(text.replace('+', '')) : undefined
}

/** The summary and the journalpost's `tittel` (DPV sends it as the message body). */
export interface ArkivmeldingContent extends ArkivmeldingSummary {
  /** journalpost.tittel */
  journalpostTitle: string | null
}

function summarise(root: XmlElement): ArkivmeldingContent {
  const saksmappe = children(root, 'mappe').find((m) => hasXsiType(m, 'saksmappe'))
  const journalpost =
    saksmappe && children(saksmappe, 'basisregistrering').find((r) => hasXsiType(r, 'journalpost'))
  if (!saksmappe || !journalpost) throw new ApiError('MissingSaksmappe')
  const nummer = integer(firstText(journalpost, 'journalpostnummer'))
  const systemId = firstText(saksmappe, 'systemID')
  const documents = children(journalpost, 'dokumentbeskrivelse')
    .map((d, i) => ({ d, i, n: integer(firstText(d, 'dokumentnummer')) }))
    .sort((a, b) =>
      a.n === b.n ? a.i - b.i : a.n === undefined ? 1 : b.n === undefined ? -1 : a.n < b.n ? -1 : 1,
    )
  const referencedFiles = documents.flatMap(({ d }) =>
    children(d, 'dokumentobjekt')
      .map((o) => firstText(o, 'referanseDokumentfil'))
      .filter((f): f is string => f !== null),
  )
  return {
    title: firstText(journalpost, 'offentligTittel'),
    reference: nummer !== undefined && systemId !== null ? `${systemId}-${nummer}` : null,
    referencedFiles,
    journalpostTitle: firstText(journalpost, 'tittel'),
  }
}

function rootOf(xml: string): XmlElement {
  const source = xml.replace(/^\uFEFF/, '')
  // no DTDs: nothing in an arkivmelding needs one, and entity expansion is an attack surface
  if (/<!DOCTYPE/i.test(source) || XMLValidator.validate(source) !== true)
    throw new NotArkivmelding('not XML')
  const roots = build(parser.parse(source) as unknown[], new Map()).elements
  if (roots.length !== 1 || roots[0]!.ns !== ARKIVMELDING_NS || roots[0]!.local !== 'arkivmelding') {
    throw new NotArkivmelding('not an arkivmelding')
  }
  return roots[0]!
}

/**
 * Parses an arkivmelding.xml. Not XML or not an arkivmelding: `UnmarshalArkivmelding`; no saksmappe with
 * a journalpost: `MissingSaksmappe` (400; the reference fails with a 500 there).
 */
export function parseArkivmelding(xml: string): ArkivmeldingSummary {
  const { journalpostTitle: _, ...summary } = parseArkivmeldingContent(xml)
  return summary
}

/** As parseArkivmelding, with the journalpost's `tittel` too. */
export function parseArkivmeldingContent(xml: string): ArkivmeldingContent {
  try {
    return summarise(rootOf(xml))
  } catch (err) {
    if (err instanceof ApiError) throw err
    throw new ApiError('UnmarshalArkivmelding', [], { cause: err })
  }
}

/** Decodes arkivmelding.xml bytes by their BOM or XML declaration (UTF-8 unless it says otherwise). */
export function decodeXml(bytes: Uint8Array): string {
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes)
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes)
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 200))
  const declared = /^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1]
  try {
    return new TextDecoder(declared ?? 'utf-8').decode(bytes)
  } catch {
    throw new ApiError('UnmarshalArkivmelding')
  }
}

/**
 * The whole tree, for readers that need more than the summary (DPF maps the saksmappe's and the
 * journalpost's metadata). Not XML or not an arkivmelding: `UnmarshalArkivmelding`.
 */
export function parseArkivmeldingTree(xml: string): XmlElement {
  try {
    return rootOf(xml)
  } catch (err) {
    throw new ApiError('UnmarshalArkivmelding', [], { cause: err })
  }
}
