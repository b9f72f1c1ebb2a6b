import { SERVICE_IDENTIFIERS, type ServiceIdentifier } from '../sbd/types.js'
import {
  type BrregPostadresse,
  EMPTY_POST_ADDRESS,
  type EntityType,
  type IdentifierResource,
  type InfoRecord,
  type Patient,
  type PostAddress,
  type ServiceRecord,
  type SrService,
} from './types.js'

/**
 * Reads a ServiceRegistry answer the way the reference's Jackson setup does: unknown keys are
 * ignored, scalars are coerced to the declared type (a number where a string is expected becomes
 * its text), an unknown service identifier becomes `UNKNOWN`, a missing key takes the client-side
 * default and an explicit null stays null. Anything else (an object where a string belongs, a
 * list that is not a list) is an {@link SrShapeError} naming the path, never a crash.
 */
export class SrShapeError extends Error {
  override name = 'SrShapeError'
}

type Json = Record<string, unknown>

const BEGIN_CERT = '-----BEGIN CERTIFICATE-----'
const END_CERT = '-----END CERTIFICATE-----'

export function parseIdentifierResource(value: unknown): IdentifierResource {
  const root = object(value, '$')
  if (root === null) throw new SrShapeError('$: expected a JSON object, got null')
  const records = 'serviceRecords' in root ? array(root.serviceRecords, '$.serviceRecords') : null
  return deepFreeze({
    infoRecord: infoRecord(root.infoRecord, '$.infoRecord'),
    serviceRecords: (records ?? []).map((r, i) => serviceRecord(r, `$.serviceRecords[${i}]`)),
  })
}

/**
 * JSON.parse, but accepting raw control characters inside strings as the reference does
 * (`ALLOW_UNQUOTED_CONTROL_CHARS`: ServiceRegistry mocks put PEM newlines into strings unescaped).
 */
export function parseJsonText(raw: string): unknown {
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw
  try {
    return JSON.parse(text)
  } catch (first) {
    const escaped = escapeControlCharsInStrings(text)
    if (escaped === text) throw first
    return JSON.parse(escaped)
  }
}

export function escapeControlCharsInStrings(text: string): string {
  let out = ''
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (inString && c === '\\') {
      out += c + (text[i + 1] ?? '')
      i++
      continue
    }
    if (c === '"') inString = !inString
    const code = c.charCodeAt(0)
    out += inString && code < 0x20 ? `\\u${code.toString(16).padStart(4, '0')}` : c
  }
  return out
}

function serviceRecord(value: unknown, path: string): ServiceRecord {
  const o = object(value, path)
  if (o === null) throw new SrShapeError(`${path}: expected a service record, got null`)
  const documentTypes = 'documentTypes' in o ? array(o.documentTypes, `${path}.documentTypes`) : null
  return {
    organisationNumber: str(o, 'organisationNumber', path, ''),
    pemCertificate: pem(str(o, 'pemCertificate', path, '')),
    process: str(o, 'process', path, null),
    documentTypes: (documentTypes ?? []).map((d, i) => requiredString(d, `${path}.documentTypes[${i}]`)),
    service: service(o.service, `${path}.service`),
    orgnrPostkasse: str(o, 'orgnrPostkasse', path, null),
    postkasseAdresse: str(o, 'postkasseAdresse', path, null),
    epostAdresse: str(o, 'epostAdresse', path, ''),
    mobilnummer: str(o, 'mobilnummer', path, ''),
    fysiskPost: bool(o, 'fysiskPost', path),
    kanVarsles: bool(o, 'kanVarsles', path),
    postAddress: 'postAddress' in o ? postAddress(o.postAddress, `${path}.postAddress`) : EMPTY_POST_ADDRESS,
    returnAddress:
      'returnAddress' in o ? postAddress(o.returnAddress, `${path}.returnAddress`) : EMPTY_POST_ADDRESS,
    spraak: str(o, 'spraak', path, null),
    herId: str(o, 'herId', path, null),
    patient: patient(o.patient, `${path}.patient`),
  }
}

/** A missing or null `service` gives the reference's empty `Service` (identifier `UNKNOWN` here). */
function service(value: unknown, path: string): SrService {
  const o = object(value ?? {}, path) as Json
  return {
    identifier: serviceIdentifier(o.identifier, `${path}.identifier`),
    endpointUrl: str(o, 'endpointUrl', path, ''),
    serviceCode: str(o, 'serviceCode', path, null),
    serviceEditionCode: str(o, 'serviceEditionCode', path, null),
    securityLevel: int(o, 'securityLevel', path),
    resource: str(o, 'resource', path, null),
  }
}

function serviceIdentifier(value: unknown, path: string): ServiceIdentifier {
  if (value === undefined || value === null) return 'UNKNOWN'
  const text = requiredString(value, path)
  return (SERVICE_IDENTIFIERS as readonly string[]).includes(text) ? (text as ServiceIdentifier) : 'UNKNOWN'
}

function postAddress(value: unknown, path: string): PostAddress | null {
  const o = object(value, path)
  if (o === null) return null
  return {
    name: str(o, 'name', path, ''),
    street: str(o, 'street', path, ''),
    postalCode: str(o, 'postalCode', path, ''),
    postalArea: str(o, 'postalArea', path, ''),
    country: str(o, 'country', path, ''),
  }
}

function patient(value: unknown, path: string): Patient | null {
  const o = object(value, path)
  if (o === null) return null
  return {
    fnr: str(o, 'fnr', path, null),
    firstName: str(o, 'firstName', path, null),
    middleName: str(o, 'middleName', path, null),
    lastName: str(o, 'lastName', path, null),
  }
}

function infoRecord(value: unknown, path: string): InfoRecord | null {
  const o = object(value, path)
  if (o === null) return null
  return {
    identifier: str(o, 'identifier', path, null),
    organizationName: str(o, 'organizationName', path, null),
    organizationNumber: str(o, 'organizationNumber', path, null),
    entityType: entityType(o.entityType, `${path}.entityType`),
    postadresse: brregPostadresse(o.postadresse, `${path}.postadresse`),
    parentHerId: int(o, 'parentHerId', path),
    parentOrganizationName: str(o, 'parentOrganizationName', path, null),
    herId: int(o, 'herId', path),
  }
}

function entityType(value: unknown, path: string): EntityType | null {
  const o = object(value, path)
  if (o === null) return null
  return { name: str(o, 'name', path, null), acronym: str(o, 'acronym', path, null) }
}

function brregPostadresse(value: unknown, path: string): BrregPostadresse | null {
  const o = object(value, path)
  if (o === null) return null
  return {
    adresse: str(o, 'adresse', path, null),
    postnummer: str(o, 'postnummer', path, null),
    poststed: str(o, 'poststed', path, null),
    land: str(o, 'land', path, null),
  }
}

/** As the reference's `getPemCertificate()`: a bare base64 body gets BEGIN/END lines. */
function pem(value: string | null): string | null {
  if (value === null || value === '' || value.includes(BEGIN_CERT)) return value
  return `${BEGIN_CERT}\n${value}\n${END_CERT}\n`
}

// --- scalar readers (Jackson's default coercions) ---

function object(value: unknown, path: string): Json | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'object' || Array.isArray(value)) throw shape(path, 'an object', value)
  return value as Json
}

function array(value: unknown, path: string): unknown[] | null {
  if (value === null) return null
  if (!Array.isArray(value)) throw shape(path, 'a list', value)
  return value
}

function str<D extends string | null>(o: Json, key: string, path: string, missing: D): string | D | null {
  if (!(key in o)) return missing
  const v = o[key]
  if (v === null) return null
  return requiredString(v, `${path}.${key}`)
}

function requiredString(v: unknown, path: string): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  throw shape(path, 'a string', v)
}

function int(o: Json, key: string, path: string): number | null {
  const v = o[key]
  if (v === undefined || v === null) return null
  const n = typeof v === 'string' && /^-?\d{1,9}$/.test(v.trim()) ? Number(v.trim()) : v
  if (typeof n === 'number' && Number.isSafeInteger(n)) return n
  throw shape(`${path}.${key}`, 'an integer', v)
}

function bool(o: Json, key: string, path: string): boolean {
  const v = o[key]
  if (v === undefined || v === null) return false
  if (typeof v === 'boolean') return v
  if (v === 'true' || v === 'false') return v === 'true'
  throw shape(`${path}.${key}`, 'a boolean', v)
}

function shape(path: string, expected: string, got: unknown): SrShapeError {
  const kind = got === null ? 'null' : Array.isArray(got) ? 'a list' : typeof got
  return new SrShapeError(`${path}: expected ${expected}, got ${kind}`)
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
