import { createHash, randomUUID, X509Certificate } from 'node:crypto'
import { mkdirSync, renameSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { IncomingHttpHeaders } from 'node:http'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import type pino from 'pino'
import {
  discardMultipart,
  MultipartError,
  type MultipartResult,
  readMultipart,
} from '../../files/multipart.js'
import { JwsError, verifyJws } from '../../packaging/jws.js'
import { checkDpiDocument } from '../../sbd/dpi.js'
import type { Clock } from '../../util/time.js'
import { orgnrOf } from '../maskinporten-claims.js'
import type { Caller } from './auth.js'
import { badRequest, conflict, DpiProblem, forbidden } from './errors.js'
import { virksert } from './keys.js'
import type { DpiSettings } from './settings.js'
import type { DpiStore, LetterRow } from './store.js'

/** the two parts of `POST /messages/out`, in the reference's order (its CreateMultipart) */
export const JWS_PART = 'forretningsmelding'
export const PACKAGE_PART = 'dokumentpakke'
export const SHA256_METHOD = 'http://www.w3.org/2001/04/xmlenc#sha256'
const MAX_JWS_BYTES = 1024 * 1024

export interface SendDeps {
  store: DpiStore
  settings: DpiSettings
  clock: Clock
  logger: pino.Logger
  /** where packages are kept (`packages/`) and uploads land first (`tmp/`) */
  dataDir: string
  /** told when a step is due sooner than the worker thought */
  nudge(): void
}

/** The uploaded body: the JWS text and the package, streamed to a temp file with its SHA-256. */
interface Upload {
  jws: string
  packagePath: string
  packageSha256: Buffer
  packageSize: number
  form: MultipartResult
}

/**
 * `POST /messages/out?kanal=`: reads the two parts (the package streamed to a file, never held in
 * memory), checks them in the order of the C2 specification — the JWS signed with the business
 * certificate the ServiceRegistry publishes for the token's supplier (else consumer), the schema, the
 * embedded token, the sender, the message id, the package digest — and stores the letter as OPPRETTET.
 * An identical resend of a stored letter is accepted again and changes nothing. Answers the letter.
 */
export async function acceptLetter(
  deps: SendDeps,
  caller: Caller,
  kanal: string,
  req: { headers: IncomingHttpHeaders; stream: Readable },
): Promise<{ letter: LetterRow; resent: boolean }> {
  const upload = await readUpload(deps, req)
  try {
    const letter = await check(deps, caller, kanal, upload)
    if ('resent' in letter) return { letter: letter.resent, resent: true }
    const dir = join(deps.dataDir, 'packages')
    mkdirSync(dir, { recursive: true })
    const packagePath = join(dir, `${randomUUID()}.cms`)
    renameSync(upload.packagePath, packagePath)
    try {
      const row = deps.store.insert(
        { ...letter, package_path: packagePath },
        letter.created + deps.settings.handoverDelayMs,
      )
      deps.nudge()
      return { letter: row, resent: false }
    } catch (error) {
      rmSync(packagePath, { force: true })
      // two sends of one id at once: the loser sees the winner's row
      const row = deps.store.byId(letter.id)
      if (row)
        return {
          letter: sameOrConflict(row, letter.payload_sha256, letter.package_sha256).resent,
          resent: true,
        }
      throw error
    }
  } finally {
    await discardMultipart(upload.form)
  }
}

async function readUpload(
  deps: SendDeps,
  req: { headers: IncomingHttpHeaders; stream: Readable },
): Promise<Upload> {
  let form: MultipartResult
  const tempDir = join(deps.dataDir, 'tmp')
  mkdirSync(tempDir, { recursive: true })
  try {
    form = await readMultipart(req, {
      tempDir,
      maxFileBytes: deps.settings.maxPackageBytes,
      onFileTooLarge: (name) =>
        new DpiProblem(
          413,
          'too-large',
          `The part "${name}" is larger than ${deps.settings.maxPackageBytes} bytes`,
        ),
      maxFields: 2,
      maxFieldBytes: MAX_JWS_BYTES,
      maxParts: 2,
    })
  } catch (error) {
    if (error instanceof MultipartError)
      throw badRequest('multipart', `Not a valid multipart body: ${error.message}`)
    throw error
  }
  try {
    const names = [
      ...form.fields.keys(),
      ...(form.sbdPart !== null ? ['sbd'] : []),
      ...form.files.map((f) => f.fieldName),
    ]
    const unexpected = names.filter((n) => n !== JWS_PART && n !== PACKAGE_PART)
    if (unexpected.length > 0 || names.length !== 2)
      throw badRequest(
        'multipart',
        `Expected exactly the parts "${JWS_PART}" and "${PACKAGE_PART}", got ${names.map((n) => `"${n}"`).join(', ') || 'none'}`,
      )
    const pkg = form.files.find((f) => f.fieldName === PACKAGE_PART)
    if (!pkg) throw badRequest('multipart', `The part "${PACKAGE_PART}" must be a file (filename="asic.cms")`)
    const jwsFile = form.files.find((f) => f.fieldName === JWS_PART)
    if (jwsFile && jwsFile.size > MAX_JWS_BYTES)
      throw badRequest('multipart', `The part "${JWS_PART}" is larger than ${MAX_JWS_BYTES} bytes`)
    const jws = jwsFile ? await readFile(jwsFile.tempPath, 'utf8') : (form.fields.get(JWS_PART) ?? '')
    return {
      jws: jws.trim(),
      packagePath: pkg.tempPath,
      packageSha256: Buffer.from(pkg.sha256, 'hex'),
      packageSize: pkg.size,
      form,
    }
  } catch (error) {
    await discardMultipart(form)
    throw error
  }
}

type Checked = Omit<
  LetterRow,
  'seq' | 'status' | 'status_changed' | 'step' | 'step_at' | 'documents' | 'detail'
>

async function check(
  deps: SendDeps,
  caller: Caller,
  kanal: string,
  upload: Upload,
): Promise<Checked | { resent: LetterRow }> {
  const payload = await verifiedPayload(deps, caller, upload.jws)
  const checked = checkDpiDocument(payload)
  if (!checked.ok) throw badRequest('schema', `The business message is not valid: ${checked.problem}`)
  if (checked.type !== 'digital' && checked.type !== 'utskrift')
    throw badRequest(
      'schema',
      `The access point takes only digital and utskrift messages, not ${checked.type}`,
    )
  const sbd = (payload as { standardBusinessDocument: Sbd }).standardBusinessDocument
  const header = sbd.standardBusinessDocumentHeader
  const body = sbd[checked.type] as Body
  if (body.maskinportentoken !== caller.token)
    throw badRequest(
      'token-mismatch',
      'maskinportentoken in the business message is not the bearer token of this call',
    )
  const avsenderOrg = orgnrOf(body.avsender?.virksomhetsidentifikator?.value)
  if (avsenderOrg !== caller.consumer)
    throw forbidden(
      `The token's consumer ${caller.consumer} is not the avsender ${body.avsender?.virksomhetsidentifikator?.value}`,
    )
  const id = header.documentIdentification.instanceIdentifier
  const payloadSha256 = sha256(Buffer.from(upload.jws.split('.')[1] ?? '', 'base64url'))
  const packageSha256 = upload.packageSha256.toString('hex')
  const existing = deps.store.byId(id)
  if (existing) return sameOrConflict(existing, payloadSha256, packageSha256)
  const digest = body.dokumentpakkefingeravtrykk
  if (digest?.digestMethod !== SHA256_METHOD)
    throw badRequest('digest', `dokumentpakkefingeravtrykk.digestMethod must be ${SHA256_METHOD}`)
  if (digest.digestValue !== upload.packageSha256.toString('base64'))
    throw badRequest(
      'digest',
      `The SHA-256 of the dokumentpakke (${upload.packageSha256.toString('base64')}) is not dokumentpakkefingeravtrykk.digestValue (${digest.digestValue})`,
    )
  const conversation = header.businessScope?.scope?.find((s) => s.type === 'ConversationId')
  return {
    id,
    conversation_id: conversation?.instanceIdentifier ?? id,
    type: checked.type,
    kanal,
    avsenderidentifikator: body.avsender?.avsenderidentifikator ?? null,
    sender_org: orgnrOf(header.sender?.[0]?.identifier?.value) ?? caller.signer,
    avsender_org: avsenderOrg,
    provider: orgnrOf(header.receiver?.[0]?.identifier?.value) ?? '',
    forretningsmelding: upload.jws,
    payload: JSON.stringify(payload),
    payload_sha256: payloadSha256,
    package_sha256: packageSha256,
    package_path: upload.packagePath,
    package_size: upload.packageSize,
    created: deps.clock.now().getTime(),
  }
}

/** The JWS's payload when it verifies with x5c[0] and x5c[0] is the signer's business certificate. */
async function verifiedPayload(deps: SendDeps, caller: Caller, jws: string): Promise<unknown> {
  let verified: Awaited<ReturnType<typeof verifyJws>>
  try {
    verified = await verifyJws(jws)
  } catch (error) {
    if (error instanceof JwsError) throw badRequest('signature', `The forretningsmelding: ${error.message}`)
    throw error
  }
  const published = await virksert(deps.settings.serviceRegistryUrl, caller.signer)
  if (!published)
    throw badRequest('signature', `The ServiceRegistry has no business certificate for ${caller.signer}`)
  if (!verified.certificate.raw.equals(new X509Certificate(published).raw))
    throw badRequest(
      'signature',
      `The forretningsmelding is signed with a certificate (${verified.certificate.subject.replace(/\n/g, ', ')}) that is not ${caller.signer}'s business certificate in the ServiceRegistry`,
    )
  return verified.payload
}

function sameOrConflict(row: LetterRow, payloadSha256: string, packageSha256: string): { resent: LetterRow } {
  if (row.payload_sha256 === payloadSha256 && row.package_sha256 === packageSha256) return { resent: row }
  throw conflict(
    'message-id-used',
    `The messageId ${row.id} is already used by another message: a resend must be identical`,
  )
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

interface Sbd {
  standardBusinessDocumentHeader: {
    sender?: { identifier?: { value?: string } }[]
    receiver?: { identifier?: { value?: string } }[]
    documentIdentification: { instanceIdentifier: string }
    businessScope?: { scope?: { type?: string; instanceIdentifier?: string }[] }
  }
  [type: string]: unknown
}

interface Body {
  avsender?: { virksomhetsidentifikator?: { value?: string }; avsenderidentifikator?: string }
  maskinportentoken?: string
  dokumentpakkefingeravtrykk?: { digestMethod?: string; digestValue?: string }
}
