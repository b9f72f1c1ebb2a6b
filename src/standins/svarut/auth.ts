import { timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { claimedOrgnr, maskinportenClaims, orgnrOf } from '../maskinporten-claims.js'
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
  const { claims } = maskinportenClaims(authorization, now, FIKS_SCOPE, { unauthorized, forbidden })
  const org = orgnrOf(claims.consumer_org) ?? claimedOrgnr(claims.consumer)
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

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function same(expected: string, given: string): boolean {
  const a = Buffer.from(expected)
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}
