import type { Organisation, Person } from './catalog.js'

/**
 * The JSON the registry writes, built key by key in the reference's order (Jackson writes a class's
 * fields in declaration order, a subclass's after its parent's) with nulls written out
 * (docs/service-registry-standin.md, "API"). These functions are the only place that shapes it.
 */

export type Json = Record<string, unknown>
export type ServiceIdentifier = 'DPO' | 'DPV' | 'DPF' | 'DPI' | 'DPE' | 'DPH'

export interface ServiceFields {
  endpointUrl: string
  serviceCode?: string | null
  serviceEditionCode?: string | null
  securityLevel?: number | null
  resource?: string | null
}

export interface RecordBase {
  organisationNumber: string
  pemCertificate: string | null
  process: string
  documentTypes: readonly string[]
}

/** `ServiceRecord` with its `SRService`. */
export function serviceRecord(base: RecordBase, identifier: ServiceIdentifier, s: ServiceFields): Json {
  return {
    organisationNumber: base.organisationNumber,
    pemCertificate: base.pemCertificate,
    process: base.process,
    documentTypes: [...base.documentTypes],
    service: {
      identifier,
      endpointUrl: s.endpointUrl,
      serviceCode: s.serviceCode ?? null,
      serviceEditionCode: s.serviceEditionCode ?? null,
      securityLevel: s.securityLevel ?? null,
      resource: s.resource ?? null,
    },
  }
}

export interface PostAddress {
  name: string | null
  street: string | null
  postalCode: string | null
  postalArea: string | null
  country: string | null
}

export interface DpiFields {
  orgnrPostkasse: string | null
  postkasseAdresse: string | null
  fysiskPost: boolean
  postAddress: PostAddress | null
  returnAddress: PostAddress | null
}

/** `SikkerDigitalPostServiceRecord`: the DPI fields after the base ones; contact fields from KRR. */
export function dpiRecord(base: RecordBase, endpointUrl: string, person: Person, dpi: DpiFields): Json {
  return {
    ...serviceRecord(base, 'DPI', { endpointUrl }),
    orgnrPostkasse: dpi.orgnrPostkasse,
    postkasseAdresse: dpi.postkasseAdresse,
    mobilnummer: person.mobile,
    kanVarsles: person.notifiable,
    epostAdresse: person.email,
    fysiskPost: dpi.fysiskPost,
    postAddress: dpi.postAddress && { ...dpi.postAddress },
    returnAddress: dpi.returnAddress && { ...dpi.returnAddress },
    spraak: person.language,
  }
}

/** `HealthCareServiceRecord` */
export function dphRecord(
  base: RecordBase,
  endpointUrl: string,
  herId: number,
  patient: Person | null,
): Json {
  return {
    ...serviceRecord(base, 'DPH', { endpointUrl }),
    herId,
    patient: patient?.name
      ? {
          fnr: patient.fnr,
          firstName: patient.name.first,
          middleName: patient.name.middle,
          lastName: patient.name.last,
        }
      : null,
  }
}

/** `OrganizationInfo`; `postadresse` is NON_NULL inside, but itself written as null when absent. */
export function organisationInfo(org: Organisation): Json {
  const a = org.postadresse
  const postadresse = a
    ? withoutUndefined({ adresse: a.adresse, postnummer: a.postnummer, poststed: a.poststed, land: a.land })
    : null
  return {
    identifier: org.orgnr,
    organizationName: org.name,
    postadresse,
    entityType: { name: org.entityType },
  }
}

/** `CitizenInfo`: any valid person identifier is a citizen, without a register lookup. */
export function citizenInfo(fnr: string): Json {
  return { identifier: fnr, entityType: { name: 'citizen' } }
}

/** `HelseEnhetInfo` */
export function healthInfo(identifier: string, org: Organisation, patientFnr: string | null): Json {
  const dph = org.dph!
  return {
    identifier,
    parentHerId: dph.parentHerId,
    parentOrganizationName: dph.parentName,
    herId: dph.herId,
    organizationName: dph.name,
    organizationNumber: org.orgnr,
    patient: patientFnr,
    entityType: { name: 'NorskHelsenett' },
  }
}

/** `Entity`, the answer of `/identifier` and `/info`. */
export function entity(infoRecord: Json, serviceRecords: Json[]): Json {
  return { infoRecord, serviceRecords }
}

function withoutUndefined(o: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out
}
