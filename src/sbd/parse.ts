/**
 * Reading and writing the SBD JSON, with the root rules of efm-common's
 * `StandardBusinessDocumentDeserializer`: the root holds exactly the header and one business
 * message, in either order; with the header first its `documentIdentification.type` (any case) names the
 * next member, which must be spelt as the canonical type; with the business message first its key names
 * the type. Every failure is a 400 `HttpMessageNotReadableException` (the reference lets some of them
 * escape as 500).
 */
import { ApiError } from '../errors/api-error.js'
import { BindError, bindObject, isPlainObject, setOwn, tokenOf } from './bind.js'
import {
  BUSINESS_MESSAGE_TYPES,
  type BusinessMessageTypeName,
  businessMessageShape,
  businessMessageTypeOf,
} from './business-schemas.js'
import { emitObject } from './emit.js'
import { messageTypeByName } from './message-types.js'
import { headerShape } from './schema.js'
import type { StandardBusinessDocument, StandardBusinessDocumentHeader } from './types.js'

export const HEADER_MEMBER = 'standardBusinessDocumentHeader'

function notReadable(detail: string, cause?: unknown): ApiError {
  const message = `JSON parse error: ${detail}`
  return new ApiError('MessageNotReadable', [message], { message, cause })
}

function typeOf(name: string | null | undefined): BusinessMessageTypeName {
  const type = businessMessageTypeOf(name)
  if (type === undefined) {
    throw new BindError(
      `Unknown BusinessMessageType = ${name ?? null}. Expecting one of ${BUSINESS_MESSAGE_TYPES.join(',')}`,
      '',
    )
  }
  return type
}

function expectMember(keys: string[], index: number, expected: string): void {
  const name = keys[index]
  if (name === undefined)
    throw new BindError(`Expected to find field named ${expected}, but found END_OBJECT`, '')
  if (name !== expected)
    throw new BindError(`Expected to find field named ${expected}, but found ${name}`, name)
}

function readMember(root: Record<string, unknown>, name: string, shape: Parameters<typeof bindObject>[0]) {
  const value = root[name]
  if (!isPlainObject(value))
    throw new BindError(`Expected token START_OBJECT, but found ${tokenOf(value)}`, name)
  return bindObject(shape, value, name)
}

function headerType(header: Record<string, unknown>): string | undefined {
  const di = header.documentIdentification as Record<string, unknown> | undefined
  return typeof di?.type === 'string' ? di.type : undefined
}

function parseRoot(input: unknown): StandardBusinessDocument {
  if (!isPlainObject(input))
    throw new BindError(`Expected token START_OBJECT, but found ${tokenOf(input)}`, '')
  const keys = Object.keys(input)
  let type: BusinessMessageTypeName
  let header: Record<string, unknown>
  let businessMessage: Record<string, unknown>
  if (keys[0] === HEADER_MEMBER) {
    header = readMember(input, HEADER_MEMBER, headerShape)
    const name = headerType(header)
    if (name === undefined)
      throw new BindError('Missing type!', `${HEADER_MEMBER}.documentIdentification.type`)
    type = typeOf(name)
    expectMember(keys, 1, type)
    businessMessage = readMember(input, type, businessMessageShape(type))
  } else {
    type = typeOf(keys[0])
    expectMember(keys, 0, type)
    businessMessage = readMember(input, type, businessMessageShape(type))
    expectMember(keys, 1, HEADER_MEMBER)
    header = readMember(input, HEADER_MEMBER, headerShape)
    // The reference does not compare the two here and then fails later (ClassCastException, 500) or treats
    // the message as the header's type; we refuse a header naming another known type.
    const named = messageTypeByName(headerType(header))
    if (named !== undefined && named !== type) {
      throw new BindError(
        `Business message '${type}' does not match documentIdentification.type '${headerType(header)}'`,
        type,
      )
    }
  }
  if (keys.length > 2) throw new BindError('Expected token END_OBJECT, but found FIELD_NAME', keys[2]!)
  return { standardBusinessDocumentHeader: header as StandardBusinessDocumentHeader, type, businessMessage }
}

/**
 * Binds an already JSON-parsed request body into an SBD as the reference's Jackson setup does.
 * Throws `ApiError('MessageNotReadable')` (`JSON parse error: …`, naming the member) for anything else.
 */
export function parseSbd(input: unknown): StandardBusinessDocument {
  try {
    return parseRoot(input)
  } catch (err) {
    if (err instanceof BindError) throw notReadable(err.message)
    throw err
  }
}

/** `JSON.parse` plus `parseSbd`, for callers holding the text. */
export function parseSbdJson(text: string): StandardBusinessDocument {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw notReadable(err instanceof Error ? err.message : String(err), err)
  }
  return parseSbd(value)
}

/**
 * The JSON object the API returns for an SBD: the header first, then the business message under its
 * canonical type name (the reference writes the header's `type` as given; a differently cased one would
 * not parse back, so we write the canonical name).
 */
export function serializeSbd(sbd: StandardBusinessDocument): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  out[HEADER_MEMBER] = emitObject(headerShape, sbd.standardBusinessDocumentHeader as Record<string, unknown>)
  const type = businessMessageTypeOf(sbd.type)
  setOwn(
    out,
    type ?? sbd.type,
    type ? emitObject(businessMessageShape(type), sbd.businessMessage) : { ...sbd.businessMessage },
  )
  return out
}
