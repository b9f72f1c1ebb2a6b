import { timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { decodeJwt } from 'jose'
import { forbidden, notFound, unauthorized } from './errors.js'
import type { Integrasjon, Konto, Mottakersystem, SvarUtSettings } from './settings.js'

/** The Maskinporten scope SvarUt's REST API requires. */
export const FIKS_SCOPE = 'ks:fiks'

/**
 * The checks SvarUt's REST v2/v3 applies to every call, in order: the Fiks integration's
 * `IntegrasjonId`/`IntegrasjonPassord`, then the Maskinporten bearer token (scope `ks:fiks`, an
 * organisation the integration is authorised for), then the konto (the integration must have access).
 * The token is decoded, **not verified**, as the Altinn stand-in's: the stand-in trusts whoever reaches it.
 */
export function integrasjonOf(
  settings: SvarUtSettings,
  headers: IncomingHttpHeaders,
  now: Date,
): Integrasjon {
  const id = header(headers, 'integrasjonid')
  const passord = header(headers, 'integrasjonpassord')
  if (!id || !passord) throw unauthorized('The headers IntegrasjonId and IntegrasjonPassord are required')
  const integrasjon = settings.integrasjoner.find((i) => i.id.toLowerCase() === id.trim().toLowerCase())
  if (!integrasjon || !same(integrasjon.passord, passord))
    throw unauthorized('Unknown IntegrasjonId or wrong IntegrasjonPassord')
  const org = tokenOrganisation(headers.authorization, now)
  if (!integrasjon.organisasjoner.includes(org))
    throw forbidden(
      `The Maskinporten token names organisation ${org}, which integration ${integrasjon.id} is not authorised for`,
    )
  return integrasjon
}

/** The konto in the path, when the integration has access to it. */
export function kontoOf(settings: SvarUtSettings, integrasjon: Integrasjon, kontoId: string): Konto {
  const konto = settings.kontoer.find((k) => k.id.toLowerCase() === kontoId.toLowerCase())
  if (!konto) throw notFound(`Konto ${kontoId} finnes ikke`)
  if (!integrasjon.kontoer.some((k) => k.toLowerCase() === konto.id.toLowerCase()))
    throw forbidden(`Integrasjon ${integrasjon.id} har ikke tilgang til konto ${konto.id}`)
  return konto
}

/** The organisation a Maskinporten token speaks for: `consumer_org` when delegated, else `consumer.ID`. */
function tokenOrganisation(authorization: string | undefined, now: Date): string {
  const jwt = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1]
  if (!jwt) throw unauthorized('Authorization: Bearer <Maskinporten token with scope ks:fiks> is required')
  let claims: Record<string, unknown>
  try {
    claims = decodeJwt(jwt)
  } catch (error) {
    throw unauthorized(`The bearer token is not a JWT: ${(error as Error).message}`)
  }
  if (typeof claims.exp === 'number' && claims.exp * 1000 < now.getTime())
    throw unauthorized('The Maskinporten token has expired')
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(/\s+/) : []
  if (!scopes.includes(FIKS_SCOPE))
    throw forbidden(`The Maskinporten token lacks the scope ${FIKS_SCOPE} (it has "${scopes.join(' ')}")`)
  const org = orgnrOf(claims.consumer_org) ?? orgnrOf((claims.consumer as { ID?: unknown } | null)?.ID)
  if (!org)
    throw unauthorized('The Maskinporten token names no organisation: expected consumer.ID as 0192:<orgnr>')
  return org
}

/** The mottakersystem whose Basic credentials a SvarInn call carries, or a 401. */
export function mottakersystemOf(
  settings: SvarUtSettings,
  authorization: string | undefined,
): Mottakersystem {
  const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1]
  if (!basic) throw unauthorized('HTTP Basic authentication with the mottakersystem is required')
  const text = Buffer.from(basic, 'base64').toString('utf8')
  const colon = text.indexOf(':')
  const [username, password] = colon < 0 ? [text, ''] : [text.slice(0, colon), text.slice(colon + 1)]
  const system = settings.mottakersystemer.find((m) => m.username === username)
  if (!system || !same(system.password, password)) throw unauthorized('Wrong username or password')
  return system
}

function orgnrOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  return /^(?:0192:)?([0-9]{9})$/.exec(value)?.[1]
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function same(expected: string, given: string): boolean {
  const a = Buffer.from(expected)
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}
