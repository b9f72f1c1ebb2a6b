// DPE sending: one message on the receiver's Service Bus queue, the body `{"sbd": …, "asic": …}` as the
// reference writes it (body.ts). The queue comes from the rules of queues.ts: a business message's from the
// receiver's DPE record in the ServiceRegistry, a status's and an einnsyn_kvittering's from our mode.
//
// Service Bus has no idempotent key (the reference sends `BrokerProperties: {}` and Service Bus assigns each
// message its own MessageId), so a retry after a lost answer puts a second copy on the queue. That is safe:
// the receiving integration point takes a message in once by its SBD's messageId (the intake's `received`
// record), whichever copy comes first, and completes the other as a duplicate.

import { buffer } from 'node:stream/consumers'
import type { Logger } from 'pino'
import type { Config } from '../../config/types.js'
import type { OutFileRow } from '../../db/schema.js'
import type { PayloadStore } from '../../files/payload-store.js'
import { CmsError } from '../../packaging/cms.js'
import type { BusinessKeys } from '../../packaging/keys.js'
import type { ServiceRegistry } from '../../registry/client.js'
import { ServiceRegistryUnavailableError } from '../../registry/errors.js'
import {
  getConversationId,
  getMessageId,
  getProcess,
  getReceiver,
  getSender,
  getSikkerhetsnivaa,
  getStandard,
} from '../../sbd/accessors.js'
import { primaryIdentifier } from '../../sbd/identifiers.js'
import { serializeSbd } from '../../sbd/parse.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import { forMessage } from '../../util/log.js'
import type { Clock } from '../../util/time.js'
import { checkPackable, encryptedAsic } from '../outgoing-asic.js'
import type { OutgoingDelivery, SendOutcome } from '../ports.js'
import { ChannelSendError } from '../send-error.js'
import { encodeBody } from './body.js'
import type { ServiceBusClient } from './client.js'
import { ServiceBusError } from './client.js'
import { DpeRoutingError, queueFor } from './queues.js'

export interface DpeSenderDeps {
  config: Config
  clock: Clock
  logger: Logger
  payloads: PayloadStore
  registry: ServiceRegistry
  keys: BusinessKeys
  client: ServiceBusClient
}

/** Messages that go without files, whatever the fagsystem attached: the reference sends them with no `asic`. */
const WITHOUT_ASIC = new Set(['status', 'einnsyn_kvittering'])

export async function sendDpe(deps: DpeSenderDeps, delivery: OutgoingDelivery): Promise<SendOutcome> {
  const { sbd } = delivery
  try {
    const files = WITHOUT_ASIC.has(sbd.type) ? [] : delivery.files
    const { queue, certPem } = await destination(deps, sbd, files.length > 0)
    const cms = certPem === null ? null : await packed(deps, sbd, files, certPem)
    const body = encodeBody(serializeSbd(sbd), cms)
    await deps.client.send(queue, body)
    forMessage(deps.logger, getMessageId(sbd)).info(
      { messageId: getMessageId(sbd), queue, type: sbd.type, bytes: body.length },
      `DPE ${sbd.type} sent to ${queue}`,
    )
    return { outcome: 'delivered' }
  } catch (error) {
    return failure(error)
  }
}

/**
 * The queue, and the certificate to encrypt to when there are files. Only a business message asks the
 * ServiceRegistry: its queue's suffix is the `endpointUrl` of the receiver's DPE record for the process
 * and document type, and the same record carries the receiver's certificate.
 */
async function destination(
  deps: DpeSenderDeps,
  sbd: StandardBusinessDocument,
  withFiles: boolean,
): Promise<{ queue: string; certPem: string | null }> {
  const receiver = receiverOf(sbd)
  const settings = { mode: deps.config.serviceBus.mode, receiptQueue: deps.config.serviceBus.receiptQueue }
  if (WITHOUT_ASIC.has(sbd.type)) {
    const referanseType = sbd.businessMessage.referanseType
    const routed = {
      type: sbd.type,
      receiver,
      ...(typeof referanseType === 'string' ? { referanseType } : {}),
    }
    return { queue: queueFor(routed, settings), certPem: null }
  }
  const record = await receiverRecord(deps, sbd, receiver)
  const queue = queueFor({ type: sbd.type, receiver, endpointUrl: record.service.endpointUrl }, settings)
  if (!withFiles) return { queue, certPem: null }
  if (!record.pemCertificate)
    throw new ChannelSendError(
      `the ServiceRegistry's DPE record for ${receiver} has no certificate to encrypt the files to`,
      false,
    )
  return { queue, certPem: record.pemCertificate }
}

async function receiverRecord(deps: DpeSenderDeps, sbd: StandardBusinessDocument, receiver: string) {
  try {
    return await deps.registry.serviceRecord(
      {
        identifier: receiver,
        process: getProcess(sbd) ?? '',
        conversationId: getConversationId(sbd) ?? null,
        securityLevel: getSikkerhetsnivaa(sbd) ?? null,
      },
      getStandard(sbd) ?? '',
    )
  } catch (error) {
    // the registry down is passing; an answer that there is no such record is not
    const retryable = error instanceof ServiceRegistryUnavailableError
    throw new ChannelSendError(`the ServiceRegistry: ${(error as Error).message}`, retryable, {
      cause: error,
    })
  }
}

/**
 * The files as DPO packs them, a signed ASiC-E, CMS-encrypted with PKCS#1 v1.5 key transport as the
 * reference's DPE does. Held whole: DPE's limit is 2 MB of files, and the body is one JSON document.
 */
async function packed(
  deps: DpeSenderDeps,
  sbd: StandardBusinessDocument,
  files: readonly OutFileRow[],
  certPem: string,
): Promise<Buffer> {
  await checkPackable(deps.payloads, files)
  const { payloads, keys, clock } = deps
  const sender = getSender(sbd)
  const cms = encryptedAsic({
    payloads,
    keys,
    clock,
    files,
    sender: `0192:${sender ? primaryIdentifier(sender) : ''}`,
    receiver: `0192:${receiverOf(sbd)}`,
    certPem,
    keyEncryption: 'rsa-pkcs1',
  })
  try {
    return await buffer(cms)
  } catch (error) {
    if (error instanceof CmsError)
      throw new ChannelSendError(`the receiver's certificate cannot be used: ${error.message}`, false, {
        cause: error,
      })
    // a stored file that could not be read: the storage may be back later
    throw new ChannelSendError(`packing the files failed: ${(error as Error).message}`, true, {
      cause: error,
    })
  }
}

function receiverOf(sbd: StandardBusinessDocument): string {
  const receiver = getReceiver(sbd)
  if (receiver?.kind !== 'iso6523')
    throw new DpeRoutingError('DPE sends to organisations only: the receiver is no organisation number')
  return primaryIdentifier(receiver)
}

/** Service Bus's retry rule (client.ts), the registry's and packing's; what we cannot route fails for good. */
function failure(error: unknown): SendOutcome {
  const reason = error instanceof Error ? error.message : String(error)
  if (error instanceof ServiceBusError || error instanceof ChannelSendError)
    return error.retryable ? { outcome: 'retry', reason } : { outcome: 'failed', reason }
  if (error instanceof DpeRoutingError || error instanceof CmsError) return { outcome: 'failed', reason }
  return { outcome: 'retry', reason }
}
