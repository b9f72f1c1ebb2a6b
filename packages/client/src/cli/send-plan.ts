/**
 * `send`: from the command line's files and options to what the client sends: the message type, the
 * business message, and the files in order (arkivmelding.xml first, generated when not given).
 */
import { statSync } from 'node:fs'
import { basename } from 'node:path'
import { ARKIVMELDING_FILENAME, arkivmeldingXml, titleOf } from '../arkivmelding.js'
import { BUSINESS_MESSAGE_TYPES, type BusinessMessageType, type OutgoingFile } from '../index.js'
import { UsageError } from './exit.js'

export const DEFAULT_PROCESS = 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0'

export interface SendArgs {
  process: string
  type?: string
  title?: string
  /** path of a ready arkivmelding.xml */
  arkivmelding?: string
  /** extra business-message fields, as JSON */
  businessMessage?: string
  files: string[]
}

export interface SendPlan {
  type: BusinessMessageType
  businessMessage: Record<string, unknown>
  files: OutgoingFile[]
  totalBytes: number
  /** whether arkivmelding.xml was written by us */
  generatedArkivmelding: boolean
}

/**
 * The message type a process usually carries (the ServiceRegistry's process catalogue), so that
 * `--type` is needed only where a process carries several (e.g. digital post: digital, digital_dpv, print).
 */
const TYPE_BY_PROCESS: readonly [RegExp, BusinessMessageType][] = [
  [/^urn:no:difi:profile:arkivmelding:response:/, 'arkivmelding_kvittering'],
  [/^urn:no:difi:profile:arkivmelding:/, 'arkivmelding'],
  [/^urn:no:difi:profile:avtalt:avtalt:/, 'avtalt'],
  [/^urn:no:difi:profile:einnsyn:innsynskrav:/, 'innsynskrav'],
  [/^urn:no:difi:profile:einnsyn:(journalpost|meeting):/, 'publisering'],
  [/^urn:no:difi:profile:einnsyn:response:/, 'einnsyn_kvittering'],
]

export function typeForProcess(process: string): BusinessMessageType | undefined {
  return TYPE_BY_PROCESS.find(([pattern]) => pattern.test(process))?.[1]
}

function messageType(args: SendArgs): BusinessMessageType {
  if (args.type === undefined) {
    const type = typeForProcess(args.process)
    if (type === undefined)
      throw new UsageError(`cannot tell the message type of process ${args.process}: give --type`)
    return type
  }
  const type = BUSINESS_MESSAGE_TYPES.find((t) => t === args.type!.toLowerCase())
  if (type === undefined) throw new UsageError(`--type must be one of ${BUSINESS_MESSAGE_TYPES.join(', ')}`)
  return type
}

interface LocalFile {
  path: string
  filename: string
  size: number
}

function localFile(path: string, filename = basename(path)): LocalFile {
  let stat: ReturnType<typeof statSync>
  try {
    stat = statSync(path)
  } catch (err) {
    throw new UsageError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    )
  }
  if (!stat.isFile()) throw new UsageError(`${path} is not a file`)
  return { path, filename, size: stat.size }
}

function parseBusinessMessage(json: string | undefined): Record<string, unknown> {
  if (json === undefined) return {}
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch (err) {
    throw new UsageError(`--business-message is not JSON: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('--business-message must be a JSON object, e.g. \'{"sikkerhetsnivaa": 4}\'')
  }
  return value as Record<string, unknown>
}

function sizeOf(path: string): number {
  return statSync(path).size
}

const asOutgoing = (f: LocalFile): OutgoingFile => ({
  path: f.path,
  filename: f.filename,
  title: titleOf(f.filename),
})

/** arkivmelding.xml (given, among the files, or generated) and the documents it lists. */
function arkivmeldingFiles(args: SendArgs, docs: LocalFile[]): { files: OutgoingFile[]; generated: boolean } {
  const arkivmelding = { filename: ARKIVMELDING_FILENAME, title: 'Arkivmelding', mimeType: 'application/xml' }
  if (args.arkivmelding !== undefined) {
    if (docs.some((d) => d.filename === ARKIVMELDING_FILENAME)) {
      throw new UsageError(`give arkivmelding.xml either with --arkivmelding or as a FILE, not both`)
    }
    const given = localFile(args.arkivmelding, ARKIVMELDING_FILENAME)
    return { files: [{ ...arkivmelding, path: given.path }, ...docs.map(asOutgoing)], generated: false }
  }
  const among = docs.find((d) => d.filename === ARKIVMELDING_FILENAME)
  if (among) {
    const rest = docs.filter((d) => d !== among)
    return { files: [{ ...arkivmelding, path: among.path }, ...rest.map(asOutgoing)], generated: false }
  }
  if (docs.length === 0) throw new UsageError('an arkivmelding message needs at least one FILE')
  const xml = arkivmeldingXml({
    files: docs.map((d) => d.filename),
    ...(args.title !== undefined && { title: args.title }),
  })
  return { files: [{ ...arkivmelding, data: xml }, ...docs.map(asOutgoing)], generated: true }
}

export function planSend(args: SendArgs): SendPlan {
  const type = messageType(args)
  if (args.arkivmelding !== undefined && type !== 'arkivmelding') {
    throw new UsageError(`--arkivmelding is for arkivmelding messages, not ${type}`)
  }
  const docs = args.files.map((f) => localFile(f))
  const seen = new Set<string>()
  for (const d of docs) {
    if (seen.has(d.filename)) throw new UsageError(`two files are named ${d.filename}: filenames must differ`)
    seen.add(d.filename)
  }
  const { files, generated } =
    type === 'arkivmelding'
      ? arkivmeldingFiles(args, docs)
      : { files: docs.map(asOutgoing), generated: false }
  // the first document is the hoveddokument (arkivmelding.xml is metadata, never the primary document)
  const primary = docs.find((d) => d.filename !== ARKIVMELDING_FILENAME)
  const businessMessage = {
    ...(primary && { hoveddokument: primary.filename }),
    ...parseBusinessMessage(args.businessMessage),
  }
  const totalBytes = files.reduce(
    (sum, f) => sum + ('data' in f ? Buffer.byteLength(f.data) : sizeOf(f.path)),
    0,
  )
  return { type, businessMessage, files, totalBytes, generatedArkivmelding: generated }
}
