import type { CatalogFile, OrganisationEntry, PersonEntry, ProcessOverride } from './catalog-schema.js'
import { DEFAULT_PROCESSES, DEFAULT_SETTINGS, type ProcessCategory, type ProcessDef } from './processes.js'

/**
 * The catalogue as the routing rules read it: checked, with defaults filled in and certificates read
 * (PEM text). Built once per (re)load and never changed; a reload swaps the whole object.
 */

export interface Settings {
  defaultArkivmeldingProcess: string
  enableDpfDpv: boolean
  defaultSender: string | null
  dpo: { endpointUrl: string; serviceCode: string; serviceEditionCode: string; resource: string | null }
  dpv: { endpointUrl: string }
  dpf: { endpointUrl: string; certificate: string | null }
  dpi: { endpointUrl: string; infoProcess: string; vedtakProcess: string; printProvider: string | null }
  dph: { enabled: boolean; endpointUrl: string; process: string }
  /** `sasKey` null: no key configured, `/sastoken` answers 404 */
  dpe: { sasKeyName: string; sasKey: string | null }
}

export interface Override {
  service: ProcessOverride['service']
  documentTypes: string[] | undefined
  /** undefined: keep the record's; null: none */
  certificate: string | null | undefined
}

export interface Organisation {
  orgnr: string
  name: string
  entityType: string
  postadresse: { adresse?: string; postnummer?: string; poststed?: string; land?: string } | null
  certificate: string | null
  /** the processes it is registered for in ELMA (its DPO and DPE lists) */
  registrations: ReadonlySet<string>
  /** KS SvarUt levels, highest last; empty when not on DPF */
  svarutLevels: readonly number[]
  dpv: { resource?: string | null; serviceCode?: string | null; serviceEditionCode?: string | null }
  dph: { herId: number; name: string; parentHerId: number | null; parentName: string | null } | null
  overrides: ReadonlyMap<string, Override>
  records: readonly Record<string, unknown>[] | null
}

export interface Person {
  fnr: string
  name: { first: string; middle: string | null; last: string } | null
  address: { street: string; postalCode: string; postalArea: string; country: string | null } | null
  status: 'AKTIV' | 'SLETTET'
  reserved: boolean
  notifiable: boolean
  email: string | null
  mobile: string | null
  language: string | null
  mailbox: { provider: string; address: string; certificate: string | null } | null
  gp: number | null
  records: readonly Record<string, unknown>[] | null
}

export interface Catalogue {
  /** the file it was read from */
  source: string
  settings: Settings
  /** every process, built-in first, in order */
  processes: ReadonlyMap<string, ProcessDef>
  organisations: ReadonlyMap<string, Organisation>
  persons: ReadonlyMap<string, Person>
  /** organisations by DPH her-id */
  health: ReadonlyMap<number, Organisation>
  /** files the catalogue was read from (the catalogue and certificate files), to watch for changes */
  files: readonly string[]
}

/** PEM text of each certificate the file names, keyed by its JSON path (`organisations[0].certificate`). */
export type CertificateTexts = ReadonlyMap<string, string>

/** The built-in processes with the file's added or replaced, in order. */
export function mergeProcesses(file: CatalogFile): Map<string, ProcessDef> {
  const processes = new Map<string, ProcessDef>()
  for (const p of [...DEFAULT_PROCESSES, ...file.processes]) processes.set(p.identifier, p)
  return processes
}

export function processesIn(catalogue: Catalogue, category: ProcessCategory): ProcessDef[] {
  return [...catalogue.processes.values()].filter((p) => p.category === category)
}

export function buildCatalogue(
  file: CatalogFile,
  certs: CertificateTexts,
  source: { path: string; files: string[]; sasKey: string | null },
): Catalogue {
  const organisations = new Map<string, Organisation>()
  const health = new Map<number, Organisation>()
  file.organisations.forEach((entry, i) => {
    const org = organisation(entry, certs, `organisations[${i}]`)
    organisations.set(org.orgnr, org)
    if (org.dph) health.set(org.dph.herId, org)
  })
  const persons = new Map<string, Person>()
  file.persons.forEach((entry, i) => {
    persons.set(entry.fnr, person(entry, certs, `persons[${i}]`, organisations))
  })
  return deepFreeze({
    source: source.path,
    settings: settings(file, certs, source.sasKey),
    processes: mergeProcesses(file),
    organisations,
    persons,
    health,
    files: source.files,
  })
}

function settings(file: CatalogFile, certs: CertificateTexts, sasKey: string | null): Settings {
  const s = file.settings
  const d = DEFAULT_SETTINGS
  return {
    defaultArkivmeldingProcess: s.defaultArkivmeldingProcess ?? d.defaultArkivmeldingProcess,
    enableDpfDpv: s.enableDpfDpv ?? d.enableDpfDpv,
    defaultSender: s.defaultSender ?? null,
    dpo: { ...d.dpo, ...s.dpo },
    dpv: { ...d.dpv, ...s.dpv },
    dpf: {
      endpointUrl: s.dpf?.endpointUrl ?? d.dpf.endpointUrl,
      certificate: cert(certs, 'settings.dpf.certificate'),
    },
    dpi: { ...d.dpi, ...s.dpi, printProvider: s.dpi?.printProvider ?? null },
    dph: { ...d.dph, ...s.dph },
    dpe: { sasKeyName: s.dpe?.sasKeyName ?? d.dpe.sasKeyName, sasKey },
  }
}

function organisation(e: OrganisationEntry, certs: CertificateTexts, at: string): Organisation {
  const overrides = new Map<string, Override>()
  for (const [process, o] of Object.entries(e.overrides ?? {})) {
    const certificate =
      o.certificate === undefined ? undefined : cert(certs, `${at}.overrides.${process}.certificate`)
    overrides.set(process, { service: o.service, documentTypes: o.documentTypes, certificate })
  }
  return {
    orgnr: e.orgnr,
    name: e.name,
    entityType: e.entityType,
    postadresse: e.postadresse,
    certificate: cert(certs, `${at}.certificate`),
    registrations: new Set([...(e.DPO?.processes ?? []), ...(e.DPE?.processes ?? [])]),
    svarutLevels: [...new Set(e.DPF?.securityLevels ?? [])].sort((a, b) => a - b),
    dpv: e.DPV ?? {},
    dph: e.DPH
      ? {
          herId: e.DPH.herId,
          name: e.DPH.name ?? e.name,
          parentHerId: e.DPH.parentHerId ?? null,
          parentName: e.DPH.parentName ?? null,
        }
      : null,
    overrides,
    records: e.records ?? null,
  }
}

function person(
  e: PersonEntry,
  certs: CertificateTexts,
  at: string,
  orgs: Map<string, Organisation>,
): Person {
  const a = e.address
  // KRR's `sertifikat` is in practice the mailbox provider's certificate
  const mailboxCertificate = e.mailbox
    ? (cert(certs, `${at}.mailbox.certificate`) ?? orgs.get(e.mailbox.provider)?.certificate ?? null)
    : null
  return {
    fnr: e.fnr,
    name: e.name ? { first: e.name.first, middle: e.name.middle ?? null, last: e.name.last } : null,
    address: a
      ? {
          street: Array.isArray(a.street) ? a.street.join(' ') : a.street,
          postalCode: a.postalCode,
          postalArea: a.postalArea,
          country: a.country,
        }
      : null,
    status: e.status,
    reserved: e.reserved,
    notifiable: e.notifiable,
    email: e.email,
    mobile: e.mobile,
    language: e.language,
    mailbox: e.mailbox
      ? { provider: e.mailbox.provider, address: e.mailbox.address, certificate: mailboxCertificate }
      : null,
    gp: e.gp ?? null,
    records: e.records ?? null,
  }
}

function cert(certs: CertificateTexts, path: string): string | null {
  return certs.get(path) ?? null
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    const children = value instanceof Map ? value.values() : Object.values(value)
    for (const v of children) deepFreeze(v)
  }
  return value
}
