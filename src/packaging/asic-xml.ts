// The three XML files of an eFormidling ASiC-E: eFormidling's own manifest.xml (the reference's
// ManifestFactory, felleslosninger/efm-integrasjonspunkt), the ETSI TS 102 918
// META-INF/ASiCManifest.xml and the OASIS META-INF/manifest.xml.

import { XMLParser } from 'fast-xml-parser'

export const ASIC_MIMETYPE = 'application/vnd.etsi.asic-e+zip'
const ASIC_NS = 'http://uri.etsi.org/02918/v1.2.1#'
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#'
export const SHA256_URI = 'http://www.w3.org/2001/04/xmlenc#sha256'
/** older efm-asic containers name SHA-256 with the xmldsig namespace (efm-asic CadesAsicManifest) */
const SHA256_URIS = new Set([SHA256_URI, 'http://www.w3.org/2000/09/xmldsig#sha256'])

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

const IDENTIFIER_AUTHORITY = 'iso6523-actorid-upis'

export interface EformidlingManifest {
  mottaker: string | null
  avsender: string | null
  hoveddokument: { href: string; mime: string | null; tittel: string | null } | null
}

/** The eFormidling manifest; `primary` is the hoveddokument. Org values are the full `ICD:orgnr`. */
export function eformidlingManifestXml(
  receiver: string,
  sender: string,
  primary: { filename: string; mimeType: string; title: string },
): Buffer {
  const org = (id: string): string =>
    `<organisasjon authority="${IDENTIFIER_AUTHORITY}">${esc(id)}</organisasjon>`
  return Buffer.from(
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<manifest>\n' +
      `    <mottaker>${org(receiver)}</mottaker>\n` +
      `    <avsender>${org(sender)}</avsender>\n` +
      `    <hoveddokument href="${esc(primary.filename)}" mime="${esc(primary.mimeType)}">` +
      `<tittel lang="no">${esc(primary.title)}</tittel></hoveddokument>\n</manifest>\n`,
    'utf8',
  )
}

export interface DataObject {
  uri: string
  mimeType: string
  sha256: Buffer
}

export function asicManifestXml(objects: DataObject[], signatureUri: string): Buffer {
  const refs = objects.map(
    (o) =>
      `    <DataObjectReference URI="${esc(o.uri)}" MimeType="${esc(o.mimeType)}">\n` +
      `        <ns2:DigestMethod Algorithm="${SHA256_URI}"/>\n` +
      `        <ns2:DigestValue>${o.sha256.toString('base64')}</ns2:DigestValue>\n` +
      '    </DataObjectReference>\n',
  )
  return Buffer.from(
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
      `<ASiCManifest xmlns="${ASIC_NS}" xmlns:ns2="${DSIG_NS}">\n` +
      `    <SigReference URI="${esc(signatureUri)}" MimeType="application/x-pkcs7-signature"/>\n` +
      refs.join('') +
      '</ASiCManifest>\n',
    'utf8',
  )
}

export function oasisManifestXml(objects: { uri: string; mimeType: string }[]): Buffer {
  const entry = (path: string, type: string): string =>
    `    <manifest:file-entry manifest:full-path="${esc(path)}" manifest:media-type="${esc(type)}"/>\n`
  return Buffer.from(
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
      '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">\n' +
      entry('/', ASIC_MIMETYPE) +
      objects.map((o) => entry(o.uri, o.mimeType)).join('') +
      '</manifest:manifest>\n',
    'utf8',
  )
}

// --- reading --------------------------------------------------------------------------------------

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => name === 'DataObjectReference',
  processEntities: true,
})

type Node = Record<string, unknown>
const text = (v: unknown): string | null =>
  typeof v === 'string'
    ? v.trim()
    : typeof (v as Node)?.['#text'] === 'string'
      ? ((v as Node)['#text'] as string).trim()
      : null

export interface ParsedAsicManifest {
  signatureUri: string | null
  objects: { uri: string; mimeType: string | null; sha256: Buffer }[]
}

/** Parses ASiCManifest.xml; throws Error with a reason when it is not one or uses another digest. */
export function parseAsicManifest(xml: Buffer): ParsedAsicManifest {
  const root = (parser.parse(xml.toString('utf8')) as Node)['ASiCManifest'] as Node | undefined
  if (!root || typeof root !== 'object')
    throw new Error('META-INF/ASiCManifest.xml has no ASiCManifest element')
  const sig = root['SigReference'] as Node | undefined
  const refs = (root['DataObjectReference'] as Node[] | undefined) ?? []
  const objects = refs.map((r) => {
    const uri = r['@URI']
    const method = (r['DigestMethod'] as Node | undefined)?.['@Algorithm']
    const value = text(r['DigestValue'])
    if (typeof uri !== 'string' || value === null)
      throw new Error('a DataObjectReference lacks URI or DigestValue')
    if (typeof method !== 'string' || !SHA256_URIS.has(method)) {
      throw new Error(`digest method ${String(method)} for ${uri} is not SHA-256`)
    }
    return {
      uri,
      mimeType: typeof r['@MimeType'] === 'string' ? r['@MimeType'] : null,
      sha256: Buffer.from(value, 'base64'),
    }
  })
  const sigUri = sig?.['@URI']
  return { signatureUri: typeof sigUri === 'string' ? sigUri : null, objects }
}

export function parseEformidlingManifest(xml: Buffer): EformidlingManifest {
  const root = (parser.parse(xml.toString('utf8')) as Node)['manifest'] as Node | undefined
  if (!root || typeof root !== 'object') throw new Error('manifest.xml has no manifest element')
  const org = (party: unknown): string | null => text((party as Node | undefined)?.['organisasjon'])
  const doc = root['hoveddokument'] as Node | undefined
  return {
    mottaker: org(root['mottaker']),
    avsender: org(root['avsender']),
    hoveddokument:
      doc && typeof doc['@href'] === 'string'
        ? {
            href: doc['@href'],
            mime: typeof doc['@mime'] === 'string' ? doc['@mime'] : null,
            tittel: text(doc['tittel']),
          }
        : null,
  }
}
