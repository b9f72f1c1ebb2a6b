/**
 * Who may do what at the stand-in (docs/svarut-standin.md, "Accounts"): the Fiks integrations that send,
 * the kontoer (sending accounts) they may send from, and the SvarInn mottakersystemer that receive.
 */

/** A Fiks integration: `IntegrasjonId`/`IntegrasjonPassord`, the organisations its tokens may name, its kontoer. */
export interface Integrasjon {
  id: string
  passord: string
  /** organisation numbers a Maskinporten token may name (consumer.ID or consumer_org) */
  organisasjoner: string[]
  /** konto ids it may send from */
  kontoer: string[]
}

/** A SvarUt sending account: its id (a UUID, in the path) and the organisation sending from it. */
export interface Konto {
  id: string
  orgnr: string
  navn: string
}

/**
 * A SvarInn mottakersystem: Basic auth credentials, the organisation it receives for, the filters that
 * route forsendelser to it (a forsendelsestype, or null for all; niva 3 or 4, or null for both) and the
 * certificate downloads are encrypted to (else fetched from the ServiceRegistry's `/virksert/{orgnr}`).
 */
export interface Mottakersystem {
  username: string
  password: string
  orgnr: string
  navn?: string
  forsendelsestype?: string | null
  niva?: 3 | 4 | null
  certificatePem?: string
}

export interface SvarUtSettings {
  integrasjoner: Integrasjon[]
  kontoer: Konto[]
  mottakersystemer: Mottakersystem[]
  /** what `GET /api/v2/forsendelsestyper` lists and a forsendelse's `forsendelsestype` must be one of */
  forsendelsestyper: string[]
  /** at most this many bytes of documents per forsendelse (SvarUt's limit for one that may be printed) */
  maxBytes: number
  /** the ServiceRegistry whose `/virksert/{orgnr}` gives a mottakersystem's certificate when none is configured */
  serviceRegistryUrl?: string
  /** base of `downloadUrl` in SvarInn answers; default the stand-in's own URL */
  publicUrl?: string
}

/** The sandbox's organisations: each sends from its own konto and receives through its own mottakersystem. */
export const SANDBOX_ORGS = ['910075918', '910077473'] as const
/** the sandbox's integration password and SvarInn password (a stand-in on 127.0.0.1 guards nothing) */
export const SANDBOX_PASSWORD = 'sandbox'

/** `00000000-0000-4000-8000-000910075918`: an org's sandbox konto id, easy to recognise in logs */
export const sandboxKontoId = (orgnr: string) => `00000000-0000-4000-8000-000${orgnr}`
/** `10000000-0000-4000-8000-000910075918`: an org's sandbox integration id */
export const sandboxIntegrasjonId = (orgnr: string) => `10000000-0000-4000-8000-000${orgnr}`

export const DEFAULT_SETTINGS: SvarUtSettings = {
  integrasjoner: SANDBOX_ORGS.map((orgnr) => ({
    id: sandboxIntegrasjonId(orgnr),
    passord: SANDBOX_PASSWORD,
    organisasjoner: [orgnr],
    kontoer: [sandboxKontoId(orgnr)],
  })),
  kontoer: SANDBOX_ORGS.map((orgnr) => ({ id: sandboxKontoId(orgnr), orgnr, navn: `Konto ${orgnr}` })),
  mottakersystemer: SANDBOX_ORGS.map((orgnr) => ({
    username: orgnr,
    password: SANDBOX_PASSWORD,
    orgnr,
    navn: `SvarInn ${orgnr}`,
  })),
  forsendelsestyper: ['Arkivmelding', 'Byggesak', 'Plansak'],
  maxBytes: 350 * 1024 * 1024,
}
