/**
 * A small description of the Java classes the reference binds SBD JSON into (efm-common `sbdh.*` and
 * efm-integrasjonspunkt `nextmove.*`): field names in Jackson's serialisation order (superclass fields
 * first), Java types for error texts, and the few serialisation quirks of the classes' getters.
 * `bind.ts` reads JSON through these shapes and `emit.ts` writes them back.
 */

export type Shape =
  | { k: 'string' }
  | { k: 'int' }
  | { k: 'long' }
  | { k: 'bool' }
  | { k: 'offsetDateTime' }
  | { k: 'instant' }
  | { k: 'localDate' }
  | { k: 'enum'; java: string; values: readonly string[] }
  | { k: 'object'; java: string; fields: Readonly<Record<string, Field>> }
  /** a Java Set or List; `dedupe` when the element class has value equality (Lombok @Data) and it is a Set */
  | { k: 'array'; java: string; of: Shape; dedupe: boolean }
  | { k: 'map'; java: string; of: Shape }
  | { k: 'any' }

export interface Field {
  shape: Shape
  /** value when the member is absent or null (Java field initialisers such as `Maps.newHashMap()`) */
  fallback?: () => unknown
  /** `@JsonInclude(NON_EMPTY)`: an empty array is not written */
  nonEmpty?: boolean
  /** what the getter returns when the field is null (written instead of leaving the member out) */
  whenMissing?: (parent: Record<string, unknown>) => unknown
}

/** The getter creates an empty collection, so a missing one is written as `[]`. */
const emptyArray = (): unknown[] => []

export const str: Shape = { k: 'string' }
export const int: Shape = { k: 'int' }
export const long: Shape = { k: 'long' }
export const bool: Shape = { k: 'bool' }
export const offsetDateTime: Shape = { k: 'offsetDateTime' }
export const instant: Shape = { k: 'instant' }
export const localDate: Shape = { k: 'localDate' }
export const anyValue: Shape = { k: 'any' }

export function f(shape: Shape, options: Omit<Field, 'shape'> = {}): Field {
  return { shape, ...options }
}

export type ObjectShape = Shape & { k: 'object' }

export function obj(java: string, fields: Record<string, Field | Shape>): ObjectShape {
  const out: Record<string, Field> = {}
  for (const [name, v] of Object.entries(fields)) out[name] = 'k' in v ? { shape: v } : v
  return { k: 'object', java, fields: out }
}

export function set(element: ObjectShape, dedupe: boolean): Shape {
  return { k: 'array', java: `java.util.HashSet<${element.java}>`, of: element, dedupe }
}

export function map(java: string, of: Shape): Shape {
  return { k: 'map', java, of }
}

export function enumOf(java: string, values: readonly string[]): Shape {
  return { k: 'enum', java, values }
}

const SBDH = 'no.difi.meldingsutveksling.domain.sbdh.'

export const partnerIdentificationShape = obj(`${SBDH}PartnerIdentification`, { value: str, authority: str })

const contactInformationShape = obj(`${SBDH}ContactInformation`, {
  contact: str,
  emailAddress: str,
  faxNumber: str,
  telephoneNumber: str,
  contactTypeIdentifier: str,
})

export const partnerShape = obj(`${SBDH}Partner`, {
  identifier: partnerIdentificationShape,
  contactInformation: f(set(contactInformationShape, true), { nonEmpty: true }),
})

export const documentIdentificationShape = obj(`${SBDH}DocumentIdentification`, {
  standard: str,
  typeVersion: str,
  instanceIdentifier: str,
  type: str,
  multipleType: bool,
  creationDateAndTime: offsetDateTime,
})

const manifestItemShape = obj(`${SBDH}ManifestItem`, {
  mimeTypeQualifierCode: str,
  uniformResourceIdentifier: str,
  description: str,
  languageCode: str,
})

export const manifestShape = obj(`${SBDH}Manifest`, {
  // `getNumberOfItems()` falls back to the number of items
  numberOfItems: f(long, {
    whenMissing: (m) => (Array.isArray(m.manifestItem) ? m.manifestItem.length : 0),
  }),
  manifestItem: f(set(manifestItemShape, true), { whenMissing: emptyArray }),
})

const correlationInformationShape = obj(`${SBDH}CorrelationInformation`, {
  requestingDocumentCreationDateTime: offsetDateTime,
  requestingDocumentInstanceIdentifier: str,
  expectedResponseDateTime: offsetDateTime,
})

/** Scope has no equals(): a JSON array of equal scopes stays as it is. */
export const scopeShape = obj(`${SBDH}Scope`, {
  type: str,
  instanceIdentifier: str,
  identifier: str,
  scopeInformation: f(set(correlationInformationShape, true), { nonEmpty: true }),
})

export const businessScopeShape = obj(`${SBDH}BusinessScope`, {
  scope: f(set(scopeShape, false), { whenMissing: emptyArray }),
})

/** `getSender()`/`getReceiver()` create an empty set, so the reference writes `[]` for a missing one. */
export const headerShape = obj(`${SBDH}StandardBusinessDocumentHeader`, {
  headerVersion: str,
  sender: f(set(partnerShape, true), { whenMissing: emptyArray }),
  receiver: f(set(partnerShape, true), { whenMissing: emptyArray }),
  documentIdentification: documentIdentificationShape,
  manifest: manifestShape,
  businessScope: businessScopeShape,
})
