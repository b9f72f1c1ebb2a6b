// Which Service Bus queue DPE reads and which it writes each message to: the pure rules of the
// reference's ServiceBusUtil. Every queue is `nextbestqueue` + an organisation number +
// a suffix; the suffix says which of an organisation's integration points reads it.

export const SERVICE_BUS_MODES = ['innsyn', 'data', 'meeting'] as const
/**
 * difi.move.nextmove.serviceBus.mode: `innsyn` for an agency (it reads innsynskrav), `data` and
 * `meeting` for eInnsyn's integration points (journal posts and meetings).
 *
 * Always lower case here: the configuration lower-cases what it reads. The reference validates the mode
 * case-insensitively but uses it as written, so `mode=INNSYN` reads the queue
 * `nextbestqueue<org>INNSYN` and, not being equal to `innsyn`, sends its MOTTATT and LEVERT to eInnsyn's
 * `…innsyn` queue, which no eInnsyn integration point reads. Whoever writes `INNSYN` means `innsyn`.
 */
export type ServiceBusMode = (typeof SERVICE_BUS_MODES)[number]

const PREFIX = 'nextbestqueue'
/** a suffix goes into the request path: letters, digits, `-`, `_`, `.` (what Service Bus allows in names) */
const SUFFIX = /^[A-Za-z0-9._-]+$/
/** a receiver as the SBD names it (`0192:<orgnr>`) or bare */
const ORGNR = /^(?:0192:)?(\d{9})$/

/** A message DPE cannot route; sending it again will not help. */
export class DpeRoutingError extends Error {
  override name = 'DpeRoutingError'
}

/** The one queue an integration point reads: `nextbestqueue<orgnr><mode>`. */
export function ownQueue(orgnr: string, mode: ServiceBusMode): string {
  return `${PREFIX}${bareOrgnr(orgnr)}${mode}`
}

/**
 * The queue of a business message (innsynskrav, publisering): the receiver's bare orgnr and the
 * `endpointUrl` of its ServiceRegistry record for the process and document type (`innsyn`, `data` or
 * `meeting`, from the process's service code), which the reference requires to be non-empty.
 */
export function targetQueue(receiver: string, endpointUrl: string | null | undefined): string {
  const suffix = endpointUrl?.trim() ?? ''
  if (suffix === '')
    throw new DpeRoutingError(
      `the ServiceRegistry's DPE record for ${receiver} has no endpointUrl, the suffix of its queue: ` +
        'the receiver is not set up for this process in eInnsyn',
    )
  return queueOf(receiver, suffix, 'the endpointUrl of its ServiceRegistry record')
}

/**
 * The queue of a `status` message (MOTTATT, LEVERT): an agency (`innsyn`) answers eInnsyn's `data`
 * integration point, eInnsyn's (`data`, `meeting`) answer the agency's `innsyn`; `receiptQueue`, when
 * set, is the suffix instead.
 */
export function statusQueue(receiver: string, mode: ServiceBusMode, receiptQueue: string | null): string {
  if (receiptQueue !== null)
    return queueOf(receiver, receiptQueue, 'difi.move.nextmove.serviceBus.receiptQueue')
  return `${PREFIX}${bareOrgnr(receiver)}${mode === 'innsyn' ? 'data' : 'innsyn'}`
}

/**
 * The queue of an `einnsyn_kvittering`: `data` for a receipt of an innsynskrav, `innsyn` for one of a
 * publisering; `receiptQueue`, when set, is the suffix instead (as for status messages).
 */
export function kvitteringQueue(
  receiver: string,
  referanseType: string,
  receiptQueue: string | null,
): string {
  if (receiptQueue !== null)
    return queueOf(receiver, receiptQueue, 'difi.move.nextmove.serviceBus.receiptQueue')
  // the reference compares its EinnsynType enum; the wire has it in lower case
  return `${PREFIX}${bareOrgnr(receiver)}${referanseType.toLowerCase() === 'innsynskrav' ? 'data' : 'innsyn'}`
}

export interface Routed {
  /** the SBD's `documentIdentification.type` (status, einnsyn_kvittering, innsynskrav, publisering, …) */
  type: string
  /** the SBD's receiver, `0192:<orgnr>` */
  receiver: string
  /** an einnsyn_kvittering's referanseType */
  referanseType?: string
  /** the receiver's ServiceRegistry DPE record's endpointUrl; only business messages need it */
  endpointUrl?: string | null
}

export interface QueueSettings {
  mode: ServiceBusMode
  receiptQueue: string | null
}

/** The queue a message is written to, by the rule for its type. */
export function queueFor(message: Routed, settings: QueueSettings): string {
  if (message.type === 'status') return statusQueue(message.receiver, settings.mode, settings.receiptQueue)
  if (message.type === 'einnsyn_kvittering')
    return kvitteringQueue(message.receiver, message.referanseType ?? '', settings.receiptQueue)
  return targetQueue(message.receiver, message.endpointUrl)
}

/** Whether a text may be a queue suffix (receiptQueue, an endpointUrl). */
export function isQueueSuffix(text: string): boolean {
  return SUFFIX.test(text)
}

function queueOf(receiver: string, suffix: string, from: string): string {
  if (!SUFFIX.test(suffix))
    throw new DpeRoutingError(
      `${from} must be a queue suffix (letters, digits, -, _ or .), got ${JSON.stringify(suffix)}`,
    )
  return `${PREFIX}${bareOrgnr(receiver)}${suffix}`
}

function bareOrgnr(identifier: string): string {
  const m = ORGNR.exec(identifier.trim())
  if (!m)
    throw new DpeRoutingError(
      `DPE sends to organisations only (0192:<9 digits>), got ${JSON.stringify(identifier)}`,
    )
  return m[1]!
}
