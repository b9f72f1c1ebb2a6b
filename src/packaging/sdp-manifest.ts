// The SDP `manifest.xml` of a DPI document package (namespace http://begrep.difi.no/sdp/schema_v10,
// the reference's sdp-manifest.xsd, written by its CreateManifest): who it is for (digital only), who
// sends it, the main document and the attachments with their titles and metadata ("utvidelse") files.
// The XSD's limits are checked here, before anything is packed: the reference validates after
// marshalling and retries a message that breaks them until it expires; here it fails for good.

import { AsicWriteError } from './asic.js'
import { SDP_NS } from './sdp-manifest-read.js'

// the reading side, for the stand-in mailbox
export { type ParsedSdpManifest, parseSdpManifest, SdpManifestError } from './sdp-manifest-read.js'

const AUTHORITY = 'iso6523-actorid-upis'

export interface SdpDocument {
  filename: string
  mimeType: string
  title: string | null
  primary: boolean
  /** the document's metadata ("utvidelse") file, when it has one */
  metadata?: { filename: string; mimeType: string } | null
}

export interface SdpManifest {
  /** digital: the mailbox address; null for print (no <mottaker>) */
  postkasseadresse: string | null
  /** `0192:<orgnr>` */
  avsender: string
  avsenderidentifikator?: string | null
  fakturaReferanse?: string | null
  /** two letters, the tittel/@lang */
  language: string
}

/** The XSD's length limits, in characters. */
const HREF = [4, 100] as const
const MIME = [1, 100] as const
const TITLE = [1, 255] as const
const MAX_ATTACHMENTS = 200

const NOT_XML =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML 1.0 cannot carry
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

function xmlChars(s: string): string {
  if (NOT_XML.test(s)) throw new AsicWriteError(`${JSON.stringify(s)} has a character XML cannot carry`)
  return s
}
const text = (s: string): string =>
  xmlChars(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;')
const attrValue = (s: string): string =>
  xmlChars(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/[\t\n\r]/g, (c) => `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`)

const chars = (s: string): number => [...s].length

function within(what: string, value: string, [min, max]: readonly [number, number]): string {
  const n = chars(value)
  if (n < min || n > max)
    throw new AsicWriteError(
      `${what} ${JSON.stringify(value)} has ${n} characters; the SDP manifest takes ${min} to ${max}`,
    )
  return value
}

/**
 * The manifest; the primary document is the hoveddokument, the rest are vedlegg in the order given.
 * A document without a title gets its file name without the extension (the reference writes
 * "Missing title", which the citizen would read in the mailbox). Throws AsicWriteError on what the XSD refuses.
 */
export function sdpManifestXml(m: SdpManifest, docs: readonly SdpDocument[]): Buffer {
  const primary = docs.filter((d) => d.primary)
  if (primary.length !== 1)
    throw new AsicWriteError(`a DPI package needs exactly one primary document, not ${primary.length}`)
  const rest = docs.filter((d) => !d.primary)
  if (rest.length > MAX_ATTACHMENTS)
    throw new AsicWriteError(`a DPI package takes at most ${MAX_ATTACHMENTS} attachments, not ${rest.length}`)
  if (!/^[0-9]{4}:\w{1,35}$/.test(m.avsender))
    throw new AsicWriteError(
      `the sender ${JSON.stringify(m.avsender)} is not an ISO 6523 id like 0192:<orgnr>`,
    )
  if (chars(m.language) !== 2)
    throw new AsicWriteError(`the language ${JSON.stringify(m.language)} is not two letters`)
  const optional = (name: string, v: string | null | undefined, max: number): string =>
    v == null ? '' : `<${name}>${text(within(name, v, [1, max]))}</${name}>`
  const mottaker =
    m.postkasseadresse === null
      ? '' // print: no recipient in the manifest, as the reference
      : `<mottaker><person><postkasseadresse>${text(m.postkasseadresse)}</postkasseadresse></person></mottaker>`
  const avsender =
    `<avsender><organisasjon authority="${AUTHORITY}">${text(m.avsender)}</organisasjon>` +
    optional('avsenderidentifikator', m.avsenderidentifikator, 100) +
    optional('fakturaReferanse', m.fakturaReferanse, 40) +
    '</avsender>'
  const doc = (tag: string, d: SdpDocument): string => {
    const title = within('the title', d.title || stem(d.filename), TITLE)
    const data = d.metadata
      ? `<data href="${href(d.metadata.filename)}" mime="${mime(d.metadata.mimeType)}"/>`
      : ''
    return (
      `<${tag} href="${href(d.filename)}" mime="${mime(d.mimeType)}">` +
      `<tittel lang="${attrValue(m.language)}">${text(title)}</tittel>${data}</${tag}>`
    )
  }
  return Buffer.from(
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
      `<manifest xmlns="${SDP_NS}">${mottaker}${avsender}${doc('hoveddokument', primary[0]!)}` +
      `${rest.map((d) => doc('vedlegg', d)).join('')}</manifest>\n`,
    'utf8',
  )
}

const href = (name: string): string => attrValue(within('the file name', name, HREF))
const mime = (type: string): string => attrValue(within('the mime type', type, MIME))

/** The file name without its extension, or the whole name when that would leave nothing. */
const stem = (filename: string): string => filename.replace(/\.[^.]*$/, '') || filename
