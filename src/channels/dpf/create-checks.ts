// DPF's create-time checks, #11 of the reference's NextMoveValidator
// (validateDpfForsendelse): an arkivmelding's `dpf.forsendelseType`, when set, must be one SvarUt lists, and the sender must
// be an organisation we have SvarUt credentials for. In REST mode that is our own organisation only: every
// send goes from the one konto, and `difi.move.fiks.ut.paa-vegne-av.*` is not read.

import type { Logger } from 'pino'
import { getSender } from '../../sbd/accessors.js'
import { partOrPrimary } from '../../sbd/identifiers.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import type { Clock } from '../../util/time.js'
import type { OutgoingRefusal } from '../ports.js'
import type { SvarUtClient } from './svarut-client.js'

/** How long SvarUt's list of forsendelsestyper is trusted: they change with KS's releases, not by the hour. */
export const FORSENDELSESTYPER_TTL_MS = 5 * 60_000
/** After SvarUt could not be asked, messages are taken unchecked this long before it is asked again. */
export const FORSENDELSESTYPER_RETRY_MS = 30_000
/**
 * How long a create waits for the list. The client's own timeout (difi.move.fiks.ut.requestTimeout, 16
 * minutes) is for uploads; a fagsystem waiting for its 200 should not wait that long for a list.
 */
export const FORSENDELSESTYPER_WAIT_MS = 10_000

export interface DpfCreateCheckDeps {
  /** difi.move.org.number: the organisation the konto sends for */
  ownOrg: string
  client: Pick<SvarUtClient, 'forsendelsestyper'>
  clock: Clock
  logger: Logger
  /** FORSENDELSESTYPER_WAIT_MS unless a test says otherwise */
  waitMs?: number
}

/** The check a running DPF channel offers as `checkOutgoing`. */
export function dpfCreateCheck(
  deps: DpfCreateCheckDeps,
): (sbd: StandardBusinessDocument) => Promise<OutgoingRefusal | null> {
  const types = forsendelsestyperCache(deps)
  return async (sbd) => {
    // as the reference: only an arkivmelding becomes a SvarUt forsendelse
    if (sbd.type !== 'arkivmelding') return null
    const wanted = forsendelseTypeOf(sbd)
    if (wanted !== null) {
      const known = await types.get()
      // as the reference, the list in its message is SvarUt's, in SvarUt's order, joined by a bare comma
      if (known !== null && !known.includes(wanted))
        return { code: 'ForsendelseTypeNotFound', args: [wanted, known.join(',')] }
    }
    const sender = getSender(sbd)
    const orgnr = sender ? partOrPrimary(sender) : null
    if (orgnr !== deps.ownOrg) return { code: 'MissingSvarUtCredentials', args: [orgnr] }
    return null
  }
}

/** `dpf.forsendelseType` of the business message; null when unset or empty (the reference sends null then). */
function forsendelseTypeOf(sbd: StandardBusinessDocument): string | null {
  const dpf = sbd.businessMessage.dpf as { forsendelseType?: unknown } | null | undefined
  const type = dpf?.forsendelseType
  return typeof type === 'string' && type !== '' ? type : null
}

/**
 * SvarUt's forsendelsestyper, asked at most once at a time and kept FORSENDELSESTYPER_TTL_MS. `get()` is
 * null when SvarUt cannot be asked: the message is taken unchecked (a wrong type then fails at send with
 * SvarUt's 400, as it did before this check), and the failure is warned about once until SvarUt answers.
 */
function forsendelsestyperCache(deps: DpfCreateCheckDeps) {
  const waitMs = deps.waitMs ?? FORSENDELSESTYPER_WAIT_MS
  let cached: { types: readonly string[]; until: number } | null = null
  let retryAt = 0
  let failing = false
  let asking: Promise<readonly string[] | null> | null = null

  const fail = (why: string, err?: unknown) => {
    retryAt = deps.clock.now().getTime() + FORSENDELSESTYPER_RETRY_MS
    if (!failing)
      deps.logger.warn(
        { err, setting: 'difi.move.fiks.ut.endpointUrl' },
        `SvarUt's forsendelsestyper could not be fetched (${why}): DPF messages are accepted without ` +
          'checking dpf.forsendelseType until it answers; a wrong type then fails at send',
      )
    failing = true
  }
  const ask = async (): Promise<readonly string[] | null> => {
    try {
      const types = await deps.client.forsendelsestyper()
      cached = { types, until: deps.clock.now().getTime() + FORSENDELSESTYPER_TTL_MS }
      if (failing)
        deps.logger.info('SvarUt lists its forsendelsestyper again: dpf.forsendelseType is checked')
      failing = false
      return types
    } catch (err) {
      fail((err as Error).message, err)
      return null
    }
  }

  return {
    async get(): Promise<readonly string[] | null> {
      const now = deps.clock.now().getTime()
      if (cached && now < cached.until) return cached.types
      if (failing && now < retryAt) return null
      // cleared asynchronously, so always after the assignment
      asking ??= ask().finally(() => {
        asking = null
      })
      const answer = await within(asking, waitMs)
      if (answer === TOO_LATE) {
        fail(`no answer within ${waitMs} ms`)
        return null
      }
      return answer
    },
  }
}

const TOO_LATE = Symbol('too late')

/** `answer`, or TOO_LATE once `ms` have passed; the call goes on and fills the cache for the next message. */
async function within<T>(answer: Promise<T>, ms: number): Promise<T | typeof TOO_LATE> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<typeof TOO_LATE>((resolve) => {
    timer = setTimeout(() => resolve(TOO_LATE), ms)
  })
  try {
    return await Promise.race([answer, late])
  } finally {
    clearTimeout(timer)
  }
}
