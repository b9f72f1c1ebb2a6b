import { parseIdentifier } from '../../sbd/identifiers.js'
import { type Catalogue, type Organisation, type Person, processesIn } from './catalog.js'
import {
  badRequest,
  certificateNotFound,
  citizenNotFound,
  entityNotFound,
  infoNotFound,
  receiverProcessNotFound,
  SrError,
} from './errors.js'
import type { ProcessDef } from './processes.js'
import { citizenInfo, dphRecord, entity, healthInfo, type Json, organisationInfo } from './records.js'
import {
  allOrganisationRecords,
  applyOverrides,
  arkivmeldingRecord,
  type Party,
  registeredRecord,
} from './rules-organisation.js'
import { citizenRecords, NotInFolkeregisteret } from './rules-person.js'

/**
 * The answers of `/identifier`, `/info` and `/virksert`, from one catalogue
 * (reference: `ServiceRecordController`, `EntityService`, `VirksertController`).
 */

export interface Lookup {
  /** the path value as given */
  identifier: string
  process: string | null
  securityLevel: number | null
  /** false: no print records for citizens */
  print: boolean
  /** `X-Enable-Beta-Features: true` (needed for DPH) */
  beta: boolean
  /** the organisation asking, from its token (`consumer.ID`), when it sent one */
  consumer: string | null
}

type Entity =
  | { kind: 'organisation'; org: Organisation }
  | { kind: 'person'; fnr: string; person: Person | undefined }
  | { kind: 'health'; identifier: string; org: Organisation; patient: Person | null }

/** `PartnerIdentifier.parse` and the register lookups; undefined when the registers do not know it. */
function resolveEntity(cat: Catalogue, raw: string): Entity | undefined {
  const id = parseIdentifier(raw)
  if (!id) throw badRequest(`'${raw}' is not an organisation number, person number or NHN identifier`)
  if (id.kind === 'person') return { kind: 'person', fnr: id.value, person: cat.persons.get(id.value) }
  if (id.kind === 'iso6523') {
    const org = id.icd === '0192' ? cat.organisations.get(id.organization) : undefined
    return org && { kind: 'organisation', org }
  }
  if (id.scheme === 'her-id') {
    const org = cat.health.get(Number(id.id))
    return org && { kind: 'health', identifier: id.value, org, patient: null }
  }
  const patient = cat.persons.get(id.id)
  const org = patient?.gp === null || !patient ? undefined : cat.health.get(patient.gp)
  return org && { kind: 'health', identifier: id.value, org, patient: patient! }
}

function infoOf(e: Entity): Json {
  if (e.kind === 'organisation') return organisationInfo(e.org)
  if (e.kind === 'person') return citizenInfo(e.fnr)
  return healthInfo(e.identifier, e.org, e.patient?.fnr ?? null)
}

/** `GET /identifier/{id}` and `GET /identifier/{id}/process/{process}` */
export function lookupIdentifier(cat: Catalogue, q: Lookup): Json {
  const e = resolveEntity(cat, q.identifier)
  if (!e) throw entityNotFound(q.identifier)
  if (q.process === null) return entity(infoOf(e), allRecords(cat, e, q))
  const p = cat.processes.get(q.process)
  if (!p) throw receiverProcessNotFound(q.identifier, q.process)
  const records = processRecords(cat, e, p, q)
  if (records.length === 0) throw receiverProcessNotFound(q.identifier, q.process)
  return entity(infoOf(e), records)
}

/** `GET /info/{id}`: the info record only. */
export function lookupInfo(cat: Catalogue, identifier: string): Json {
  const e = resolveEntity(cat, identifier)
  if (!e) throw infoNotFound(identifier)
  return entity(infoOf(e), [])
}

/** `GET /virksert/{orgnr}`: the organisation's business certificate, PEM. */
export function lookupCertificate(cat: Catalogue, identifier: string): string {
  const pem = cat.organisations.get(identifier)?.certificate
  if (!pem) throw certificateNotFound(identifier)
  return pem
}

function allRecords(cat: Catalogue, e: Entity, q: Lookup): Json[] {
  if (e.kind === 'health') return dphEnabled(cat, q) ? dphRecords(cat, e, nhnProcess(cat)) : []
  const explicit = explicitRecords(e)
  if (explicit) return explicit
  if (e.kind === 'organisation') {
    return applyOverrides(e.org, allOrganisationRecords(cat, party(e), q.securityLevel))
  }
  try {
    return citizenRecords(cat, processesIn(cat, 'DIGITALPOST'), {
      fnr: e.fnr,
      print: q.print,
      consumer: q.consumer,
    })
  } catch (err) {
    // as the reference: a failed Folkeregisteret lookup is this hand-written 404
    if (err instanceof NotInFolkeregisteret) throw citizenNotFound(e.fnr)
    throw err
  }
}

function processRecords(cat: Catalogue, e: Entity, p: ProcessDef, q: Lookup): Json[] {
  if (e.kind === 'health') return dphEnabled(cat, q) ? dphRecords(cat, e, p) : []
  const explicit = explicitRecords(e)
  if (explicit) return explicit.filter((r) => r.process === p.identifier)
  if (p.category === 'DIGITALPOST') {
    if (e.kind !== 'person') return []
    try {
      return citizenRecords(cat, [p], { fnr: e.fnr, print: q.print, consumer: q.consumer })
    } catch (err) {
      // the reference fails with 500 here; a person nobody knows is "not found", as on /identifier/{fnr}
      if (err instanceof NotInFolkeregisteret) throw citizenNotFound(e.fnr)
      throw err
    }
  }
  let record: Json | undefined
  if (p.category === 'ARKIVMELDING') record = arkivmeldingRecord(cat, party(e), p, q.securityLevel)
  else if (p.category === 'EINNSYN' || p.category === 'AVTALT') record = registeredRecord(cat, party(e), p)
  if (!record) return []
  return e.kind === 'organisation' ? applyOverrides(e.org, [record]) : [record]
}

function party(e: Entity & { kind: 'organisation' | 'person' }): Party {
  return e.kind === 'organisation' ? { id: e.org.orgnr, org: e.org } : { id: e.fnr, org: null }
}

function explicitRecords(e: Entity): Json[] | undefined {
  const records = e.kind === 'organisation' ? e.org.records : e.kind === 'person' ? e.person?.records : null
  return records ? records.map((r) => structuredClone(r) as Json) : undefined
}

function dphEnabled(cat: Catalogue, q: Lookup): boolean {
  return cat.settings.dph.enabled && q.beta
}

function nhnProcess(cat: Catalogue): ProcessDef {
  const p = cat.processes.get(cat.settings.dph.process)
  if (!p) throw new SrError(500, { kind: 'error', code: '', description: 'Nhn process not found' })
  return p
}

function dphRecords(cat: Catalogue, e: Entity & { kind: 'health' }, p: ProcessDef): Json[] {
  const base = {
    organisationNumber: e.org.orgnr,
    pemCertificate: e.org.certificate,
    process: p.identifier,
    documentTypes: p.documentTypes,
  }
  return [dphRecord(base, cat.settings.dph.endpointUrl, e.org.dph!.herId, e.patient)]
}
