import { formatOslo } from '../../util/time.js'
import type { DokumentRow, ForsendelseRow, HendelseRow } from './store.js'

/**
 * The stand-in's rows as each API shows them: SvarInn's forsendelse JSON (what
 * `hentNyeForsendelser` lists), v3's status, v2's hendelser, and the sandbox's item.
 */
type Json = Record<string, unknown>

const obj = (value: unknown): Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {}
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null)
const num = (value: unknown): number | null => (typeof value === 'number' ? value : null)
/** SvarInn gives these dates as epoch milliseconds (the receiving IP parses them as longs) */
const epoch = (value: unknown): number | null => {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN
  return Number.isNaN(ms) ? null : ms
}

/** SvarInn's display strings for a status, as its JSON has them (not the enum) */
const DISPLAY: Partial<Record<string, string>> = {
  KLAR_FOR_MOTTAK: 'Klar for mottak',
  LEST: 'Lest',
  VARSLET: 'Varslet',
  AKSEPTERT: 'Akseptert',
}

/**
 * SvarInn's forsendelse: addresses with `adresse1..3`/`postnr`, the avsender with `adresselinje1..3`,
 * `saksBehandler` with a capital B, and the fields the reference IP dereferences never null
 * (`mottaker.orgnr`, `svarSendesTil`, `metadataFraAvleverendeSystem`, `filmetadata`).
 */
export function toSvarInn(row: ForsendelseRow, dokumenter: DokumentRow[], downloadBase: string): Json {
  const req = obj(JSON.parse(row.request))
  const mottaker = obj(req.mottaker)
  const svar = obj(req.svarSendesTil)
  const meta = obj(req.metadataFraAvleverendeSystem)
  const imp = obj(req.metadataForImport)
  const svarAdr = obj(svar.adresse)
  const mottakerAdr = obj(mottaker.adresse)
  const avsenderNavn = str(req.avsenderNavn) ?? str(svar.navn) ?? row.avsender_orgnr
  return {
    id: row.id,
    tittel: row.tittel,
    date: row.created,
    avsender: {
      navn: avsenderNavn,
      adresselinje1: str(svarAdr.adresselinje1) ?? '',
      adresselinje2: str(svarAdr.adresselinje2) ?? '',
      adresselinje3: str(svarAdr.adresselinje3) ?? '',
      postnr: str(svarAdr.postnummer) ?? '',
      poststed: str(svarAdr.poststed) ?? '',
    },
    mottaker: address(str(mottaker.navn) ?? row.mottaker_orgnr, row.mottaker_orgnr, null, mottakerAdr),
    svarSendesTil: address(
      str(svar.navn) ?? avsenderNavn,
      svar.type === 'PERSON' ? null : (str(svar.digitalId) ?? row.avsender_orgnr),
      svar.type === 'PERSON' ? str(svar.digitalId) : null,
      svarAdr,
    ),
    metadataFraAvleverendeSystem: {
      sakssekvensnummer: num(meta.sakssekvensnummer),
      saksaar: num(meta.saksaar),
      journalaar: num(meta.journalaar),
      journalsekvensnummer: num(meta.journalsekvensnummer),
      journalpostnummer: num(meta.journalpostnummer),
      journalposttype: str(meta.journalposttype),
      journalstatus: str(meta.journalstatus),
      journaldato: epoch(meta.journaldato),
      dokumentetsDato: epoch(meta.dokumentetsDato),
      tittel: str(meta.tittel),
      saksBehandler: str(meta.saksbehandler),
      ekstraMetadata: Array.isArray(meta.ekstraMetadata) ? meta.ekstraMetadata : [],
    },
    metadataForImport: {
      sakssekvensnummer: num(imp.sakssekvensnummer) ?? 0,
      saksaar: num(imp.saksaar) ?? 0,
      journalposttype: str(imp.journalposttype),
      journalstatus: str(imp.journalstatus),
      dokumentetsDato: str(imp.dokumentetsDato),
      tittel: str(imp.tittel),
    },
    status: DISPLAY[row.status] ?? row.status,
    niva: req.sikkerhetsniva === 'HOYESTE' ? '4' : '3',
    filmetadata: dokumenter.map((d, i) => ({
      filnavn: d.filnavn,
      mimetype: d.mime_type,
      sha256hash: d.sha256,
      dokumentType: str(obj((req.dokumenter as unknown[] | undefined)?.[i]).dokumentType),
      size: d.size,
    })),
    svarPaForsendelse: str(req.svarPaForsendelseId),
    forsendelseType: str(req.forsendelsestype),
    eksternRef: row.eksternref,
    lenker: Array.isArray(req.lenker) ? req.lenker : [],
    downloadUrl: `${downloadBase}/tjenester/svarinn/forsendelse/${row.id}`,
  }
}

function address(navn: string, orgnr: string | null, fnr: string | null, a: Json): Json {
  return {
    navn,
    orgnr,
    fnr,
    adresse1: str(a.adresselinje1),
    adresse2: str(a.adresselinje2),
    adresse3: str(a.adresselinje3),
    postnr: str(a.postnummer),
    poststed: str(a.poststed),
    land: str(a.landkode) === null || a.landkode === 'NO' ? 'Norge' : str(a.landkode),
  }
}

export const toStatus = (row: ForsendelseRow) => ({
  id: row.id,
  status: row.status,
  sisteStatusEndring: formatOslo(row.status_changed),
})

export const toHendelse = (h: HendelseRow) => ({ tidspunkt: formatOslo(h.tidspunkt), hendelse: h.hendelse })

/** The sandbox API's item: enough for a script to find a forsendelse, check its documents and read it. */
export function toSandboxItem(
  row: ForsendelseRow,
  dokumenter: DokumentRow[],
  hendelser: HendelseRow[],
): Json {
  return {
    id: row.id,
    eksternRef: row.eksternref,
    tittel: row.tittel,
    status: row.status,
    sisteStatusEndring: formatOslo(row.status_changed),
    avsender: row.avsender_orgnr,
    mottaker: row.mottaker_orgnr,
    kontoId: row.konto_id,
    mottakersystem: row.mottakersystem,
    created: formatOslo(row.created),
    downloads: row.downloads,
    forsendelse: JSON.parse(row.request),
    dokumenter: dokumenter.map((d) => ({
      filnavn: d.filnavn,
      mimeType: d.mime_type,
      size: d.size,
      sha256: d.sha256,
    })),
    hendelser: hendelser.map(toHendelse),
  }
}
