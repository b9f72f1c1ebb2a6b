import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import type pino from 'pino'
import {
  discardMultipart,
  MultipartError,
  type MultipartFilePart,
  type MultipartResult,
  readMultipart,
} from '../../files/multipart.js'
import type { Clock } from '../../util/time.js'
import { badRequest, SvarUtError } from './errors.js'
import type { DocumentFiles } from './files.js'
import type { SvarUtKeys } from './keys.js'
import type { Konto, Mottakersystem, SvarUtSettings } from './settings.js'
import type { DokumentRow, ForsendelseRow, ForsendelseStatus, SvarUtStore } from './store.js'
import { type Forsendelse, parseForsendelse } from './validation.js'

export interface SvarUtDeps {
  store: SvarUtStore
  files: DocumentFiles
  keys: SvarUtKeys
  settings: SvarUtSettings
  clock: Clock
  logger: pino.Logger
  /** told when a forsendelse is waiting in a mottakersystem's SvarInn (the sandbox nudges the receiver) */
  onArrived?: (f: { id: string; mottaker: string; mottakersystem: string }) => void
}

/** the part holding the forsendelse JSON; every other part is a document */
export const FORSENDELSE_PART = 'forsendelse'
const MAX_JSON_BYTES = 1024 * 1024
const FORM_LIMITS = { maxFields: 20, maxFieldBytes: MAX_JSON_BYTES, maxParts: 1000 }

export interface Upload {
  json: string
  documents: MultipartFilePart[]
  form: MultipartResult
}

/**
 * Reads a send's multipart body, streaming each document to a temp file (never whole in memory):
 * the `forsendelse` part is JSON whatever its Content-Type, with or without a filename (KS's client
 * sends it as a bare string part); the caller discards the form when done.
 */
export async function readUpload(
  deps: SvarUtDeps,
  req: { headers: IncomingHttpHeaders; stream: Readable },
): Promise<Upload> {
  let form: MultipartResult
  try {
    form = await readMultipart(req, {
      tempDir: deps.files.tmp,
      maxFileBytes: deps.settings.maxBytes,
      onFileTooLarge: (_name, filename) =>
        new SvarUtError(413, `${filename} er større enn ${deps.settings.maxBytes} bytes`, 'FOR_STOR'),
      ...FORM_LIMITS,
    })
  } catch (error) {
    if (error instanceof MultipartError)
      throw badRequest(`Ugyldig multipart: ${error.message}`, 'UGYLDIG_MULTIPART')
    throw error
  }
  try {
    const asFile = form.files.find((f) => f.fieldName === FORSENDELSE_PART)
    let json = form.fields.get(FORSENDELSE_PART)
    if (json === undefined && asFile && asFile.size <= MAX_JSON_BYTES)
      json = await readFile(asFile.tempPath, 'utf8')
    if (json === undefined) throw badRequest('Mangler part "forsendelse" med forsendelsens metadata')
    return { json, documents: form.files.filter((f) => f !== asFile), form }
  } catch (error) {
    await discardMultipart(form)
    throw error
  }
}

/**
 * `POST /api/v3/kontoer/{kontoId}/forsendelser/organisasjon`: validates as SvarUt does, decrypts each
 * document with SvarUt's key when `kryptert`, stores it and routes it: to the receiver's SvarInn
 * mottakersystem (KLAR_FOR_MOTTAK), or else the notice-and-print way (VARSLET). Answers the new id.
 */
export async function sendForsendelse(deps: SvarUtDeps, konto: Konto, upload: Upload): Promise<string> {
  const f = parseForsendelse(upload.json, deps.settings.forsendelsestyper)
  matchDocuments(f, upload.documents)
  const plain: { tempPath: string; size: number; sha256: string }[] = []
  try {
    for (const part of upload.documents) plain.push(await deps.files.plaintext(part, f.kryptert, deps.keys))
    checkSizes(deps, f, plain)
  } catch (error) {
    // the decrypted copies of a refused forsendelse (the parts themselves go with the form)
    for (const p of plain) if (f.kryptert) rmSync(p.tempPath, { force: true })
    throw error
  }
  const system = route(deps.settings.mottakersystemer, f.mottaker.digitalId, f.forsendelsestype, f.niva)
  const status: ForsendelseStatus = system ? 'KLAR_FOR_MOTTAK' : 'VARSLET'
  return commit(deps, {
    konto_id: konto.id,
    avsender_orgnr: konto.orgnr,
    mottaker_orgnr: f.mottaker.digitalId,
    eksternref: f.eksternReferanse,
    tittel: f.tittel,
    request: JSON.stringify(f.raw),
    status,
    mottakersystem: system?.username ?? null,
    dokumenter: f.dokumenter.map((d, i) => ({ filnavn: d.filnavn, mime_type: d.mimeType, ...plain[i]! })),
    hendelser: [
      'Mottatt',
      'Akseptert',
      system
        ? `Klar for mottak i SvarInn (${system.username})`
        : 'Varslet mottaker (ingen SvarInn-mottakersystem)',
    ],
  })
}

/** Stores a forsendelse whose documents are plaintext temp files; they are moved into place first. */
export async function commit(
  deps: SvarUtDeps,
  f: Omit<ForsendelseRow, 'seq' | 'id' | 'downloads' | 'created' | 'status_changed'> & {
    dokumenter: (Omit<DokumentRow, 'forsendelse_id' | 'idx'> & { tempPath: string })[]
    hendelser: string[]
  },
): Promise<string> {
  const id = randomUUID()
  const now = deps.clock.now().getTime()
  await deps.files.place(id, f.dokumenter)
  const { dokumenter, hendelser, ...row } = f
  try {
    deps.store.insert(
      { ...row, id, created: now, status_changed: now },
      dokumenter.map((d, idx) => ({
        forsendelse_id: id,
        idx,
        filnavn: d.filnavn,
        mime_type: d.mime_type,
        size: d.size,
        sha256: d.sha256,
      })),
      hendelser,
    )
  } catch (error) {
    deps.files.remove(id)
    throw error
  }
  deps.logger.info({ id, mottaker: f.mottaker_orgnr, status: f.status }, 'forsendelse received')
  if (f.mottakersystem) deps.onArrived?.({ id, mottaker: f.mottaker_orgnr, mottakersystem: f.mottakersystem })
  return id
}

/** Parts and `dokumenter[]` pair up by order, each part's filename the document's filnavn (the spec's rule). */
function matchDocuments(f: Forsendelse, parts: MultipartFilePart[]): void {
  if (parts.length !== f.dokumenter.length)
    throw badRequest(
      `Forsendelsen beskriver ${f.dokumenter.length} dokumenter, men ${parts.length} filer ble sendt`,
      'DOKUMENTER_STEMMER_IKKE',
    )
  f.dokumenter.forEach((d, i) => {
    if (parts[i]!.filename !== d.filnavn)
      throw badRequest(
        `Fil nummer ${i + 1} heter "${parts[i]!.filename}", men dokumenter[${i}].filnavn er "${d.filnavn}": filene må komme i samme rekkefølge som dokumentene`,
        'DOKUMENTER_STEMMER_IKKE',
      )
  })
}

function checkSizes(deps: SvarUtDeps, f: Forsendelse, plain: { size: number }[]): void {
  plain.forEach((p, i) => {
    if (p.size === 0)
      throw badRequest(`Kan ikke lagre tomt dokument: ${f.dokumenter[i]!.filnavn}`, 'TOMT_DOKUMENT')
  })
  const total = plain.reduce((sum, p) => sum + p.size, 0)
  if (total > deps.settings.maxBytes)
    throw new SvarUtError(
      413,
      `Forsendelsen er ${total} bytes, mer enn ${deps.settings.maxBytes}`,
      'FOR_STOR',
    )
}

/**
 * The mottakersystem a forsendelse goes to, as SvarInn's addressing: the receiver's systems whose niva
 * is the forsendelse's (or both), one for its forsendelsestype winning over one for all types.
 */
export function route(
  systems: Mottakersystem[],
  orgnr: string,
  type: string | null,
  niva: 3 | 4,
): Mottakersystem | undefined {
  const candidates = systems.filter((m) => m.orgnr === orgnr && (m.niva == null || m.niva === niva))
  return (
    (type ? candidates.find((m) => m.forsendelsestype === type) : undefined) ??
    candidates.find((m) => m.forsendelsestype == null)
  )
}
