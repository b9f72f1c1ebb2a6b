import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Catalogue } from './catalog.js'
import { loadCatalogue } from './catalog-load.js'
import type { CredentialStore } from './credentials.js'
import { SrError } from './errors.js'
import type { Json } from './records.js'
import { type Lookup, lookupIdentifier } from './rules.js'
import { createSelfSignedCertificate } from './x509.js'

export { capturingLogger } from '../../../test/support/logging.js'

/** Test helpers for the ServiceRegistry stand-in (not part of the build). */

export const PROCESS = {
  administrasjon: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
  planBygg: 'urn:no:difi:profile:arkivmelding:planByggOgGeodata:ver1.0',
  taushetsbelagt: 'urn:no:difi:profile:arkivmelding:taushetsbelagt:ver1.0',
  arkivmeldingResponse: 'urn:no:difi:profile:arkivmelding:response:ver1.0',
  avtalt: 'urn:no:difi:profile:avtalt:avtalt:ver1.0',
  innsynskrav: 'urn:no:difi:profile:einnsyn:innsynskrav:ver1.0',
  journalpost: 'urn:no:difi:profile:einnsyn:journalpost:ver1.0',
  einnsynResponse: 'urn:no:difi:profile:einnsyn:response:ver1.0',
  info: 'urn:no:difi:profile:digitalpost:info:ver1.0',
  vedtak: 'urn:no:difi:profile:digitalpost:vedtak:ver1.0',
  helse: 'urn:no:difi:profile:helse:helse:ver1.0',
}

let shared: string | undefined

/** One self-signed certificate (PEM) for every test record that needs one; made once per test file. */
export function testCertificatePem(): string {
  if (!shared) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const now = new Date()
    shared = createSelfSignedCertificate({
      privateKey,
      subject: { commonName: 'stand-in test' },
      notBefore: now,
      notAfter: new Date(now.getTime() + 86_400_000),
    }).toString()
  }
  return shared
}

/** A credential store that must not be used (the catalogue under test has inline certificates). */
export const NO_CREDENTIALS: CredentialStore = {
  get: (name) => Promise.reject(new Error(`unexpected generated certificate "${name}"`)),
  sasKey: (name) => Promise.reject(new Error(`unexpected generated SAS key "${name}"`)),
}

export interface TempDir {
  path: string
  file(name: string, text: string): string
  remove(): void
}

export function tempDir(prefix = 'sr-standin-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return {
    path,
    file(name, text) {
      const file = join(path, name)
      writeFileSync(file, text)
      return file
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  }
}

/** Loads `json` as a catalogue file (written to a temporary folder). */
export async function catalogueOf(json: unknown, credentials = NO_CREDENTIALS): Promise<Catalogue> {
  const dir = tempDir()
  try {
    return await loadCatalogue(dir.file('catalog.json', JSON.stringify(json)), credentials)
  } finally {
    dir.remove()
  }
}

/** The key names of `value`, recursively, in order: `a`, `a.b`, `c[].d`, ... */
export function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.length > 0 ? keyPaths(value[0], `${prefix}[]`) : []
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k
    return [path, ...keyPaths(v, path)]
  })
}

/** The catalogue the rules tests ask: one receiver of each kind (certificates inline). */
export function rulesCatalogue(): Promise<Catalogue> {
  const cert = testCertificatePem()
  return catalogueOf({
    settings: { defaultSender: '910075918', dpi: { printProvider: '910085379' }, dpf: { certificate: cert } },
    organisations: [
      {
        orgnr: '910075918',
        name: 'ETAT A',
        postadresse: { adresse: 'Portveien 2', postnummer: '0468', poststed: 'OSLO', land: 'Norge' },
        certificate: cert,
        DPO: { processes: [PROCESS.administrasjon, PROCESS.avtalt] },
        DPE: { processes: [PROCESS.innsynskrav] },
        overrides: { [PROCESS.avtalt]: { service: { endpointUrl: 'https://other' }, certificate: null } },
      },
      { orgnr: '910229028', name: 'KOMMUNE', entityType: 'KOMM', DPF: { securityLevels: [3] } },
      { orgnr: '910094092', name: 'KUN DPV', entityType: 'AS', DPV: { resource: 'own-resource' } },
      { orgnr: '910085379', name: 'UTSKRIFT', certificate: cert },
      { orgnr: '910077473', name: 'ETAT B', postadresse: null },
      {
        orgnr: '910071696',
        name: 'LEGE',
        certificate: cert,
        DPH: { herId: 42, parentHerId: 41, parentName: 'KONTOR' },
      },
      {
        orgnr: '910076787',
        name: 'EKSPLISITT',
        records: [
          { process: PROCESS.avtalt, documentTypes: ['x'], service: { identifier: 'STRANGE' }, extra: 1 },
        ],
      },
    ],
    persons: [
      {
        fnr: '01819040180',
        name: { first: 'Ola', last: 'Digital' },
        mailbox: { provider: '910085379', address: 'ola#1' },
        email: 'o@x',
        mobile: '+47',
        language: 'nb',
        gp: 42,
      },
      {
        fnr: '15857540015',
        name: { first: 'Kari', middle: 'P', last: 'Utskrift' },
        address: { street: ['c/o N', 'Gata 5'], postalCode: '5003', postalArea: 'BERGEN' },
        notifiable: false,
      },
      { fnr: '03909940094', name: { first: 'Siri', last: 'Hemmelig' } },
    ],
  })
}

/** `lookupIdentifier` with the defaults of a plain request, and views of its records. */
export function lookups(catalogue: () => Catalogue) {
  const ask = (identifier: string, more: Partial<Lookup> = {}): Json =>
    lookupIdentifier(catalogue(), {
      identifier,
      process: null,
      securityLevel: null,
      print: true,
      beta: false,
      consumer: null,
      ...more,
    })
  const records = (identifier: string, more: Partial<Lookup> = {}) =>
    ask(identifier, more).serviceRecords as Json[]
  const services = (identifier: string, more: Partial<Lookup> = {}) =>
    records(identifier, more).map((r) => `${(r.service as Json).identifier} ${r.process}`)
  return { ask, records, services }
}

/** The status and body of the {@link SrError} that `f` throws. */
export function failure(f: () => unknown): { status: number; body: unknown } {
  try {
    f()
  } catch (err) {
    if (err instanceof SrError) return { status: err.status, body: err.body }
    throw err
  }
  throw new Error('expected an SrError')
}
