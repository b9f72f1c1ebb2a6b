// The Maskinporten token DPI's access point takes: a JWT grant signed with the business key (its
// certificate in `x5c`, as every grant of ours, src/channels/altinn-token.ts), scope
// `digitalpostinnbygger:send`, traded at Maskinporten and used as it is (no Altinn exchange). A send's
// token names the organisation the letter is from in `consumer_org` when that is not us (the reference's
// CreateMaskinportenTokenImpl and GetConsumerOrg), so Maskinporten puts it in the token's `consumer` and
// us in `supplier`; statuses, receipts and read-acks use our own. The same token string goes into the
// business message (`maskinportentoken`) and into the Authorization header, so the caller fetches it once.

import type { Clock } from '../../util/time.js'
import { type AltinnTokenSource, createAltinnTokenSource } from '../altinn-token.js'

export interface DpiTokenOptions {
  /** our organisation number, nine digits */
  org: string
  keyPem: string
  certPem: string
  /** difi.move.oidc.audience */
  maskinportenAudience: string
  /** difi.move.oidc.url */
  maskinportenUrl: string
  /** difi.move.dpi.oidc.scopes, space-separated */
  scopes: string
  clock: Clock
  timeoutMs: number
  fetch?: typeof fetch
}

export interface DpiTokenSource {
  /**
   * An access token: for a send, `consumerOrg` is the bare organisation number of the business
   * message's `avsender` (`0192:` is taken off if given); null (or our own number) for every other call.
   * Kept while most of its life is left (Maskinporten's 120 s: about 90, as the reference's cache).
   */
  token(consumerOrg: string | null): Promise<string>
}

export function createDpiTokenSource(opts: DpiTokenOptions): DpiTokenSource {
  // one source, and so one cache, per organisation sent for; '' is our own
  const sources = new Map<string, AltinnTokenSource<string>>()
  const sourceFor = (consumerOrg: string): AltinnTokenSource<string> => {
    let source = sources.get(consumerOrg)
    if (!source) {
      source = createAltinnTokenSource<string>({
        org: opts.org,
        keyPem: opts.keyPem,
        certPem: opts.certPem,
        maskinportenAudience: opts.maskinportenAudience,
        exchangeUrl: null,
        maskinportenUrl: opts.maskinportenUrl,
        extraClaims: consumerOrg === '' ? undefined : { consumer_org: consumerOrg },
        clock: opts.clock,
        timeoutMs: opts.timeoutMs,
        fetch: opts.fetch,
      })
      sources.set(consumerOrg, source)
    }
    return source
  }
  return {
    token(consumerOrg) {
      const bare = consumerOrg?.replace(/^0192:/, '') ?? ''
      if (bare !== '' && !/^\d{9}$/.test(bare))
        return Promise.reject(
          new Error(`a DPI token on behalf of ${JSON.stringify(consumerOrg)}: not an organisation number`),
        )
      return sourceFor(bare === opts.org ? '' : bare).token(opts.scopes)
    },
  }
}
