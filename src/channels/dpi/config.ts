// What stops an integration point with DPI enabled from starting, and the channels (`kanal`) DPI sends on
// and polls receipts from.

import type { Config } from '../../config/types.js'

/**
 * What a channel name may hold once `.` is `_`: the access point's API allows letters, digits, `_` and
 * `-` (it says at most 28, but the reference's own default has 30 and is accepted, so length is not checked).
 */
const KANAL = /^[A-Za-z0-9_-]+$/

/** Each problem names its property and says how to fix it. */
export function dpiConfigErrors(config: Config): string[] {
  const dpi = config.dpi
  const errors: string[] = []
  if (dpi.c2Type === 'file')
    errors.push(
      'difi.move.dpi.c2-type=file is not supported: this integration point sends DPI messages only to the ' +
        'access point over its REST API (and only that way do receipts come back); set ' +
        'difi.move.dpi.c2-type=web with difi.move.dpi.uri, or disable DPI',
    )
  if (dpi.maskinportenUrl === null)
    errors.push(
      'DPI is enabled but difi.move.oidc.enable is false: the access point needs a Maskinporten token ' +
        `(scope ${dpi.scopes}) on every call and inside every message; set difi.move.oidc.enable=true ` +
        'with difi.move.oidc.url, or disable DPI',
    )
  if (dpi.mpcConcurrency < 1)
    errors.push(
      `difi.move.dpi.mpcConcurrency must be 1 or more, got ${dpi.mpcConcurrency}: leave it out for one ` +
        'channel (difi.move.dpi.mpcId)',
    )
  const named = dpi.mpcIdListe.length > 0 ? 'difi.move.dpi.mpcIdListe' : 'difi.move.dpi.mpcId'
  for (const name of dpi.mpcIdListe.length > 0 ? dpi.mpcIdListe : [dpi.mpcId])
    if (!KANAL.test(normalizeKanal(name)))
      errors.push(
        `${named} must name channels of letters, digits, ".", "_" or "-" (the access point refuses ` +
          `anything else), got ${JSON.stringify(name)}`,
      )
  if (!/^[A-Za-z]{2}$/.test(dpi.language))
    errors.push(
      `difi.move.dpi.language must be a two-letter language code such as NO or EN (the business message's ` +
        `spraak), got ${JSON.stringify(dpi.language)}`,
    )
  return errors
}

/** As the reference's ChannelNormalizer: a channel is sent with its dots as underscores. */
export function normalizeKanal(name: string): string {
  return name.replaceAll('.', '_')
}

/**
 * The channels messages are sent on, round-robin, and those receipts are polled from: `mpcIdListe` when
 * set, else `mpcId` (one channel) or `{mpcId}-0` … `{mpcId}-{n-1}` for an mpcConcurrency of n, each
 * normalised. Ours: `poll` is the same list. The reference polls only `mpcId` and its numbered channels,
 * so receipts for a channel named only in mpcIdListe never came back.
 */
export function dpiChannels(c: Config['dpi']): { send: string[]; poll: string[] } {
  const names =
    c.mpcIdListe.length > 0
      ? c.mpcIdListe
      : c.mpcConcurrency <= 1
        ? [c.mpcId]
        : Array.from({ length: c.mpcConcurrency }, (_, i) => `${c.mpcId}-${i}`)
  const send = [...new Set(names.map(normalizeKanal))]
  return { send, poll: [...send] }
}

/** Each call gives the next channel, from the first again after the last (the reference's MpcIdHolder). */
export function createKanalRoundRobin(names: readonly string[]): () => string {
  if (names.length === 0) throw new Error('DPI needs at least one channel to send on')
  const list = [...names]
  let next = 0
  return () => {
    const name = list[next]!
    next = (next + 1) % list.length
    return name
  }
}
