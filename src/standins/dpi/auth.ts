import { claimedOrgnr, maskinportenClaims, orgnrOf } from '../maskinporten-claims.js'
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
  const { token, claims } = maskinportenClaims(authorization, now, DPI_SCOPE, { unauthorized, forbidden })
  const consumer = claimedOrgnr(claims.consumer)
  const supplier = claimedOrgnr(claims.supplier)
  const onBehalfOf = orgnrOf(claims.consumer_org)
  if (!consumer)
    throw unauthorized('The Maskinporten token names no organisation: expected consumer.ID as 0192:<orgnr>')
  if (supplier) return { token, consumer, signer: supplier }
  if (onBehalfOf) return { token, consumer: onBehalfOf, signer: consumer }
  return { token, consumer, signer: consumer }
}
