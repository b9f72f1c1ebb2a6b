// The DPO channel's Altinn token (src/channels/altinn-token.ts): the grant names the organisation's system
// user (`authorization_details`), one token per broker scope.

import type { Clock } from '../../util/time.js'
import { createAltinnTokenSource } from '../altinn-token.js'

export { BrokerError, type ProblemDetails } from './errors.js'

export type BrokerScope = 'altinn:broker.write' | 'altinn:broker.read'

export interface TokenSource {
  token(scope: BrokerScope): Promise<string>
}

export interface DpoTokenSourceOptions {
  /** the organisation number, nine digits (`0192:` in front is accepted and dropped) */
  orgNumber: string
  /** the system user's name, `{orgnr}_integrasjonspunkt_systembruker_{orgnr}` by default */
  systemUserName: string
  keyPem: string
  certPem: string
  /** Maskinporten's audience, `https://(test.)maskinporten.no/` */
  maskinportenAudience: string
  /** Altinn's `/authentication/api/v1/exchange/maskinporten` */
  exchangeUrl: string
  /**
   * Maskinporten's token endpoint (`difi.move.oidc.url`): the grant is traded there for an access token,
   * which is exchanged. null sends the grant straight to the exchange (`difi.move.oidc.enable=false`).
   */
  maskinportenUrl: string | null
  clock: Clock
  timeoutMs: number
  fetch?: typeof fetch
}

const ISO6523 = 'iso6523-actorid-upis'

export function createDpoTokenSource(opts: DpoTokenSourceOptions): TokenSource {
  const org = opts.orgNumber.replace(/^0192:/, '')
  if (!/^[0-9]{9}$/.test(org))
    throw new Error(
      `DPO needs a nine-digit organisation number, got '${opts.orgNumber}': set difi.move.org.number`,
    )
  const { orgNumber: _, systemUserName, ...rest } = opts
  return createAltinnTokenSource<BrokerScope>({
    ...rest,
    org,
    // the system user of this organisation acts for it at the broker
    extraClaims: {
      authorization_details: [
        {
          type: 'urn:altinn:systemuser',
          systemuser_org: { authority: ISO6523, ID: `0192:${org}` },
          externalRef: systemUserName,
        },
      ],
    },
  })
}
