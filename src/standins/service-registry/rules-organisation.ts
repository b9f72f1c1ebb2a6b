import { type Catalogue, type Organisation, processesIn } from './catalog.js'
import { securityLevelNotFound } from './errors.js'
import type { ProcessDef } from './processes.js'
import { type Json, serviceRecord } from './records.js'

/**
 * How the registry chooses a service for an organisation (the real registry's `ServiceRecordService`,
 * felleslosninger/efm-service-registry; docs/service-registry-standin.md, "How an answer is decided").
 * "Registered in ELMA" is the organisation's DPO and DPE lists; KS SvarUt's answer is its DPF levels. A
 * person asked for an arkivmelding process goes through the same rules as a party registered nowhere, as in
 * the reference (it gets DPV).
 */
export interface Party {
  id: string
  org: Organisation | null
}

/** ELMA's answer: the registered processes that share a document type with `documentTypes`. */
function elmaProcesses(cat: Catalogue, party: Party, documentTypes: readonly string[]): Set<string> {
  const wanted = new Set(documentTypes)
  const found = new Set<string>()
  for (const id of party.org?.registrations ?? []) {
    if (cat.processes.get(id)?.documentTypes.some((d) => wanted.has(d))) found.add(id)
  }
  return found
}

/** KS SvarUt's level: the one asked for if the party has it, else none; without a level, its highest. */
function svarutLevel(party: Party, securityLevel: number | null): number | undefined {
  const levels = party.org?.svarutLevels ?? []
  if (securityLevel === null) return levels.at(-1)
  return levels.includes(securityLevel) ? securityLevel : undefined
}

/** One ARKIVMELDING process: DPO, DPF, DPV, none, or a 400 when level 4 cannot be met. */
export function arkivmeldingRecord(
  cat: Catalogue,
  party: Party,
  p: ProcessDef,
  securityLevel: number | null,
): Json | undefined {
  const registered = elmaProcesses(cat, party, p.documentTypes)
  if (registered.size === 0) {
    if (!cat.settings.enableDpfDpv) return undefined
    const level = svarutLevel(party, securityLevel)
    if (level !== undefined) return dpfRecord(cat, party, p, level)
    // as the reference: only level 4 is refused; DPV is never offered at level 4
    if (securityLevel === 4) throw securityLevelNotFound(party.id, securityLevel)
    return dpvRecord(cat, party, p)
  }
  if (registered.has(p.identifier)) return dpoRecord(cat, party, p)
  return securityLevel === 4 ? undefined : dpvRecord(cat, party, p)
}

/** An EINNSYN (DPE) or AVTALT (DPO) process: a record only when registered for it. */
export function registeredRecord(cat: Catalogue, party: Party, p: ProcessDef): Json | undefined {
  if (!elmaProcesses(cat, party, p.documentTypes).has(p.identifier)) return undefined
  return p.category === 'EINNSYN' ? dpeRecord(party, p) : dpoRecord(cat, party, p)
}

/** `GET /identifier/{orgnr}`: every arkivmelding process, then eInnsyn, then avtalt. */
export function allOrganisationRecords(cat: Catalogue, party: Party, securityLevel: number | null): Json[] {
  const records: Json[] = []
  for (const p of processesIn(cat, 'ARKIVMELDING')) {
    const record = arkivmeldingRecord(cat, party, p, securityLevel)
    if (record) records.push(record)
  }
  for (const category of ['EINNSYN', 'AVTALT'] as const) {
    const processes = processesIn(cat, category)
    const registered = elmaProcesses(
      cat,
      party,
      processes.flatMap((p) => p.documentTypes),
    )
    for (const p of processes) {
      if (!registered.has(p.identifier)) continue
      records.push(category === 'EINNSYN' ? dpeRecord(party, p) : dpoRecord(cat, party, p))
    }
  }
  return records
}

function base(party: Party, p: ProcessDef, pemCertificate: string | null) {
  return {
    organisationNumber: party.id,
    pemCertificate,
    process: p.identifier,
    documentTypes: p.documentTypes,
  }
}

function dpoRecord(cat: Catalogue, party: Party, p: ProcessDef): Json {
  const { dpo } = cat.settings
  return serviceRecord(base(party, p, party.org?.certificate ?? null), 'DPO', dpo)
}

function dpeRecord(party: Party, p: ProcessDef): Json {
  // as the reference: the DPE "endpoint" is the queue suffix kept as the process's service code
  return serviceRecord(base(party, p, party.org?.certificate ?? null), 'DPE', {
    endpointUrl: p.serviceCode ?? '',
  })
}

function dpfRecord(cat: Catalogue, party: Party, p: ProcessDef, securityLevel: number): Json {
  const { dpf } = cat.settings
  return serviceRecord(base(party, p, dpf.certificate), 'DPF', {
    endpointUrl: dpf.endpointUrl,
    securityLevel,
  })
}

/** DPV for an organisation: the codes of the process, unless the organisation's DPV entry says otherwise. */
function dpvRecord(cat: Catalogue, party: Party, p: ProcessDef): Json {
  const own = party.org?.dpv ?? {}
  return serviceRecord(base(party, p, null), 'DPV', {
    endpointUrl: cat.settings.dpv.endpointUrl,
    serviceCode: own.serviceCode !== undefined ? own.serviceCode : p.serviceCode,
    serviceEditionCode: own.serviceEditionCode !== undefined ? own.serviceEditionCode : p.serviceEditionCode,
    resource: own.resource !== undefined ? own.resource : p.resource,
  })
}

/** The organisation's per-process changes, applied to the records the rules made. */
export function applyOverrides(org: Organisation, records: Json[]): Json[] {
  return records.map((record) => {
    const o = org.overrides.get(record.process as string)
    if (!o) return record
    const patched: Json = { ...record, service: { ...(record.service as Json), ...o.service } }
    if (o.documentTypes) patched.documentTypes = [...o.documentTypes]
    if (o.certificate !== undefined) patched.pemCertificate = o.certificate
    return patched
  })
}
