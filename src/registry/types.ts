import type { ServiceIdentifier } from '../sbd/types.js'

/**
 * The integration point's view of a ServiceRegistry answer, as the reference's client model
 * (`service-registry-client/.../externalmodel` in felleslosninger/efm-integrasjonspunkt). It differs from
 * what the server writes: a key the JSON leaves out takes the client-side default (often `''`), while an
 * explicit `null` stays null. Values are frozen once parsed, because the client
 * hands the same cached object to every caller.
 */

/** `PostAddress`: missing members default to `''`, explicit nulls stay null. */
export interface PostAddress {
  readonly name: string | null
  readonly street: string | null
  readonly postalCode: string | null
  readonly postalArea: string | null
  readonly country: string | null
}

/** The reference's `PostAddress.EMPTY`, used when a record has no `postAddress`/`returnAddress` key. */
export const EMPTY_POST_ADDRESS: PostAddress = Object.freeze({
  name: '',
  street: '',
  postalCode: '',
  postalArea: '',
  country: '',
})

/** `Service` (the record's `service` object). An unknown or missing `identifier` is `'UNKNOWN'`. */
export interface SrService {
  readonly identifier: ServiceIdentifier
  /** default `''`; for DPE the queue suffix (`innsyn`, `data`, `meeting`), for the others informational */
  readonly endpointUrl: string | null
  readonly serviceCode: string | null
  readonly serviceEditionCode: string | null
  /** set on DPF records only: the KS SvarUt level */
  readonly securityLevel: number | null
  /** Altinn 3 resource id (DPV per process) */
  readonly resource: string | null
}

/** A DPH record's patient (`fastlege-for:` lookups). */
export interface Patient {
  readonly fnr: string | null
  readonly firstName: string | null
  readonly middleName: string | null
  readonly lastName: string | null
}

export interface ServiceRecord {
  /** default `''` */
  readonly organisationNumber: string | null
  /** default `''`; a bare base64 body is wrapped in BEGIN/END lines as the reference's getter does */
  readonly pemCertificate: string | null
  readonly process: string | null
  /** default `[]` (the reference would fail on a missing list later) */
  readonly documentTypes: readonly string[]
  readonly service: SrService
  // DPI
  readonly orgnrPostkasse: string | null
  readonly postkasseAdresse: string | null
  /** default `''` */
  readonly epostAdresse: string | null
  /** default `''` */
  readonly mobilnummer: string | null
  /** default false; null reads as false (a Java primitive) */
  readonly fysiskPost: boolean
  /** default false; null reads as false (a Java primitive) */
  readonly kanVarsles: boolean
  /** default `EMPTY_POST_ADDRESS`, explicit null stays null */
  readonly postAddress: PostAddress | null
  /** default `EMPTY_POST_ADDRESS`, explicit null stays null */
  readonly returnAddress: PostAddress | null
  readonly spraak: string | null
  // DPH
  /** a string on the client side (the server writes a number) */
  readonly herId: string | null
  readonly patient: Patient | null
}

/** BRREG address of an organisation, as the SR writes it (null members omitted by the server). */
export interface BrregPostadresse {
  readonly adresse: string | null
  readonly postnummer: string | null
  readonly poststed: string | null
  readonly land: string | null
}

export interface EntityType {
  /** BRREG organisasjonsform (ORGL, AS, KOMM, ...), `citizen`, or `NorskHelsenett` */
  readonly name: string | null
  readonly acronym: string | null
}

export interface InfoRecord {
  readonly identifier: string | null
  readonly organizationName: string | null
  readonly organizationNumber: string | null
  readonly entityType: EntityType | null
  readonly postadresse: BrregPostadresse | null
  // health (DPH) entities
  readonly parentHerId: number | null
  readonly parentOrganizationName: string | null
  readonly herId: number | null
}

export interface IdentifierResource {
  /** null only when the answer has none (the real SR always sends one) */
  readonly infoRecord: InfoRecord | null
  /** default `[]` (an `/info` answer may leave it out) */
  readonly serviceRecords: readonly ServiceRecord[]
}
