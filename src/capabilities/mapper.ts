import type { PostAddress, ServiceRecord } from '../registry/types.js'
import { type MessageTypeName, messageTypeByStandard } from '../sbd/message-types.js'
import type { ServiceIdentifier } from '../sbd/types.js'

/**
 * `GET /api/capabilities/{receiver}`: each ServiceRegistry record becomes one capability, as the
 * reference's `CapabilityFactory` builds it (felleslosninger/efm-integrasjonspunkt). The
 * reference writes its JSON with NON_NULL inclusion, so a null is a key left out at every level;
 * key order is the order of the reference's fields, which is the order built here.
 */

export interface CapabilityPostalAddress {
  name?: string
  street?: string
  postalCode?: string
  postalArea?: string
  country?: string
}

export interface CapabilityDocumentType {
  /** the message type the standard names (`…::arkivmelding` → `arkivmelding`); left out when none */
  type?: MessageTypeName
  standard: string
}

export interface Capability {
  process?: string
  serviceIdentifier: ServiceIdentifier
  /** DPI only */
  postAddress?: CapabilityPostalAddress
  /** DPI only */
  returnAddress?: CapabilityPostalAddress
  documentTypes: CapabilityDocumentType[]
  /** DPI only: `supplier` = `orgnrPostkasse`, `address` = `postkasseAdresse` */
  digitalPostAddress?: { supplier?: string; address?: string }
}

export interface Capabilities {
  capabilities: Capability[]
}

export function toCapabilities(resource: { serviceRecords: readonly ServiceRecord[] }): Capabilities {
  return { capabilities: resource.serviceRecords.map(toCapability) }
}

export function toCapability(record: ServiceRecord): Capability {
  const dpi = record.service.identifier === 'DPI'
  const postAddress = dpi ? postalAddress(record.postAddress) : null
  const returnAddress = dpi ? postalAddress(record.returnAddress) : null
  return {
    ...(record.process !== null && { process: record.process }),
    serviceIdentifier: record.service.identifier,
    ...(postAddress && { postAddress }),
    ...(returnAddress && { returnAddress }),
    documentTypes: record.documentTypes.map(documentType),
    ...(dpi && {
      digitalPostAddress: withoutNulls({ supplier: record.orgnrPostkasse, address: record.postkasseAdresse }),
    }),
  }
}

function documentType(standard: string): CapabilityDocumentType {
  const type = messageTypeByStandard(standard)
  return type === undefined ? { standard } : { type, standard }
}

function postalAddress(address: PostAddress | null): CapabilityPostalAddress | null {
  if (address === null) return null
  return withoutNulls({
    name: address.name,
    street: address.street,
    postalCode: address.postalCode,
    postalArea: address.postalArea,
    country: address.country,
  })
}

function withoutNulls<T extends Record<string, string | null>>(o: T): { [K in keyof T]?: string } {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(o)) if (v !== null) out[k] = v
  return out as { [K in keyof T]?: string }
}
