// Reading the SDP manifest.xml of a DPI package (namespace http://begrep.difi.no/sdp/schema_v10) as a
// mailbox does: the reference's dpi-client validates what it writes against sdp-manifest.xsd, so the
// rules of that schema a mailbox depends on are checked here (element order and namespace, the
// sender's ISO 6523 form, the lengths of hrefs and titles, at most 200 attachments). No DTD and no
// entities beyond XML's own: xml-tree.ts refuses them.

import { attr, elements, parseXml, textOf, type XmlElement } from './xml-tree.js'

export const SDP_NS = 'http://begrep.difi.no/sdp/schema_v10'
const AUTHORITY = 'iso6523-actorid-upis'
const MAX_VEDLEGG = 200

export class SdpManifestError extends Error {
  override name = 'SdpManifestError'
}

export interface ParsedSdpDoc {
  href: string
  mime: string
  title: string | null
  lang: string | null
  /** the document's metadata file (the manifest's `data`, an "utvidelse"), if it names one */
  data: { href: string; mime: string } | null
}

export interface ParsedSdpManifest {
  postkasseadresse: string | null
  personidentifikator: string | null
  /** the sender as ISO 6523 text, `0192:<orgnr>` */
  avsender: string
  avsenderidentifikator: string | null
  fakturaReferanse: string | null
  hoveddokument: ParsedSdpDoc
  vedlegg: ParsedSdpDoc[]
}

/** The sequence sdp-manifest.xsd gives the manifest's children, with how many of each may appear. */
const ORDER: [string, number, number][] = [
  ['mottaker', 0, 1],
  ['avsender', 1, 1],
  ['hoveddokument', 1, 1],
  ['vedlegg', 0, MAX_VEDLEGG],
  ['lenke', 0, 1],
]

export function parseSdpManifest(xml: Buffer): ParsedSdpManifest {
  let root: XmlElement
  try {
    root = parseXml(xml)
  } catch (e) {
    throw new SdpManifestError(`manifest.xml is not well-formed XML: ${(e as Error).message}`, { cause: e })
  }
  if (root.ns !== SDP_NS || root.local !== 'manifest')
    throw new SdpManifestError(`manifest.xml is not an SDP manifest: its root is {${root.ns}}${root.local}`)
  const parts = sequence(root, ORDER)
  const person = parts.get('mottaker')?.[0]
  const personParts = person ? sequence(person, [['person', 1, 1]]).get('person')![0]! : null
  const p = personParts
    ? sequence(personParts, [
        ['personidentifikator', 0, 1],
        ['postkasseadresse', 1, 1],
      ])
    : null
  const personidentifikator = p ? optionalText(p, 'personidentifikator') : null
  if (personidentifikator !== null && !/^[0-9]{11}$/.test(personidentifikator))
    throw new SdpManifestError('mottaker/person/personidentifikator is not 11 digits')
  const avsender = sequence(parts.get('avsender')![0]!, [
    ['organisasjon', 1, 1],
    ['avsenderidentifikator', 0, 1],
    ['fakturaReferanse', 0, 1],
  ])
  return {
    postkasseadresse: p ? optionalText(p, 'postkasseadresse') : null,
    personidentifikator,
    avsender: organisasjon(avsender.get('organisasjon')![0]!),
    avsenderidentifikator: bounded(
      optionalText(avsender, 'avsenderidentifikator'),
      100,
      'avsenderidentifikator',
    ),
    fakturaReferanse: bounded(optionalText(avsender, 'fakturaReferanse'), 40, 'fakturaReferanse'),
    hoveddokument: document(parts.get('hoveddokument')![0]!),
    vedlegg: (parts.get('vedlegg') ?? []).map(document),
  }
}

/** The element's SDP children in the given order and counts; anything else is refused. */
function sequence(el: XmlElement, order: [string, number, number][]): Map<string, XmlElement[]> {
  const found = new Map<string, XmlElement[]>()
  let at = 0
  for (const c of elements(el)) {
    if (c.ns !== SDP_NS)
      throw new SdpManifestError(`${el.local} holds {${c.ns}}${c.local}, not an SDP element`)
    while (at < order.length && order[at]![0] !== c.local) at++
    if (at === order.length)
      throw new SdpManifestError(`${el.local} holds ${c.local} where the schema does not allow it`)
    found.set(c.local, [...(found.get(c.local) ?? []), c])
  }
  for (const [name, min, max] of order) {
    const n = found.get(name)?.length ?? 0
    if (n < min) throw new SdpManifestError(`${el.local} has no ${name}`)
    if (n > max) throw new SdpManifestError(`${el.local} has ${n} ${name}, at most ${max} allowed`)
  }
  if (textOf(el).trim() !== '') throw new SdpManifestError(`${el.local} holds text where elements belong`)
  return found
}

function optionalText(parts: Map<string, XmlElement[]>, name: string): string | null {
  const el = parts.get(name)?.[0]
  if (!el) return null
  if (elements(el).length > 0) throw new SdpManifestError(`${name} holds elements where text belongs`)
  return textOf(el).trim()
}

function bounded(value: string | null, max: number, name: string): string | null {
  if (value !== null && (value.length < 1 || value.length > max))
    throw new SdpManifestError(`${name} must be 1 to ${max} characters`)
  return value
}

function organisasjon(el: XmlElement): string {
  const authority = attr(el, 'authority')
  if (authority !== null && authority !== AUTHORITY)
    throw new SdpManifestError(`avsender/organisasjon has the authority ${authority}, not ${AUTHORITY}`)
  const value = textOf(el).trim()
  if (!/^[0-9]{4}:\w{1,35}$/.test(value))
    throw new SdpManifestError(
      `avsender/organisasjon ${JSON.stringify(value)} is not an ISO 6523 identifier like 0192:910077473`,
    )
  return value
}

function hrefMime(el: XmlElement, what: string): { href: string; mime: string } {
  const href = attr(el, 'href')
  const mime = attr(el, 'mime')
  if (href === null || href.length < 4 || href.length > 100)
    throw new SdpManifestError(`${what} needs an href of 4 to 100 characters`)
  if (mime === null || mime.length < 1 || mime.length > 100)
    throw new SdpManifestError(`${what} ${href} needs a mime of 1 to 100 characters`)
  return { href, mime }
}

function document(el: XmlElement): ParsedSdpDoc {
  const { href, mime } = hrefMime(el, el.local)
  const parts = sequence(el, [
    ['tittel', 0, 1],
    ['data', 0, 1],
  ])
  const tittel = parts.get('tittel')?.[0]
  const lang = tittel ? attr(tittel, 'lang') : null
  if (tittel && (lang === null || lang.length !== 2))
    throw new SdpManifestError(`the title of ${href} needs a lang of exactly 2 characters`)
  const title = tittel ? bounded(optionalText(parts, 'tittel'), 255, `the title of ${href}`) : null
  const data = parts.get('data')?.[0]
  if (data && elements(data).length > 0) throw new SdpManifestError(`the data of ${href} holds elements`)
  return { href, mime, title, lang, data: data ? hrefMime(data, `the data of ${href}`) : null }
}
