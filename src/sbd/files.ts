/**
 * Per-file rules on upload (`NextMoveValidator.validateFile`, `NextMoveFileSizeValidator`) and
 * the send-time rules (`NextMoveValidator.validate(message)`), over plain file descriptions.
 */
import { ApiError } from '../errors/api-error.js'
import {
  getConversationScope,
  getExpectedResponseDateTime,
  getHoveddokument,
  getTypeName,
} from './accessors.js'
import { hasText, javaSplit } from './java.js'
import type { MessageTypeName } from './message-types.js'
import { RECEIPT_TYPES } from './rules.js'
import type { ServiceIdentifier, StandardBusinessDocument } from './types.js'

export interface FileInfo {
  filename: string
  title: string | null
  mimeType: string
  size: number
  primaryDocument: boolean
  dokumentnummer: number
}

export const ARKIVMELDING_FILE = 'arkivmelding.xml'

const MIME_BY_EXTENSION: Record<string, string> = {
  pdf: 'application/pdf',
  html: 'text/html',
  txt: 'text/plain',
  xml: 'text/xml',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  xltx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.template',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odf: 'application/vnd.oasis.opendocument.formula',
  odt: 'application/vnd.oasis.opendocument.text',
  fods: 'application/vnd.oasis.opendocument.spreadsheet',
  fodp: 'application/vnd.oasis.opendocument.presentation',
  fodg: 'application/vnd.oasis.opendocument.graphics',
  gif: 'image/gif',
  jpeg: 'image/jpeg',
  // not in the reference's table (which falls back to application/pdf); the intent is plainly image/jpeg
  jpg: 'image/jpeg',
  png: 'image/png',
  zip: 'application/octet-stream',
}

/**
 * The stored MIME type: the given Content-Type, unless it is blank or `application/octet-stream`; then the
 * filename's last `.` segment (lowercase) through the reference's table, `application/pdf` by default.
 */
export function mimeTypeFor(filename: string, given: string | null | undefined): string {
  if (hasText(given) && given !== 'application/octet-stream') return given
  const ext = javaSplit(filename, '.').at(-1) ?? 'pdf'
  return MIME_BY_EXTENSION[ext.toLowerCase()] ?? 'application/pdf'
}

/** The primary document is the file named by the business message's `hoveddokument`. */
export function isPrimaryDocument(
  sbd: StandardBusinessDocument,
  filename: string | null | undefined,
): boolean {
  return typeof filename === 'string' && filename === getHoveddokument(sbd)
}

/** Attachments are required unless the message is a status, a receipt or `avtalt` (`SBDUtil.isFileRequired`). */
export function needsFiles(type: MessageTypeName | string): boolean {
  return type !== 'status' && type !== 'avtalt' && !(RECEIPT_TYPES as readonly string[]).includes(type)
}

const MIB = 1024 * 1024

/** DataSize as the reference prints it in MaxFileSizeExceededException: `123b` below 1 MiB, else whole `MB`. */
export function formatDataSize(bytes: number): string {
  return bytes < MIB ? `${bytes}b` : `${Math.floor(bytes / MIB)}MB`
}

/** DPH attachments (`DialogmeldingMessage.MIME_TYPES`). */
export const DPH_MIME_TYPES = ['application/pdf', 'image/png', 'image/jpeg'] as const

/** `type/subtype` without parameters, lowercase (the reference compares the raw Content-Type exactly). */
function essence(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase()
}

export interface NewFile {
  filename: string
  title: string | null
  /** the Content-Type as given with the upload */
  mimeType: string | null
  size: number
}

function sizeError(
  existing: FileInfo[],
  file: NewFile,
  si: ServiceIdentifier,
  limitBytes: number,
): ApiError | undefined {
  const total = existing.reduce((sum, f) => sum + f.size, file.size)
  if (total <= limitBytes) return undefined
  // the limit is written in the unit the total is written in
  const args =
    total < MIB
      ? [`${total}b`, si, `${limitBytes}b`]
      : [formatDataSize(total), si, formatDataSize(limitBytes)]
  return new ApiError('MaxFileSizeExceeded', args)
}

function metadataFiler(
  sbd: StandardBusinessDocument,
  type: MessageTypeName,
): Record<string, unknown> | undefined {
  return getTypeName(sbd) === type
    ? (sbd.businessMessage.metadataFiler as Record<string, unknown> | undefined)
    : undefined
}

function dphError(sbd: StandardBusinessDocument, file: NewFile): ApiError | undefined {
  const metadata = metadataFiler(sbd, 'dialogmelding')
  if (!metadata || !Object.hasOwn(metadata, file.filename)) return new ApiError('MissingFileTitle', ['DPH'])
  if (file.mimeType === null || !(DPH_MIME_TYPES as readonly string[]).includes(essence(file.mimeType))) {
    return new ApiError('InvalidContentType', [`Invalid content type: ${file.mimeType}`])
  }
  return undefined
}

/** validateFile's checks for one uploaded file, after the message is found, in the reference's order. */
export function checkNewFile(input: {
  sbd: StandardBusinessDocument
  serviceIdentifier: ServiceIdentifier
  existing: FileInfo[]
  file: NewFile
  limitBytes: number
}): ApiError | undefined {
  const { sbd, serviceIdentifier: si, existing, file } = input
  if (existing.some((f) => f.filename === file.filename))
    return new ApiError('DuplicateFilename', [file.filename])
  const tooBig = sizeError(existing, file, si, input.limitBytes)
  if (tooBig) return tooBig
  const primary = isPrimaryDocument(sbd, file.filename)
  if (primary && existing.some((f) => f.primaryDocument))
    return new ApiError('MultiplePrimaryDocumentsNotAllowed')
  if (si === 'DPV' && !hasText(file.title)) return new ApiError('MissingFileTitle', ['DPV'])
  if (si === 'DPI' && !hasText(file.title) && !primary) {
    // an untitled DPI file must be a metadata document (a value of digital.metadataFiler)
    const metadata = metadataFiler(sbd, 'digital') ?? {}
    if (!Object.values(metadata).includes(file.filename)) return new ApiError('MissingFileTitle', ['DPI'])
  }
  if (si === 'DPH' && !primary) return dphError(sbd, file)
  return undefined
}

function arkivmeldingError(files: FileInfo[], referenced: string[] | null): ApiError | undefined {
  if (!files.some((f) => f.filename === ARKIVMELDING_FILE)) return new ApiError('MissingArkivmelding')
  const names = new Set(files.map((f) => f.filename))
  const missing = (referenced ?? []).filter((name) => !names.has(name))
  return missing.length > 0 ? new ApiError('MissingArkivmeldingFile', [missing.join(',')]) : undefined
}

function metadataFilesError(sbd: StandardBusinessDocument, files: FileInfo[]): ApiError | undefined {
  const metadata = (sbd.businessMessage.metadataFiler ?? {}) as Record<string, unknown>
  const refs = new Set([
    ...Object.keys(metadata),
    ...Object.values(metadata).filter((v): v is string => typeof v === 'string'),
  ])
  const names = new Set(files.map((f) => f.filename))
  const missing = [...refs].filter((r) => !names.has(r))
  // as the reference: a 404 FileNotFoundException for what is a validation error
  return missing.length > 0 ? new ApiError('FileNotFound', [missing.join(', ')]) : undefined
}

/**
 * validate(message)'s checks before a message is sent, after the certificate's, in the reference's
 * order. `arkivmeldingFiles` are the `referanseDokumentfil` names of the uploaded arkivmelding.xml
 * (null when there is none). A `TimeToLive` error means the caller must also register LEVETID_UTLOPT.
 */
export function checkSend(input: {
  sbd: StandardBusinessDocument
  serviceIdentifier: ServiceIdentifier
  files: FileInfo[]
  now: Date
  arkivmeldingFiles: string[] | null
}): ApiError | undefined {
  const { sbd, files } = input
  const type = getTypeName(sbd)
  if (type !== undefined && needsFiles(type) && files.length === 0) return new ApiError('MissingFile')
  const ttl = getExpectedResponseDateTime(sbd)
  if (ttl && input.now.getTime() > ttl.instant) {
    const given = getConversationScope(sbd)?.scopeInformation?.[0]?.expectedResponseDateTime
    return new ApiError('TimeToLive', [given ?? ttl.iso])
  }
  if (type === 'arkivmelding') {
    const error = arkivmeldingError(files, input.arkivmeldingFiles)
    if (error) return error
  }
  if (type === 'digital') {
    const error = metadataFilesError(sbd, files)
    if (error) return error
  }
  const si = input.serviceIdentifier
  if ((si === 'DPI' || (si === 'DPH' && type === 'dialogmelding')) && !files.some((f) => f.primaryDocument)) {
    return new ApiError('MissingPrimaryDocument')
  }
  return undefined
}
