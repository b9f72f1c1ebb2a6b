// DPI sending ("DPI v2", as the reference's DpiConversationStrategyImpl and dpi-client): a `digital` or
// `print` message becomes a signed business message (a JWS over the SBD with our certificate in `x5c`) and a
// document package (an ASiC-E with the SDP manifest and a XAdES signature, CMS-encrypted to the mailbox
// provider's certificate from the ServiceRegistry, or to the print provider's from KRR), posted to the
// access point on one of our channels (`kanal`). The package's SHA-256 is in the signed business message,
// so the package is made first (to a temp file, constant memory) and then streamed up.
//
// Never twice: the access point has no idempotent key, so a handover record says "in flight" before the
// upload, and a retry after a lost answer first asks the access point about the messageId; if it knows the
// message, the letter was delivered and is not sent again.

import { createHash, X509Certificate } from 'node:crypto'
import type { Logger } from 'pino'
import type { Config } from '../../config/types.js'
import type { Db } from '../../db/open.js'
import type { OutFileRow } from '../../db/schema.js'
import type { PayloadStore } from '../../files/payload-store.js'
import { AsicWriteError } from '../../packaging/asic.js'
import { CmsError } from '../../packaging/cms.js'
import type { DpiAsicDocument } from '../../packaging/dpi-asic.js'
import { writeDpiPackage } from '../../packaging/dpi-package.js'
import { signJws } from '../../packaging/jws.js'
import type { BusinessKeys } from '../../packaging/keys.js'
import type { ServiceRegistry } from '../../registry/client.js'
import { NotFoundInServiceRegistryError, ServiceRegistryUnavailableError } from '../../registry/errors.js'
import type { ServiceRecord } from '../../registry/types.js'
import {
  getConversationId,
  getMessageId,
  getProcess,
  getReceiver,
  getSikkerhetsnivaa,
} from '../../sbd/accessors.js'
import { defaultStandard } from '../../sbd/prototype.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import { forMessage } from '../../util/log.js'
import type { Clock } from '../../util/time.js'
import { handoverOf, recordHandover } from '../handovers.js'
import { checkPackable } from '../outgoing-asic.js'
import type { OutgoingDelivery, SendOutcome } from '../ports.js'
import { ChannelSendError } from '../send-error.js'
import {
  DpiMessageError,
  type DpiRecord,
  dpiBusinessMessage,
  dpiSender,
  manifestInput,
} from './business-message.js'
import { type C2Client, C2Error } from './c2-client.js'
import type { KrrPrintClient } from './krr-print.js'
import { rememberSent } from './store.js'

export interface DpiSenderDeps {
  config: Config
  db: Db
  clock: Clock
  logger: Logger
  payloads: PayloadStore
  registry: ServiceRegistry
  keys: BusinessKeys
  client: C2Client
  krr: KrrPrintClient
  tokens: { token(consumerOrg: string | null): Promise<string> }
  /** the next channel to send on (round-robin over the configured ones) */
  nextKanal: () => string
}

/** what a handover record holds while the access point may have the letter */
const IN_FLIGHT = 'sending'
/** what it holds once the access point said it has it */
const HANDED_OVER = 'sent'

export async function sendDpi(deps: DpiSenderDeps, delivery: OutgoingDelivery): Promise<SendOutcome> {
  const { sbd } = delivery
  // DPI carries letters to citizens and nothing back: a status message for a DPI conversation has nowhere to go
  if (sbd.type === 'status') return { outcome: 'delivered' }
  if (sbd.type !== 'digital' && sbd.type !== 'print')
    return { outcome: 'failed', reason: `DPI carries digital and print messages, not ${sbd.type}` }
  const messageId = getMessageId(sbd)!
  const log = forMessage(deps.logger, messageId)
  try {
    const known = await handoverOf(deps.db.kysely, delivery.purpose)
    if (known === HANDED_OVER) return delivered(messageId)
    if (known === IN_FLIGHT && (await accessPointHasIt(deps, messageId))) {
      log.info(
        { messageId },
        `DPI: the access point has ${messageId} from an earlier attempt; not sent again`,
      )
      await recordHandover(deps.db.kysely, delivery.purpose, HANDED_OVER, deps.clock.now().getTime())
      return delivered(messageId)
    }
    await checkPackable(deps.payloads, delivery.files)
    try {
      await send(deps, delivery)
    } catch (error) {
      // an earlier attempt's letter may have reached the access point only after we asked: a 409 for the
      // reused messageId then means it has ours
      if (!(known === IN_FLIGHT && error instanceof C2Error && error.status === 409)) throw error
      if (!(await accessPointHasIt(deps, messageId))) throw error
      log.info(
        { messageId },
        `DPI: the access point has ${messageId} from an earlier attempt (409); not sent again`,
      )
    }
    await recordHandover(deps.db.kysely, delivery.purpose, HANDED_OVER, deps.clock.now().getTime())
    return delivered(messageId)
  } catch (error) {
    return failure(error)
  }
}

/** the messageId is the reference the status poller asks the access point about */
function delivered(messageId: string): SendOutcome {
  return { outcome: 'delivered', reference: messageId }
}

/** Whether the access point knows the message (it answers its statuses); a 404 says it does not. */
async function accessPointHasIt(deps: DpiSenderDeps, messageId: string): Promise<boolean> {
  const statuses = await deps.client.statuses(messageId)
  return statuses !== null && statuses.length > 0
}

async function send(deps: DpiSenderDeps, delivery: OutgoingDelivery): Promise<void> {
  const { sbd } = delivery
  const messageId = getMessageId(sbd)!
  const { record, provider } = await recipient(deps, sbd)
  const certificate = new X509Certificate(provider.certPem)
  const sender = dpiSender(sbd)
  const manifest = manifestInput({ sbd, record, defaultLanguage: deps.config.dpi.language })
  const pkg = await writeDpiPackage({
    manifest,
    documents: documentsOf(deps.payloads, sbd, delivery.files),
    metadataFiles: metadataOf(deps.payloads, sbd, delivery.files),
    signer: deps.keys,
    now: () => deps.clock.now(),
    recipientCertPem: provider.certPem,
    tempDir: deps.payloads.tempDir,
  })
  try {
    // the same token is the bearer and the business message's maskinportentoken (the access point compares them)
    const token = await deps.tokens.token(sender.split(':')[1] ?? null)
    const businessMessage = dpiBusinessMessage({
      sbd,
      record,
      token,
      fingerprint: pkg.sha256,
      defaultLanguage: deps.config.dpi.language,
      now: deps.clock.now(),
    })
    const jws = await signJws(businessMessage, deps.keys)
    const kanal = deps.nextKanal()
    const now = deps.clock.now().getTime()
    // before the upload: a receipt may come back before the answer, and a lost answer is asked about on retry
    await rememberSent(
      deps.db.kysely,
      {
        messageId,
        conversationId: getConversationId(sbd) ?? messageId,
        kanal,
        provider: `0192:${provider.orgnr}`,
        providerCertificate: createHash('sha256').update(certificate.raw).digest('hex'),
      },
      now,
    )
    await recordHandover(deps.db.kysely, delivery.purpose, IN_FLIGHT, now)
    await deps.client.send({ kanal, jws, token, package: { path: pkg.path, size: pkg.size } })
    forMessage(deps.logger, messageId).info(
      { messageId, kanal, type: sbd.type, bytes: pkg.size },
      `DPI: ${sbd.type} letter ${messageId} handed to the access point on channel ${kanal}`,
    )
  } finally {
    await pkg.remove()
  }
}

interface Provider {
  orgnr: string
  certPem: string
}

/**
 * The ServiceRegistry's DPI record of the citizen and the provider the package is encrypted to: the
 * mailbox provider (`orgnrPostkasse`, `pemCertificate`) for digital, KRR's print provider for print (the
 * reference asks KRR for every letter; we ask only for print). A print letter without a receiver gets
 * a record made of its print details alone, as the reference's.
 */
async function recipient(
  deps: DpiSenderDeps,
  sbd: StandardBusinessDocument,
): Promise<{ record: DpiRecord; provider: Provider }> {
  const print = sbd.type === 'print'
  const receiver = getReceiver(sbd)?.value ?? null
  let record: DpiRecord = {
    postkasseAdresse: null,
    orgnrPostkasse: null,
    epostAdresse: null,
    mobilnummer: null,
    spraak: null,
    pemCertificate: null,
  }
  if (receiver !== null) record = dpiRecordOf(await lookup(deps, sbd, receiver, print))
  if (print) {
    const printer = await printProvider(deps)
    return {
      record: { ...record, orgnrPostkasse: printer.orgnr, pemCertificate: printer.certPem },
      provider: printer,
    }
  }
  if (!record.orgnrPostkasse || !/^\d{9}$/.test(record.orgnrPostkasse) || !record.pemCertificate)
    throw new ChannelSendError(
      `the ServiceRegistry's DPI record for the receiver has no mailbox provider (orgnrPostkasse ${JSON.stringify(record.orgnrPostkasse)}) or no certificate`,
      false,
    )
  if (!record.postkasseAdresse)
    throw new ChannelSendError(
      "the ServiceRegistry's DPI record for the receiver has no postkasseAdresse",
      false,
    )
  usableCertificate(record.pemCertificate, "the mailbox provider's certificate in the ServiceRegistry")
  return { record, provider: { orgnr: record.orgnrPostkasse, certPem: record.pemCertificate } }
}

async function lookup(
  deps: DpiSenderDeps,
  sbd: StandardBusinessDocument,
  receiver: string,
  print: boolean,
): Promise<ServiceRecord> {
  try {
    return await deps.registry.serviceRecord(
      {
        identifier: receiver,
        process: getProcess(sbd) ?? '',
        conversationId: getConversationId(sbd) ?? null,
        securityLevel: getSikkerhetsnivaa(sbd) ?? null,
        ...(print ? { print: true } : {}),
      },
      // the ServiceRegistry's document type of the DPI record asked for
      defaultStandard(print ? 'print' : 'digital'),
    )
  } catch (error) {
    if (error instanceof ServiceRegistryUnavailableError)
      throw new ChannelSendError(`the ServiceRegistry: ${error.message}`, true, { cause: error })
    if (error instanceof NotFoundInServiceRegistryError)
      throw new ChannelSendError(
        `the ServiceRegistry has no DPI record for the receiver: ${error.message}`,
        false,
        {
          cause: error,
        },
      )
    throw new ChannelSendError(`the ServiceRegistry: ${(error as Error).message}`, false, { cause: error })
  }
}

function dpiRecordOf(r: ServiceRecord): DpiRecord {
  return {
    postkasseAdresse: r.postkasseAdresse,
    orgnrPostkasse: r.orgnrPostkasse,
    epostAdresse: r.epostAdresse,
    mobilnummer: r.mobilnummer,
    spraak: r.spraak,
    pemCertificate: r.pemCertificate,
  }
}

async function printProvider(deps: DpiSenderDeps): Promise<Provider> {
  const p = await deps.krr.printProvider()
  usableCertificate(p.certPem, "KRR's print provider certificate")
  return p
}

/** checked before anything is made: a certificate we cannot encrypt to fails every attempt alike */
function usableCertificate(pem: string, what: string): void {
  try {
    const cert = new X509Certificate(pem)
    if (cert.publicKey.asymmetricKeyType !== 'rsa') throw new Error('it does not hold an RSA key')
  } catch (error) {
    throw new ChannelSendError(`${what} cannot be used: ${(error as Error).message}`, false, { cause: error })
  }
}

/** `metadataFiler`: document name → the name of its metadata ("utvidelse") file */
function metadataMap(sbd: StandardBusinessDocument): Map<string, string> {
  const raw = (sbd.businessMessage as { metadataFiler?: unknown } | undefined)?.metadataFiler
  if (!raw || typeof raw !== 'object') return new Map()
  return new Map(
    Object.entries(raw as Record<string, unknown>).filter(
      (e): e is [string, string] => typeof e[1] === 'string',
    ),
  )
}

function documentsOf(
  payloads: PayloadStore,
  sbd: StandardBusinessDocument,
  files: readonly OutFileRow[],
): DpiAsicDocument[] {
  const metadata = metadataMap(sbd)
  const metadataNames = new Set(metadata.values())
  const byName = new Map(files.map((f) => [f.filename, f]))
  return files
    .filter((f) => !metadataNames.has(f.filename))
    .map((f) => {
      const m = byName.get(metadata.get(f.filename) ?? '')
      return {
        filename: f.filename,
        mimeType: f.mime_type,
        title: f.title,
        primary: f.primary_document === 1,
        metadata: m ? { filename: m.filename, mimeType: m.mime_type } : null,
        open: () => payloads.read(f.storage_key),
      }
    })
}

function metadataOf(payloads: PayloadStore, sbd: StandardBusinessDocument, files: readonly OutFileRow[]) {
  const names = new Set(metadataMap(sbd).values())
  return files
    .filter((f) => names.has(f.filename))
    .map((f) => ({ filename: f.filename, mimeType: f.mime_type, open: () => payloads.read(f.storage_key) }))
}

function failure(error: unknown): SendOutcome {
  const reason = error instanceof Error ? error.message : String(error)
  if (error instanceof ChannelSendError || error instanceof C2Error)
    return error.retryable ? { outcome: 'retry', reason } : { outcome: 'failed', reason }
  // the letter cannot be made however often it is tried (a name, a field the schema refuses): FEIL at once,
  // where the reference retries it until its time to live runs out
  if (error instanceof DpiMessageError || error instanceof AsicWriteError || error instanceof CmsError)
    return { outcome: 'failed', reason }
  return { outcome: 'retry', reason }
}
