import { randomBytes } from 'node:crypto'
import { decodeJwt } from 'jose'
import type { Clock } from '../../util/time.js'
import { unauthorized } from './problem.js'
import type { BrokerStore } from './store.js'

/** Altinn tokens live 30 minutes (docs/altinn-broker-standin.md, "Tokens"); the IP caches them for 25. */
export const ALTINN_TOKEN_TTL_MS = 30 * 60_000

const ORG_ID = /^0192:[0-9]{9}$/

/**
 * The organisation a Maskinporten token speaks for. The token is decoded, **not verified**: the
 * stand-in trusts whoever can reach it, so a self-signed or unsigned JWT will do. A system-user
 * token names its organisation in `authorization_details[].systemuser_org.ID` (the IP asks for one
 * per reportee), which wins over the client's own `consumer.ID`.
 */
export function organisationOf(authorization: string | undefined, now: Date): string {
  const jwt = bearer(authorization)
  if (!jwt) throw unauthorized('Authorization: Bearer <Maskinporten token> is required')
  let claims: Record<string, unknown>
  try {
    claims = decodeJwt(jwt)
  } catch (error) {
    throw unauthorized(`The bearer token is not a JWT: ${(error as Error).message}`)
  }
  if (typeof claims.exp === 'number' && claims.exp * 1000 < now.getTime()) {
    throw unauthorized('The Maskinporten token has expired')
  }
  const org = systemUserOrg(claims.authorization_details) ?? idOf(claims.consumer)
  if (!org) {
    throw unauthorized(
      'The Maskinporten token names no organisation: expected consumer.ID or ' +
        'authorization_details[].systemuser_org.ID as 0192:<organisation number>',
    )
  }
  return org
}

/** Issues an opaque Altinn token for `org` with the Maskinporten token's scopes, kept in the store so it outlives a restart. */
export function issueToken(
  store: BrokerStore,
  org: string,
  clock: Clock,
  scope: string | null = null,
): string {
  const now = clock.now().getTime()
  store.dropExpiredTokens(now)
  const token = randomBytes(32).toString('base64url')
  store.addToken({ token, org, expires: now + ALTINN_TOKEN_TTL_MS, scope })
  return token
}

/** The `scope` claim of a Maskinporten token already read by organisationOf (decoded, not verified). */
export function scopeOf(authorization: string | undefined): string | null {
  try {
    const scope = decodeJwt(bearer(authorization) ?? '').scope
    return typeof scope === 'string' ? scope : null
  } catch {
    return null
  }
}

/** The organisation (`0192:<orgnr>`) behind the Altinn token of a broker call, or a 401. */
export function callerOf(store: BrokerStore, authorization: string | undefined, clock: Clock): string {
  const token = bearer(authorization)
  if (!token) throw unauthorized('Authorization: Bearer <Altinn token> is required')
  const row = store.token(token)
  if (!row) throw unauthorized('Unknown Altinn token: exchange a Maskinporten token first')
  if (row.expires < clock.now().getTime()) throw unauthorized('The Altinn token has expired')
  return row.org
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  return match?.[1]
}

function systemUserOrg(details: unknown): string | undefined {
  if (!Array.isArray(details)) return undefined
  for (const d of details) {
    const id = idOf((d as { systemuser_org?: unknown } | null)?.systemuser_org)
    if (id) return id
  }
  return undefined
}

function idOf(value: unknown): string | undefined {
  const id = (value as { ID?: unknown } | null | undefined)?.ID
  if (typeof id !== 'string') return undefined
  const normalised = /^[0-9]{9}$/.test(id) ? `0192:${id}` : id
  return ORG_ID.test(normalised) ? normalised : undefined
}
