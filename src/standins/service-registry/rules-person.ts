import type { Catalogue, Person } from './catalog.js'
import { senderNotFound } from './errors.js'
import { DOCUMENT_TYPE, type ProcessDef } from './processes.js'
import { dpiRecord, type Json, type PostAddress, serviceRecord } from './records.js'

/**
 * Digital post to citizens (the real registry's `DpiMessageRouter` and `ServiceRecordFactory`,
 * felleslosninger/efm-service-registry; docs/service-registry-standin.md, "How an answer is decided"). The
 * catalogue's person stands for what KRR and Folkeregisteret say; a person the catalogue does not list is one
 * KRR does not know (no mailbox, not notifiable) and Folkeregisteret cannot find.
 */

/** Folkeregisteret does not know the person: the print lookup fails. */
export class NotInFolkeregisteret extends Error {
  override name = 'NotInFolkeregisteret'
}

export type Target = 'DPI' | 'PRINT' | 'DPV'

/** `DpiMessageRouter.route`: `vedtak` respects reservation and notification, `info` ignores both. */
export function route(person: Person | undefined, obligated: boolean): Target {
  if (obligated) {
    if (person?.reserved) return 'PRINT'
    if (!person?.notifiable) return 'PRINT'
  }
  const hasMailbox = !!person?.mailbox?.certificate
  return hasMailbox && person?.status === 'AKTIV' ? 'DPI' : 'DPV'
}

export interface CitizenRequest {
  fnr: string
  print: boolean
  /** the organisation asking (the token's consumer): its address is the print return address */
  consumer: string | null
}

export function citizenRecords(cat: Catalogue, processes: readonly ProcessDef[], q: CitizenRequest): Json[] {
  const person = cat.persons.get(q.fnr)
  const records: Json[] = []
  for (const p of processes) {
    const target = route(person, p.identifier === cat.settings.dpi.vedtakProcess)
    if (target === 'DPI') {
      records.push(digitalRecord(cat, person!, p))
      continue
    }
    const print = q.print ? printRecord(cat, person, p, q.consumer) : undefined
    if (print) records.push(print)
    if (target === 'DPV') records.push(citizenDpvRecord(cat, q.fnr, p))
  }
  return records
}

function digitalRecord(cat: Catalogue, person: Person, p: ProcessDef): Json {
  const mailbox = person.mailbox!
  const base = {
    organisationNumber: person.fnr,
    pemCertificate: mailbox.certificate,
    process: p.identifier,
    documentTypes: [DOCUMENT_TYPE.digital],
  }
  return dpiRecord(base, cat.settings.dpi.endpointUrl, person, {
    orgnrPostkasse: mailbox.provider,
    postkasseAdresse: mailbox.address,
    fysiskPost: false,
    postAddress: null,
    returnAddress: null,
  })
}

/** None for a secret address (Folkeregisteret has no postal address); a 404 when the sender is unknown. */
function printRecord(cat: Catalogue, person: Person | undefined, p: ProcessDef, consumer: string | null) {
  if (!person) throw new NotInFolkeregisteret(`no person ${p.identifier}`)
  if (!person.address || !person.name) return undefined
  const senderOrgnr = consumer ?? cat.settings.defaultSender
  const sender = senderOrgnr === null ? undefined : cat.organisations.get(senderOrgnr)
  if (!sender) throw senderNotFound(senderOrgnr)
  const provider = cat.organisations.get(cat.settings.dpi.printProvider ?? '')
  const { name, address } = person
  const postAddress: PostAddress = {
    name: [name.first, name.middle, name.last].filter((n) => n).join(' '),
    street: address.street,
    postalCode: address.postalCode,
    postalArea: address.postalArea,
    country: address.country,
  }
  const a = sender.postadresse
  const returnAddress: PostAddress = {
    name: sender.name,
    street: a?.adresse ?? null,
    postalCode: a?.postnummer ?? null,
    postalArea: a?.poststed ?? null,
    country: a?.land ?? null,
  }
  const base = {
    organisationNumber: person.fnr,
    pemCertificate: provider?.certificate ?? null,
    process: p.identifier,
    documentTypes: [DOCUMENT_TYPE.print],
  }
  return dpiRecord(base, cat.settings.dpi.endpointUrl, person, {
    orgnrPostkasse: provider?.orgnr ?? null,
    postkasseAdresse: null,
    fysiskPost: true,
    postAddress,
    returnAddress,
  })
}

/** DPV for a citizen: the Altinn codes of the default arkivmelding process. */
function citizenDpvRecord(cat: Catalogue, fnr: string, p: ProcessDef): Json {
  const codes = cat.processes.get(cat.settings.defaultArkivmeldingProcess)
  const base = {
    organisationNumber: fnr,
    pemCertificate: null,
    process: p.identifier,
    documentTypes: [DOCUMENT_TYPE.digitalDpv],
  }
  return serviceRecord(base, 'DPV', {
    endpointUrl: cat.settings.dpv.endpointUrl,
    serviceCode: codes?.serviceCode ?? null,
    serviceEditionCode: codes?.serviceEditionCode ?? null,
    resource: codes?.resource ?? null,
  })
}
