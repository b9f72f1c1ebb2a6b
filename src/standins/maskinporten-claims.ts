// How the stand-ins that take a Maskinporten token read it (SvarUt, the DPI access point): the bearer
// token decoded, **not verified** (the Maskinporten stand-in's tokens are unsigned, and a stand-in trusts
// whoever reaches it with one), then its expiry and its scope checked as the real services check them.
// Each stand-in answers the refusals in its own error format.

import { decodeJwt } from 'jose'

export interface TokenRefusals {
  /** no token, not a JWT, expired, or naming no organisation (401) */
  unauthorized(message: string): Error
  /** without the scope (403) */
  forbidden(message: string): Error
}

/** The claims of the bearer token in `authorization`, which must be unexpired and carry `scope`. */
export function maskinportenClaims(
  authorization: string | undefined,
  now: Date,
  scope: string,
  refuse: TokenRefusals,
): { token: string; claims: Record<string, unknown> } {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1]
  if (!token)
    throw refuse.unauthorized(`Authorization: Bearer <Maskinporten token with scope ${scope}> is required`)
  let claims: Record<string, unknown>
  try {
    claims = decodeJwt(token)
  } catch (error) {
    throw refuse.unauthorized(`The bearer token is not a JWT: ${(error as Error).message}`)
  }
  if (typeof claims.exp === 'number' && claims.exp * 1000 < now.getTime())
    throw refuse.unauthorized('The Maskinporten token has expired')
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(/\s+/) : []
  if (!scopes.includes(scope))
    throw refuse.forbidden(`The Maskinporten token lacks the scope ${scope} (it has "${scopes.join(' ')}")`)
  return { token, claims }
}

/** `0192:910075918` or `910075918` → `910075918` */
export function orgnrOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  return /^(?:0192:)?([0-9]{9})$/.exec(value)?.[1]
}

/** The organisation a claim such as `consumer` or `supplier` names (`{ID: "0192:<orgnr>"}`). */
export function claimedOrgnr(claim: unknown): string | undefined {
  return orgnrOf((claim as { ID?: unknown } | null)?.ID)
}
