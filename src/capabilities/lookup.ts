import { ApiError } from '../errors/api-error.js'
import { registryFailure } from '../messages/out/service-resolution.js'
import type { ServiceRegistry, SrParams } from '../registry/client.js'
import { NotFoundInServiceRegistryError } from '../registry/errors.js'
import type { IdentifierResource } from '../registry/types.js'

/**
 * A receiver's records, with the reference's capabilities errors: an unknown receiver is a 404
 * `IdentifierNotFoundException` carrying the registry's text; an unreachable registry a 503; any other
 * bad answer a 502.
 */
export async function lookupReceiver(
  registry: ServiceRegistry,
  params: SrParams,
): Promise<IdentifierResource> {
  try {
    return await registry.lookup(params)
  } catch (error) {
    if (error instanceof NotFoundInServiceRegistryError) {
      throw new ApiError('IdentifierNotFound', [error.message], { cause: error })
    }
    throw registryFailure(
      error,
      () => new ApiError('ServiceRegistryBadAnswer', [(error as Error).message], { cause: error }),
    )
  }
}
