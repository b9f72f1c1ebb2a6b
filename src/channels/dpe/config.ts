// What stops an integration point with DPE enabled from starting, and what it is warned about: the
// channel's configErrors and startupWarnings return these.

import type { Config } from '../../config/types.js'
import type { StartupWarning } from '../ports.js'
import { isQueueSuffix } from './queues.js'

const SB = 'difi.move.nextmove.serviceBus'

/** Each problem names its property and says how to fix it. */
export function serviceBusConfigErrors(config: Config): string[] {
  const { baseUrl, sasToken, keyFromServiceRegistry, receiptQueue } = config.serviceBus
  const errors: string[] = []
  const problem = baseUrlProblem(baseUrl)
  if (problem) errors.push(`${SB}.baseUrl ${problem}, got ${JSON.stringify(baseUrl)}`)
  if (!keyFromServiceRegistry && sasToken === null)
    errors.push(
      `DPE is enabled and difi.move.oidc.enable is false, so the SAS key is not fetched from the ` +
        `ServiceRegistry, but ${SB}.sasToken is empty: set it to the key of ${SB}.sasKeyName, or set ` +
        'difi.move.oidc.enable=true, or disable DPE',
    )
  if (receiptQueue !== null && !isQueueSuffix(receiptQueue))
    errors.push(
      `${SB}.receiptQueue must be a queue suffix such as data or innsyn (letters, digits, -, _ or .), ` +
        `got ${JSON.stringify(receiptQueue)}`,
    )
  return errors
}

/**
 * batchRead=true asks the reference for AMQP reading (the Azure SDK), a throughput option: the
 * messages and what is done with them are the same. We read over REST only and say so at every start
 * rather than stop an integration point (DPE is on by default in production) over a performance knob.
 */
export function serviceBusStartupWarnings(config: Config): StartupWarning[] {
  if (!config.serviceBus.batchRead) return []
  return [
    {
      setting: `${SB}.batchRead`,
      message:
        `${SB}.batchRead is true, which the reference reads over AMQP; this integration point reads ` +
        `over REST, up to ${SB}.readMaxMessages messages a round: set batchRead=false to silence this`,
    },
  ]
}

/** Why a base URL is not `host[:port][/prefix]`, the reference's form ("<scheme>://" + baseUrl). */
function baseUrlProblem(baseUrl: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(baseUrl))
    return `must be a host without the scheme (${SB}.useHttps chooses https or http), such as efm-dpe-qa.servicebus.windows.net`
  let url: URL | undefined
  try {
    url = new URL(`http://${baseUrl}`)
  } catch {
    url = undefined
  }
  if (!url?.hostname || url.search || url.hash || url.username)
    return 'must be a host, with a port and a path if needed, such as efm-dpe-qa.servicebus.windows.net or localhost:9095'
  return undefined
}
