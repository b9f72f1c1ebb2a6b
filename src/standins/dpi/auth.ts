import { decodeJwt } from 'jose'
import { forbidden, unauthorized } from './errors.js'

/** The Maskinporten scope every call to the access point needs. */
export const DPI_SCOPE = 'digitalpostinnbygger:send'

/**
 * Who a Maskinporten token speaks for: `consumer` is the organisation the letters are sent for, `signer`
 * the one whose business certificate must sign them (the data processor, `supplier`, when the token
 * was issued on another's behalf, else the consumer).
 */
export interface Caller {
  token: string
  consumer: string
  signer: string
}

/**
 * Reads the bearer token as the access point checks it: present, a JWT, not expired (401), with the
 * scope `digitalpostinnbygger:send` (403) and naming an organisation. The token is decoded, **not
 * verified**: the Maskinporten stand-in's tokens are unsigned, and the stand-in trusts whoever reaches
 * it with one. With delegation a real token carries `consumer` (the sender) and `supplier` (the
 * integration point's organisation); a token that still carries the grant's `consumer_org` is read the
 * same way, its `consumer` then being the supplier.
 */
export function callerOf(authorization: string | undefined, now: Date): Caller {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1]
  if (!token)
    throw unauthorized(`Authorization: Bearer <Maskinporten token with scope ${DPI_SCOPE}> is required`)
  let claims: Record<string, unknown>
  try {
    claims = decodeJwt(token)
  } catch (error) {
    throw unauthorized(`The bearer token is not a JWT: ${(error as Error).message}`)
  }
  if (typeof claims.exp === 'number' && claims.exp * 1000 < now.getTime())
    throw unauthorized('The Maskinporten token has expired')
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(/\s+/) : []
  if (!scopes.includes(DPI_SCOPE))
    throw forbidden(`The Maskinporten token lacks the scope ${DPI_SCOPE} (it has "${scopes.join(' ')}")`)
  const consumer = orgnrOf((claims.consumer as { ID?: unknown } | null)?.ID)
  const supplier = orgnrOf((claims.supplier as { ID?: unknown } | null)?.ID)
  const onBehalfOf = orgnrOf(claims.consumer_org)
  if (!consumer)
    throw unauthorized('The Maskinporten token names no organisation: expected consumer.ID as 0192:<orgnr>')
  if (supplier) return { token, consumer, signer: supplier }
  if (onBehalfOf) return { token, consumer: onBehalfOf, signer: consumer }
  return { token, consumer, signer: consumer }
}

/** `0192:910075918` or `910075918` → `910075918` */
export function orgnrOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  return /^(?:0192:)?([0-9]{9})$/.exec(value)?.[1]
}
