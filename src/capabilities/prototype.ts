import type { Config } from '../config/types.js'
import { ApiError } from '../errors/api-error.js'
import type { ServiceRegistry } from '../registry/client.js'
import { parseIdentifier, primaryIdentifier } from '../sbd/identifiers.js'
import { MESSAGE_TYPE_NAMES, type MessageTypeName, messageTypeByName } from '../sbd/message-types.js'
import { defaultStandard, defaultTypeVersion, prototypeBusinessMessage } from '../sbd/prototype.js'
import { ISO6523_ACTORID_UPIS, NHN_ACTORID, type ServiceIdentifier } from '../sbd/types.js'
import { type Clock, formatOslo } from '../util/time.js'
import { lookupReceiver } from './lookup.js'

/** What a prototype needs (the routes pass their AppDeps, a superset). */
export interface PrototypeDeps {
  config: Config
  clock: Clock
  registry: ServiceRegistry
  newUuid: () => string
}

const PRINT_PROCESS = 'urn:no:difi:profile:digitalpost:vedtak:ver1.0'

/**
 * `GET /api/prototype/{capability}` (ours; the seed design asks for it): a pre-filled SBD a fagsystem
 * fills in and posts to `/api/messages/out`. The process and document type come from the receiver's
 * capabilities when the client does not name a process.
 */
export async function buildPrototype(
  deps: PrototypeDeps,
  q: { capability: string; receiverIdentifier: string | undefined; process: string | undefined },
): Promise<Record<string, unknown>> {
  const type = messageTypeByName(q.capability)
  if (!type || type === 'feil') {
    throw new ApiError('UnknownMessageType', [
      q.capability,
      MESSAGE_TYPE_NAMES.filter((t) => t !== 'feil').join(', '),
    ])
  }
  if (!q.receiverIdentifier && type !== 'print') {
    throw new ApiError('MissingRequestParameter', ['receiverIdentifier', 'String'])
  }
  const receiver = q.receiverIdentifier ? receiverPartner(q.receiverIdentifier) : null
  const route = receiver
    ? await routeFor(deps, receiver.lookupId, type, q.process)
    : // only `print` may go without a receiver (foreign or unknown address), always by DPI
      { process: q.process ?? PRINT_PROCESS, standard: defaultStandard(type), si: 'DPI' as ServiceIdentifier }
  const now = deps.clock.now()
  const ttl = route.si === 'UNKNOWN' ? deps.config.nextmove.defaultTtlHours : deps.config.ttlHours[route.si]
  return {
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      sender: [{ identifier: { value: `0192:${deps.config.org.number}`, authority: ISO6523_ACTORID_UPIS } }],
      ...(receiver ? { receiver: [{ identifier: receiver.identifier }] } : {}),
      documentIdentification: {
        standard: route.standard,
        typeVersion: defaultTypeVersion(type),
        instanceIdentifier: deps.newUuid(),
        type,
        creationDateAndTime: formatOslo(now),
      },
      businessScope: {
        scope: [
          {
            type: 'ConversationId',
            instanceIdentifier: deps.newUuid(),
            identifier: route.process,
            scopeInformation: [{ expectedResponseDateTime: formatOslo(now.getTime() + ttl * 3_600_000) }],
          },
        ],
      },
    },
    [type]: prototypeBusinessMessage(type),
  }
}

function receiverPartner(value: string): {
  identifier: { value: string; authority: string }
  lookupId: string
} {
  const nhn = parseIdentifier(value, NHN_ACTORID)
  if (nhn)
    return { identifier: { value: nhn.value, authority: NHN_ACTORID }, lookupId: primaryIdentifier(nhn) }
  const id = parseIdentifier(value, ISO6523_ACTORID_UPIS)
  if (!id) {
    throw new ApiError('IllegalArgument', [], {
      message: `receiverIdentifier '${value}' is not an organisation number, fødselsnummer/D-nummer or NHN identifier`,
    })
  }
  return { identifier: { value: id.value, authority: ISO6523_ACTORID_UPIS }, lookupId: primaryIdentifier(id) }
}

/** The receiver's first record whose document types include this message type. */
async function routeFor(
  deps: PrototypeDeps,
  identifier: string,
  type: MessageTypeName,
  process: string | undefined,
) {
  const resource = await lookupReceiver(deps.registry, { identifier, process: process ?? null })
  for (const record of resource.serviceRecords) {
    const standard = record.documentTypes.find((d) => d.endsWith(`::${type}`))
    if (standard && record.process)
      return { process: record.process, standard, si: record.service.identifier }
  }
  throw new ApiError('ReceiverDoesNotAcceptDocumentType', [type, process ?? '(any)'])
}
