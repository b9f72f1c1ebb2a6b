import { ApiError } from '../errors/api-error.js'
import { registryFailure } from '../messages/out/service-resolution.js'
import type { ServiceRegistry, SrParams } from '../registry/client.js'
import { NotFoundInServiceRegistryError } from '../registry/errors.js'
import type { IdentifierResource } from '../registry/types.js'
import { parseIdentifier } from '../sbd/identifiers.js'

/**
 * A receiver's records, with the reference's capabilities errors: an unknown receiver is a 404
 * `IdentifierNotFoundException` carrying the registry's text; an unreachable registry a 503; any other
 * bad answer a 502.
 */
export async function lookupReceiver(
  registry: ServiceRegistry,
  params: SrParams,
): Promise<IdentifierResource> {
  checkReceiverIdentifier(params.identifier)
  if (params.process) checkProcess(params.process)
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

/**
 * The ServiceRegistry parses the identifier as `PartnerIdentifier.parse` does and answers anything else
 * with a 400, which would reach the client as a 502 with a logged stack trace; so it is refused here
 * first, as the bad input it is, and the registry is not asked.
 */
function checkReceiverIdentifier(identifier: string): void {
  if (parseIdentifier(identifier)) return
  throw new ApiError('IllegalArgument', [], {
    message: `receiverIdentifier '${shown(identifier)}' is not an organisation number, fødselsnummer/D-nummer or NHN identifier`,
  })
}

/**
 * Process identifiers are URNs (`urn:no:difi:profile:arkivmelding:administrasjon:ver1.0`); the registry's
 * server refuses a path segment with `/`, `\`, `;` or `%` in it, and spaces or control characters are
 * never part of one.
 */
const PROCESS = /^[A-Za-z0-9:._~!$&'()*+,=@-]{1,300}$/

function checkProcess(process: string): void {
  if (PROCESS.test(process)) return
  throw new ApiError('IllegalArgument', [], {
    message: `process '${shown(process)}' is not a process identifier (a URN such as urn:no:difi:profile:arkivmelding:administrasjon:ver1.0)`,
  })
}

const shown = (value: string) =>
  value.length > 40 ? `${value.slice(0, 40)}… (${value.length} characters)` : value
