import { ApiError } from '../../errors/api-error.js'
import type { ServiceRegistry } from '../../registry/client.js'
import { ServiceRegistryLookupError, ServiceRegistryUnavailableError } from '../../registry/errors.js'
import type { ServiceRecord } from '../../registry/types.js'
import {
  getConversationId,
  getProcess,
  getReceiver,
  getSikkerhetsnivaa,
  getStandard,
} from '../../sbd/accessors.js'
import { primaryIdentifier } from '../../sbd/identifiers.js'
import type { ServiceIdentifier, StandardBusinessDocument } from '../../sbd/types.js'

export interface Resolution {
  serviceIdentifier: ServiceIdentifier
  record: ServiceRecord | null
}

/**
 * Which service carries a message (as the reference's ServiceRecordProvider chooses it): the record for the receiver,
 * process and document type; `print` without a receiver goes by DPI; anything else without a
 * receiver is UNKNOWN (and later "Service UNKNOWN is not enabled").
 */
export async function resolveService(
  registry: ServiceRegistry,
  sbd: StandardBusinessDocument,
): Promise<Resolution> {
  const receiver = getReceiver(sbd)
  if (!receiver) return { serviceIdentifier: sbd.type === 'print' ? 'DPI' : 'UNKNOWN', record: null }
  const process = getProcess(sbd) ?? ''
  try {
    const record = await registry.serviceRecord(
      {
        identifier: primaryIdentifier(receiver),
        process,
        conversationId: getConversationId(sbd) ?? null,
        securityLevel: getSikkerhetsnivaa(sbd) ?? null,
      },
      getStandard(sbd) ?? '',
    )
    return { serviceIdentifier: record.service.identifier, record }
  } catch (error) {
    throw registryFailure(
      error,
      () =>
        new ApiError('ReceiverDoesNotAcceptProcess', [process], {
          description: (error as Error).message,
          cause: error,
        }),
    )
  }
}

/**
 * A registry that cannot be reached is a 503 that says so (the reference answers 400 or 500, which
 * clients read as a permanent refusal; docs/compatibility.md); an answer saying no is the caller's error.
 */
export function registryFailure(error: unknown, refused: () => ApiError): ApiError {
  if (error instanceof ServiceRegistryUnavailableError) {
    return new ApiError('ServiceRegistryUnavailable', [error.message], {
      cause: error,
    })
  }
  if (error instanceof ServiceRegistryLookupError) return refused()
  if (error instanceof ApiError) return error
  return new ApiError('Internal', [(error as Error)?.message ?? String(error)], { cause: error })
}
