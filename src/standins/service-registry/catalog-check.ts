import { isValidPersonIdentifier } from '../../sbd/identifiers.js'
import { mergeProcesses } from './catalog.js'
import type { CatalogFile, OrganisationEntry, PersonEntry } from './catalog-schema.js'
import { DEFAULT_SETTINGS, type ProcessCategory, type ProcessDef } from './processes.js'

/**
 * The checks a schema cannot make: check digits, duplicates, and that every name points at something
 * that exists and fits (a DPE process must be an EINNSYN process, a mailbox provider an organisation
 * with a certificate, ...). Each problem names its place in the file as a JSON path.
 */
export interface Problem {
  path: string
  message: string
}

type Processes = ReadonlyMap<string, ProcessDef>

export function checkCatalogue(file: CatalogFile): Problem[] {
  const problems: Problem[] = []
  const add = (path: string, message: string) => void problems.push({ path, message })
  const processes = mergeProcesses(file)
  checkProcesses(file, processes, add)
  const orgs = new Map<string, OrganisationEntry>()
  const herIds = new Set<number>()
  file.organisations.forEach((org, i) => {
    const at = `organisations[${i}]`
    if (orgs.has(org.orgnr)) add(`${at}.orgnr`, `"${org.orgnr}" is listed twice`)
    orgs.set(org.orgnr, org)
    if (org.DPH) {
      if (herIds.has(org.DPH.herId)) add(`${at}.DPH.herId`, `her-id ${org.DPH.herId} is listed twice`)
      herIds.add(org.DPH.herId)
    }
    checkOrganisation(org, at, file, processes, add)
  })
  const fnrs = new Set<string>()
  file.persons.forEach((person, i) => {
    const at = `persons[${i}]`
    if (fnrs.has(person.fnr)) add(`${at}.fnr`, `"${person.fnr}" is listed twice`)
    fnrs.add(person.fnr)
    checkPerson(person, at, orgs, herIds, add)
  })
  checkPrintSettings(file, orgs, add)
  return problems
}

type Add = (path: string, message: string) => void

function checkProcesses(file: CatalogFile, processes: Processes, add: Add): void {
  const seen = new Set<string>()
  file.processes.forEach((p, i) => {
    if (seen.has(p.identifier)) add(`processes[${i}].identifier`, `"${p.identifier}" is listed twice`)
    seen.add(p.identifier)
  })
  const s = file.settings
  const dpi = { ...DEFAULT_SETTINGS.dpi, ...s.dpi }
  const wanted: [string, string, ProcessCategory][] = [
    [
      'settings.defaultArkivmeldingProcess',
      s.defaultArkivmeldingProcess ?? DEFAULT_SETTINGS.defaultArkivmeldingProcess,
      'ARKIVMELDING',
    ],
    ['settings.dpi.infoProcess', dpi.infoProcess, 'DIGITALPOST'],
    ['settings.dpi.vedtakProcess', dpi.vedtakProcess, 'DIGITALPOST'],
    ['settings.dph.process', s.dph?.process ?? DEFAULT_SETTINGS.dph.process, 'DIALOGMELDING'],
  ]
  for (const [path, id, category] of wanted) checkProcessRef(processes, path, id, [category], add)
  for (const p of processes.values()) {
    const at = placeOf(file, p.identifier)
    // as the reference would fail (500) on these at lookup time, refuse them at load
    if (p.category === 'EINNSYN' && !p.serviceCode) {
      add(
        at,
        `EINNSYN process "${p.identifier}" needs a serviceCode: the DPE queue suffix (innsyn, data, meeting)`,
      )
    }
    if (
      p.category === 'DIGITALPOST' &&
      p.identifier !== dpi.infoProcess &&
      p.identifier !== dpi.vedtakProcess
    ) {
      add(at, `DIGITALPOST process "${p.identifier}" must be settings.dpi.infoProcess or vedtakProcess`)
    }
  }
}

function placeOf(file: CatalogFile, identifier: string): string {
  const i = file.processes.findIndex((p) => p.identifier === identifier)
  return i < 0 ? `(built-in process ${identifier})` : `processes[${i}]`
}

function checkOrganisation(
  org: OrganisationEntry,
  at: string,
  file: CatalogFile,
  processes: Processes,
  add: Add,
) {
  if (!isValidOrgnr(org.orgnr))
    add(`${at}.orgnr`, `"${org.orgnr}" fails the mod-11 check of organisation numbers`)
  org.DPO?.processes.forEach((p, j) => {
    checkProcessRef(processes, `${at}.DPO.processes[${j}]`, p, ['ARKIVMELDING', 'AVTALT'], add)
  })
  org.DPE?.processes.forEach((p, j) => {
    checkProcessRef(processes, `${at}.DPE.processes[${j}]`, p, ['EINNSYN'], add)
  })
  const needsCertificate = (['DPO', 'DPE', 'DPH'] as const).filter((s) => org[s] !== undefined)
  if (needsCertificate.length > 0 && org.certificate === undefined && !org.records) {
    add(`${at}.certificate`, `${needsCertificate.join(', ')} records carry the certificate: give one`)
  }
  if (org.DPF && file.settings.dpf?.certificate === undefined) {
    add(
      'settings.dpf.certificate',
      `${at} is on DPF: its records carry KS SvarUt's certificate, give one here`,
    )
  }
  for (const process of Object.keys(org.overrides ?? {})) {
    if (!processes.has(process)) add(`${at}.overrides`, `"${process}" is not a known process`)
  }
}

function checkPerson(
  p: PersonEntry,
  at: string,
  orgs: Map<string, OrganisationEntry>,
  herIds: Set<number>,
  add: Add,
) {
  if (!isValidPersonIdentifier(p.fnr)) add(`${at}.fnr`, `"${p.fnr}" has wrong check digits`)
  if (p.mailbox) {
    const provider = orgs.get(p.mailbox.provider)
    if (!provider) {
      add(`${at}.mailbox.provider`, `"${p.mailbox.provider}" is not an organisation in this catalogue`)
    } else if (provider.certificate === undefined && p.mailbox.certificate === undefined) {
      add(
        `${at}.mailbox`,
        `no certificate: give mailbox.certificate or one for organisation ${provider.orgnr}`,
      )
    }
  }
  if (p.gp !== undefined && !herIds.has(p.gp)) add(`${at}.gp`, `no organisation has DPH.herId ${p.gp}`)
  if (!p.name && (p.address || p.gp !== undefined)) {
    add(`${at}.name`, `${p.address ? 'a print address' : 'a fastlege (DPH patient)'} needs the person's name`)
  }
}

/** Print records need a print provider with a certificate and an organisation for the return address. */
function checkPrintSettings(file: CatalogFile, orgs: Map<string, OrganisationEntry>, add: Add) {
  const printing = file.persons.findIndex((p) => p.address && !p.records)
  const provider = file.settings.dpi?.printProvider
  const sender = file.settings.defaultSender
  if (provider !== undefined) {
    const org = orgs.get(provider)
    if (!org) add('settings.dpi.printProvider', `"${provider}" is not an organisation in this catalogue`)
    else if (org.certificate === undefined)
      add('settings.dpi.printProvider', `organisation ${provider} has no certificate`)
  } else if (printing >= 0) {
    add(
      'settings.dpi.printProvider',
      `persons[${printing}] has a print address: name the print service's organisation`,
    )
  }
  if (sender !== undefined && !orgs.has(sender)) {
    add('settings.defaultSender', `"${sender}" is not an organisation in this catalogue`)
  } else if (sender === undefined && printing >= 0) {
    add(
      'settings.defaultSender',
      `persons[${printing}] has a print address: name the organisation of return addresses`,
    )
  }
}

function checkProcessRef(
  processes: Processes,
  path: string,
  id: string,
  categories: ProcessCategory[],
  add: Add,
) {
  const p = processes.get(id)
  if (!p) add(path, `"${id}" is not a known process`)
  else if (!categories.includes(p.category)) {
    add(path, `"${id}" is a ${p.category} process; this list takes ${categories.join(' or ')} processes`)
  }
}

const ORG_WEIGHTS = [3, 2, 7, 6, 5, 4, 3, 2]

/** Enhetsregisteret's mod-11 check digit. */
export function isValidOrgnr(orgnr: string): boolean {
  if (!/^\d{9}$/.test(orgnr)) return false
  let sum = 0
  for (let i = 0; i < 8; i++) sum += ORG_WEIGHTS[i]! * (orgnr.charCodeAt(i) - 48)
  const check = (11 - (sum % 11)) % 11
  return check !== 10 && check === orgnr.charCodeAt(8) - 48
}
