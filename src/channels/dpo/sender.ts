// DPO sending: pack the SBD and, when there are files, the CMS-encrypted ASiC-E into `sbd.zip`, initialize a
// file transfer and upload it. Idempotent across retries and crashes: the transfer's id is committed before
// the upload, so a retry after a lost answer asks the broker what became of that transfer instead of making a
// second one (the reference makes a new one every time).

import { randomUUID } from 'node:crypto'
import type { Readable } from 'node:stream'
import type { Logger } from 'pino'
import type { Config } from '../../config/types.js'
import type { Db } from '../../db/open.js'
import type { OutFileRow } from '../../db/schema.js'
import type { PayloadStore } from '../../files/payload-store.js'
import type { BusinessKeys } from '../../packaging/keys.js'
import type { ServiceRegistry } from '../../registry/client.js'
import { ServiceRegistryUnavailableError } from '../../registry/errors.js'
import {
  getConversationId,
  getMessageChannel,
  getMessageId,
  getProcess,
  getReceiver,
  getSender,
  getSikkerhetsnivaa,
  getStandard,
} from '../../sbd/accessors.js'
import { partOrPrimary, primaryIdentifier } from '../../sbd/identifiers.js'
import { serializeSbd } from '../../sbd/parse.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import type { Clock } from '../../util/time.js'
import { forgetHandover, handoverOf, recordHandover } from '../handovers.js'
import { checkPackable, encryptedAsic } from '../outgoing-asic.js'
import type { BrokerClient } from './broker-client.js'
import type { FileTransferOverviewExt } from './broker-types.js'
import { BrokerError } from './errors.js'
import { writeSbdZip } from './sbd-zip.js'

export interface DpoSenderDeps {
  config: Config
  db: Db
  clock: Clock
  logger: Logger
  payloads: PayloadStore
  registry: ServiceRegistry
  /** a Broker client per system user, by bare organisation number (ours and each reportee's) */
  brokers: ReadonlyMap<string, BrokerClient>
  keys: BusinessKeys
}

/** A failure with whether another try may help; the broker's own reason is in the message. */
export class DpoSendError extends Error {
  override name = 'DpoSendError'
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export interface Shipment {
  /** `send:<messageId>` or `status:<messageId>:<status>`: the key of the committed transfer */
  purpose: string
  sbd: StandardBusinessDocument
  files: readonly OutFileRow[]
}

const PUBLISHED: FileTransferOverviewExt['fileTransferStatus'][] = [
  'Published',
  'AllConfirmedDownloaded',
  'Purged',
]
const IN_UPLOAD: FileTransferOverviewExt['fileTransferStatus'][] = ['UploadStarted', 'UploadProcessing']

/** Ships one SBD (and its files) to the broker; resolves once the broker has the whole file. */
export async function ship(deps: DpoSenderDeps, s: Shipment): Promise<{ fileTransferId: string }> {
  const sender = senderOrg(deps, s.sbd)
  const broker = deps.brokers.get(sender)!
  const receiver = receiverOrg(s.sbd)
  // checked before a transfer is made
  await checkPackable(deps.payloads, s.files)
  // the certificate is looked up before any transfer is made: a receiver without one makes none
  const cert = s.files.length > 0 ? await receiverCertificate(deps.registry, s.sbd) : null
  let id = await existingTransfer(deps, s.purpose)
  if (id) {
    const state = await overviewOrNull(broker, id)
    if (state && PUBLISHED.includes(state.fileTransferStatus)) return { fileTransferId: id }
    if (state && IN_UPLOAD.includes(state.fileTransferStatus))
      throw new DpoSendError(`the broker is still receiving file transfer ${id}; asking again later`, true)
    if (state?.fileTransferStatus !== 'Initialized') {
      await forgetHandover(deps.db.kysely, s.purpose)
      id = null
    }
  }
  if (!id) {
    id = await broker.initialize({
      fileName: 'sbd.zip',
      resourceId: deps.config.dpo.resource,
      sendersFileTransferReference: transferReference(deps.config, s.sbd),
      sender: `0192:${sender}`,
      recipients: [`0192:${receiver}`],
      propertyList: {},
      checksum: null,
      disableVirusScan: null,
    })
    await recordHandover(deps.db.kysely, s.purpose, id, deps.clock.now().getTime())
  }
  const sbdJson = JSON.stringify(serializeSbd(s.sbd))
  const body = writeSbdZip(sbdJson, cert ? () => dpoAsic(deps, s, cert, sender, receiver) : null)
  try {
    await broker.upload(id, body)
  } catch (error) {
    // 409: an earlier upload of ours got there (its answer was lost); the overview says whether it is whole
    if (error instanceof BrokerError && error.status === 409) {
      const state = await overviewOrNull(broker, id)
      if (state && PUBLISHED.includes(state.fileTransferStatus)) return { fileTransferId: id }
    }
    throw error
  }
  return { fileTransferId: id }
}

function dpoAsic(
  deps: DpoSenderDeps,
  s: Shipment,
  certPem: string,
  sender: string,
  receiver: string,
): Readable {
  const { payloads, keys, clock } = deps
  return encryptedAsic({
    payloads,
    keys,
    clock,
    files: s.files,
    sender: `0192:${sender}`,
    receiver: `0192:${receiver}`,
    certPem,
  })
}

/** As the reference: the system user of the sender, `0192:A:B` sending as B, which must be a reportee. */
function senderOrg(deps: DpoSenderDeps, sbd: StandardBusinessDocument): string {
  const sender = getSender(sbd)
  if (!sender) throw new DpoSendError('the message has no sender', false)
  const org = partOrPrimary(sender)
  if (!deps.brokers.has(org))
    throw new DpoSendError(
      `no DPO system user for the sender 0192:${org}: it is neither difi.move.dpo.systemUser.orgId ` +
        `(${deps.config.dpo.systemUserOrgId}) nor one of difi.move.dpo.reportees`,
      false,
    )
  return org
}

function receiverOrg(sbd: StandardBusinessDocument): string {
  const receiver = getReceiver(sbd)
  if (receiver?.kind !== 'iso6523')
    throw new DpoSendError('DPO needs an organisation number as receiver', false)
  return primaryIdentifier(receiver)
}

/**
 * The reference sends a random UUID, or the message channel for status messages and receipts that carry one.
 * The messageId serves as well as a random UUID (36 characters, so it passes the receivers' channel filter)
 * and names the transfer in the broker's logs.
 */
function transferReference(config: Config, sbd: StandardBusinessDocument): string {
  const channel = getMessageChannel(sbd)
  const isReply = sbd.type === 'status' || sbd.type === 'arkivmelding_kvittering'
  if (isReply && channel && channel !== config.dpo.messageChannel) return channel
  return getMessageId(sbd) ?? randomUUID()
}

/** The receiver's business certificate: the `pemCertificate` of its service record for the document type. */
async function receiverCertificate(
  registry: ServiceRegistry,
  sbd: StandardBusinessDocument,
): Promise<string> {
  const receiver = getReceiver(sbd)!
  try {
    const record = await registry.serviceRecord(
      {
        identifier: primaryIdentifier(receiver),
        process: getProcess(sbd) ?? '',
        conversationId: getConversationId(sbd) ?? null,
        securityLevel: getSikkerhetsnivaa(sbd) ?? null,
      },
      getStandard(sbd) ?? '',
    )
    if (!record.pemCertificate)
      throw new DpoSendError(
        `the ServiceRegistry has no certificate for ${primaryIdentifier(receiver)}`,
        false,
      )
    return record.pemCertificate
  } catch (error) {
    if (error instanceof DpoSendError) throw error
    const retryable = error instanceof ServiceRegistryUnavailableError
    throw new DpoSendError(`the receiver's certificate: ${(error as Error).message}`, retryable, {
      cause: error,
    })
  }
}

async function overviewOrNull(broker: BrokerClient, id: string): Promise<FileTransferOverviewExt | null> {
  try {
    return await broker.overview(id)
  } catch (error) {
    if (error instanceof BrokerError && error.status === 404) return null
    throw error
  }
}

async function existingTransfer(deps: DpoSenderDeps, purpose: string): Promise<string | null> {
  return handoverOf(deps.db.kysely, purpose)
}
