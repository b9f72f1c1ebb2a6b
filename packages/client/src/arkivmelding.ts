/**
 * A minimal Noark 5 arkivmelding (`arkivmelding.xml`) for a list of files: one saksmappe holding one
 * journalpost, one dokumentbeskrivelse per file (the first is the hoveddokument, the others vedlegg).
 * It carries every element the arkivmelding XSD requires, in the XSD's order (a saksmappe's own
 * elements come after the inherited mappe ones, a journalpost's after the basisregistrering ones), and
 * what an integration point reads from it: the journalpost's `offentligTittel` (the conversation's
 * title) and every `referanseDokumentfil` (each must name a file sent with the message).
 */
import { randomUUID } from 'node:crypto'

export const ARKIVMELDING_FILENAME = 'arkivmelding.xml'
export const ARKIVMELDING_NAMESPACE = 'http://www.arkivverket.no/standarder/noark5/arkivmelding'

export interface ArkivmeldingDocument {
  /** the file's name as it is sent (`referanseDokumentfil`) */
  filename: string
  /** the document's title; default: the filename without its extension */
  title?: string
}

export interface ArkivmeldingOptions {
  /** the documents, hoveddokument first */
  files: readonly (string | ArkivmeldingDocument)[]
  /** the journalpost's (and saksmappe's) title and offentligTittel; default: the first document's title */
  title?: string
  /** `system` and every `opprettetAv`/`arkivertAv`/`tilknyttetAv`; default 'integrasjonspunkt-client' */
  system?: string
  /** the case's administrative unit and case officer (`administrativEnhet`, `saksansvarlig`); default: `system` */
  administrativEnhet?: string
  saksansvarlig?: string
  /** the clock and the id source, so a test can make the output fixed */
  now?: Date
  newId?: () => string
}

// the client package has no XML library among its dependencies, and this document has a fixed shape
function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

function element(name: string, value: string | number): string {
  return `<${name}>${esc(String(value))}</${name}>`
}

/** The filename without its last extension, as a readable default title. */
export function titleOf(filename: string): string {
  const dot = filename.lastIndexOf('.')
  return dot > 0 ? filename.slice(0, dot) : filename
}

interface Context {
  system: string
  dateTime: string
  newId: () => string
}

function dokumentbeskrivelse(doc: ArkivmeldingDocument, index: number, ctx: Context): string {
  const by = ctx.system
  const lines = [
    element('systemID', ctx.newId()),
    // a free text in Noark 5 (M083); «Brev» is its most common value
    element('dokumenttype', 'Brev'),
    element('dokumentstatus', 'Dokumentet er ferdigstilt'),
    element('tittel', doc.title ?? titleOf(doc.filename)),
    element('opprettetDato', ctx.dateTime),
    element('opprettetAv', by),
    element('tilknyttetRegistreringSom', index === 0 ? 'Hoveddokument' : 'Vedlegg'),
    element('dokumentnummer', index + 1),
    element('tilknyttetDato', ctx.dateTime),
    element('tilknyttetAv', by),
    '<dokumentobjekt>',
    `  ${element('versjonsnummer', 1)}`,
    `  ${element('variantformat', 'Produksjonsformat')}`,
    `  ${element('opprettetDato', ctx.dateTime)}`,
    `  ${element('opprettetAv', by)}`,
    `  ${element('referanseDokumentfil', doc.filename)}`,
    '</dokumentobjekt>',
  ]
  return ['<dokumentbeskrivelse>', ...lines.map((l) => `  ${l}`), '</dokumentbeskrivelse>'].join('\n')
}

function indent(block: string, spaces: number): string {
  const pad = ' '.repeat(spaces)
  return block
    .split('\n')
    .map((l) => pad + l)
    .join('\n')
}

function journalpost(docs: ArkivmeldingDocument[], title: string, saksmappeId: string, ctx: Context): string {
  const by = ctx.system
  return [
    '<basisregistrering xsi:type="journalpost">',
    `  ${element('systemID', ctx.newId())}`,
    `  ${element('opprettetDato', ctx.dateTime)}`,
    `  ${element('opprettetAv', by)}`,
    `  ${element('arkivertDato', ctx.dateTime)}`,
    `  ${element('arkivertAv', by)}`,
    `  ${element('referanseForelderMappe', saksmappeId)}`,
    ...docs.map((d, i) => indent(dokumentbeskrivelse(d, i, ctx), 2)),
    `  ${element('tittel', title)}`,
    `  ${element('offentligTittel', title)}`,
    `  ${element('journalposttype', 'Utgående dokument')}`,
    `  ${element('journalstatus', 'Journalført')}`,
    `  ${element('journaldato', ctx.dateTime.slice(0, 10))}`,
    '</basisregistrering>',
  ].join('\n')
}

/** The arkivmelding.xml text (UTF-8) for these files; throws when there is no file or a name repeats. */
export function arkivmeldingXml(opts: ArkivmeldingOptions): string {
  const docs = opts.files.map((f) => (typeof f === 'string' ? { filename: f } : f))
  if (docs.length === 0) throw new Error('an arkivmelding needs at least one document')
  const names = new Set(docs.map((d) => d.filename))
  if (names.size !== docs.length) throw new Error('the documents of an arkivmelding need distinct filenames')
  const system = opts.system ?? 'integrasjonspunkt-client'
  // xs:dateTime without fractions, in UTC: valid for the XSD and unambiguous for the receiver
  const dateTime = (opts.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z')
  const ctx: Context = { system, dateTime, newId: opts.newId ?? randomUUID }
  const title = opts.title ?? docs[0]!.title ?? titleOf(docs[0]!.filename)
  const saksmappeId = ctx.newId()
  const meldingId = ctx.newId()
  const mappe = [
    '<mappe xsi:type="saksmappe">',
    `  ${element('systemID', saksmappeId)}`,
    `  ${element('tittel', title)}`,
    `  ${element('opprettetDato', dateTime)}`,
    `  ${element('opprettetAv', system)}`,
    indent(journalpost(docs, title, saksmappeId, ctx), 2),
    `  ${element('saksdato', dateTime.slice(0, 10))}`,
    `  ${element('administrativEnhet', opts.administrativEnhet ?? system)}`,
    `  ${element('saksansvarlig', opts.saksansvarlig ?? system)}`,
    `  ${element('saksstatus', 'Under behandling')}`,
    '</mappe>',
  ].join('\n')
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<arkivmelding xmlns="${ARKIVMELDING_NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`,
    `  ${element('system', system)}`,
    `  ${element('meldingId', meldingId)}`,
    `  ${element('tidspunkt', dateTime)}`,
    `  ${element('antallFiler', docs.length)}`,
    indent(mappe, 2),
    '</arkivmelding>',
    '',
  ].join('\n')
}
