import { importX509, jwtVerify, UnsecuredJWT } from 'jose'
import type { Clock } from '../../util/time.js'

/** Where the stand-in answers Maskinporten's JWT-bearer grant (Maskinporten's own is `/token`). */
export { MASKINPORTEN_PATH } from './paths.js'

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
/** access tokens live 120 s (`expires_in`; docs/altinn-broker-standin.md, "Tokens") */
const ACCESS_TOKEN_TTL_S = 120

/** An OAuth error answer, as Maskinporten gives: 400 `{error, error_description}`. */
export class GrantError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(description)
  }
}

/**
 * Maskinporten's token endpoint as the integration point uses it: a JWT grant signed with the business
 * key, its certificate in `x5c`. The signature is checked against that certificate (a grant that was
 * tampered with is refused), but nothing checks who issued the certificate: the stand-in trusts
 * whoever reaches it. The answer is an access token carrying the grant's claims (scope, consumer,
 * authorization_details), which the token exchange reads; with `consumer_org`, a delegation (see parties).
 */
export async function grant(form: URLSearchParams, clock: Clock): Promise<Record<string, unknown>> {
  if (form.get('grant_type') !== JWT_BEARER)
    throw new GrantError('unsupported_grant_type', `grant_type must be ${JWT_BEARER}`)
  const assertion = form.get('assertion')
  if (!assertion) throw new GrantError('invalid_request', 'assertion is missing')
  let claims: Record<string, unknown>
  try {
    const header = JSON.parse(Buffer.from(assertion.split('.')[0] ?? '', 'base64url').toString('utf8'))
    const x5c = Array.isArray(header.x5c) ? header.x5c[0] : undefined
    if (typeof x5c !== 'string') throw new Error('the grant has no x5c certificate')
    const pem = `-----BEGIN CERTIFICATE-----\n${x5c}\n-----END CERTIFICATE-----`
    const key = await importX509(pem, header.alg ?? 'RS256')
    ;({ payload: claims } = await jwtVerify(assertion, key, { currentDate: clock.now(), clockTolerance: 10 }))
  } catch (error) {
    throw new GrantError('invalid_grant', `invalid grant: ${(error as Error).message}`)
  }
  const now = Math.floor(clock.now().getTime() / 1000)
  const accessToken = new UnsecuredJWT({
    scope: claims.scope,
    ...parties(claims),
    authorization_details: claims.authorization_details,
    client_id: claims.iss,
  })
    .setIssuer('maskinporten-stand-in')
    .setIssuedAt(now)
    .setExpirationTime(now + ACCESS_TOKEN_TTL_S)
    .encode()
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_TTL_S,
    scope: claims.scope,
  }
}

/**
 * Who the token is for. A grant with `consumer_org` asks for a token on behalf of that organisation
 * (Maskinporten's delegation, as DPI's sends use it): the token's `consumer` is then that organisation
 * and its `supplier` the grant's own consumer, the organisation that signed it. The stand-in trusts every
 * delegation; Maskinporten checks it in Altinn.
 */
function parties(claims: Record<string, unknown>): Record<string, unknown> {
  const onBehalfOf = claims.consumer_org
  if (onBehalfOf === undefined) return { consumer: claims.consumer }
  if (typeof onBehalfOf !== 'string' || !/^\d{9}$/.test(onBehalfOf))
    throw new GrantError('invalid_grant', 'consumer_org must be an organisation number (9 digits)')
  return {
    consumer: { authority: 'iso6523-actorid-upis', ID: `0192:${onBehalfOf}` },
    supplier: claims.consumer,
  }
}
