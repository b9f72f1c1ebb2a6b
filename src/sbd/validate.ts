/**
 * Bean validation of the SBD header as the reference declares it (efm-common `sbdh.*`),
 * Default group, with the sender converted to group `Partner.Sender` (which adds `@SenderValue`).
 * The business message (`StandardBusinessDocument.any`) carries `@NotNull` but no `@Valid`, so its own
 * constraints are not enforced, except for DPH where NextMoveValidator validates it explicitly.
 */
import { ApiError, constraintViolation, type FieldError } from '../errors/api-error.js'
import { parseDateTime } from '../util/time.js'
import { businessMessageViolations } from './business-constraints.js'
import { emit } from './emit.js'
import { parseIdentifier } from './identifiers.js'
import { isJavaUuid } from './java.js'
import { messageTypeByName } from './message-types.js'
import { headerShape, scopeShape } from './schema.js'
import type { Partner, Scope, ServiceIdentifier, StandardBusinessDocument } from './types.js'
import {
  toConstraintFieldError,
  toSpringFieldError,
  VALIDATION_FAILED_MESSAGE,
  type Violation,
} from './violations.js'

export { VALIDATION_FAILED_MESSAGE }

const H = 'standardBusinessDocumentHeader'
const SBDH = 'no.difi.meldingsutveksling.domain.sbdh.'
const STRING = 'java.lang.String'
const SET = 'java.util.Set'
const SCOPE_TYPES = [
  'JournalpostId',
  'ConversationId',
  'ParentId',
  'SenderRef',
  'ReceiverRef',
  'MessageChannel',
]

class Collector {
  readonly list: Violation[] = []
  add(
    path: string,
    constraint: string,
    message: string,
    invalidValue: unknown,
    fieldType: string | null,
  ): void {
    this.list.push({ path, constraint, message, invalidValue: invalidValue ?? null, fieldType })
  }
  notNull(path: string, value: unknown, fieldType: string | null): boolean {
    if (value !== null && value !== undefined) return true
    this.add(path, 'NotNull', 'must not be null', null, fieldType)
    return false
  }
}

function partners(c: Collector, path: string, list: Partner[] | null | undefined, sender: boolean): void {
  if (!list) return
  if (list.length > 1)
    c.add(path, 'Size', 'size must be between 0 and 1', emit(headerShape.fields.sender!.shape, list), SET)
  for (const partner of list) {
    const at = `${path}[]`
    if (c.notNull(`${at}.identifier`, partner.identifier, null)) {
      const { value, authority } = partner.identifier!
      c.notNull(`${at}.identifier.value`, value, null)
      c.notNull(`${at}.identifier.authority`, authority, null)
      // @SenderValue: the value must parse as some identifier (PartnerIdentifier.isValid, any authority)
      if (sender && typeof value === 'string' && parseIdentifier(value) === undefined) {
        c.add(
          `${at}.identifier.value`,
          'SenderValue',
          `'${value}' is not a valid sender identifier.`,
          value,
          null,
        )
      }
    }
    for (const contact of partner.contactInformation ?? [])
      c.notNull(`${at}.contactInformation[].contact`, contact.contact, null)
  }
}

function documentIdentification(c: Collector, sbd: StandardBusinessDocument): void {
  const path = `${H}.documentIdentification`
  const di = sbd.standardBusinessDocumentHeader.documentIdentification
  if (!c.notNull(path, di, `${SBDH}DocumentIdentification`)) return
  c.notNull(`${path}.standard`, di!.standard, STRING)
  c.notNull(`${path}.typeVersion`, di!.typeVersion, STRING)
  const id = di!.instanceIdentifier
  if (typeof id === 'string' && !isJavaUuid(id))
    c.add(`${path}.instanceIdentifier`, 'UUID', `'${id}' is not a UUID.`, id, STRING)
  c.notNull(`${path}.type`, di!.type, STRING)
  if (messageTypeByName(di!.type) === undefined) {
    c.add(`${path}.type`, 'MessageType', 'Must be a NextMove message type', di!.type, STRING)
  }
}

function manifest(c: Collector, sbd: StandardBusinessDocument): void {
  const m = sbd.standardBusinessDocumentHeader.manifest as { manifestItem?: Record<string, unknown>[] } | null
  if (!m) return
  const path = `${H}.manifest.manifestItem`
  if (!m.manifestItem || m.manifestItem.length === 0) {
    c.add(path, 'NotEmpty', 'must not be empty', m.manifestItem ?? null, SET)
  }
  for (const item of m.manifestItem ?? []) {
    c.notNull(`${path}[].mimeTypeQualifierCode`, item.mimeTypeQualifierCode, null)
    c.notNull(`${path}[].uniformResourceIdentifier`, item.uniformResourceIdentifier, null)
  }
}

function scope(c: Collector, s: Scope, now: Date): void {
  const at = `${H}.businessScope.scope[]`
  if (c.notNull(`${at}.type`, s.type, null) && !SCOPE_TYPES.includes(s.type!)) {
    const message = `'${s.type}' is not expected. Allowed values are: [${SCOPE_TYPES.join(', ')}]`
    c.add(`${at}.type`, 'OneOf', message, s.type, null)
  }
  // class-level @SbdScopeConditionalInstanceIdentifierUuid; the reference prints the whole Scope.toString()
  // in the message, we print the offending instanceIdentifier as the message intends
  const id = s.instanceIdentifier
  if (s.type === 'ConversationId' && typeof id === 'string' && !isJavaUuid(id)) {
    c.add(
      at,
      'SbdScopeConditionalInstanceIdentifierUuid',
      `'${id}' is not a UUID.`,
      emit(scopeShape, s),
      null,
    )
  }
  for (const info of s.scopeInformation ?? []) {
    const when = info.expectedResponseDateTime
    const parsed = typeof when === 'string' ? parseDateTime(when) : undefined
    if (parsed && parsed.instant <= now.getTime()) {
      c.add(
        `${at}.scopeInformation[].expectedResponseDateTime`,
        'Future',
        'must be a future date',
        when,
        null,
      )
    }
  }
}

function businessScope(c: Collector, sbd: StandardBusinessDocument, now: Date): void {
  const bs = sbd.standardBusinessDocumentHeader.businessScope
  if (!c.notNull(`${H}.businessScope`, bs, `${SBDH}BusinessScope`)) return
  const path = `${H}.businessScope.scope`
  if (!c.notNull(path, bs!.scope, SET)) return
  if (bs!.scope!.length < 1) {
    c.add(path, 'Size', 'size must be between 1 and 2147483647', [], SET)
  }
  for (const s of bs!.scope!) scope(c, s, now)
}

/** Every violation of the header's Default-group constraints, in declaration order. */
export function headerViolations(sbd: StandardBusinessDocument, now: Date): Violation[] {
  const c = new Collector()
  const h = sbd.standardBusinessDocumentHeader
  c.notNull(`${H}.headerVersion`, h.headerVersion, STRING)
  partners(c, `${H}.sender`, h.sender, true)
  partners(c, `${H}.receiver`, h.receiver, false)
  documentIdentification(c, sbd)
  manifest(c, sbd)
  businessScope(c, sbd, now)
  return c.list
}

/**
 * The controller's `@Valid @RequestBody` validation (Default group) as Spring reports it: a
 * MethodArgumentNotValidException with these FieldErrors and `VALIDATION_FAILED_MESSAGE(n)`.
 */
export function validateSbd(sbd: StandardBusinessDocument, now: Date): FieldError[] {
  return headerViolations(sbd, now).map(toSpringFieldError)
}

/** The same checks through method validation (multipart `sbd` part): ConstraintViolation entries. */
export function validateSbdAsParameter(
  sbd: StandardBusinessDocument,
  prefix: string,
  now: Date,
): FieldError[] {
  return headerViolations(sbd, now).map((v) => toConstraintFieldError(v, prefix))
}

/** The business message's own Default-group constraints (the reference checks them only for DPH). */
export function validateBusinessMessage(sbd: StandardBusinessDocument): FieldError[] {
  return businessMessageViolations(sbd.type, sbd.businessMessage).map((v) => toConstraintFieldError(v))
}

/**
 * NextMoveValidator's group validation (checks #6 and, for DPH, part of #12 in rules.ts): the service
 * and message-type groups add no header constraint over Default, and the business message is validated
 * only for DPH, mirroring the reference's leniency on other business messages' `@NotNull` fields.
 */
export function validateForService(
  sbd: StandardBusinessDocument,
  si: ServiceIdentifier,
  now: Date,
): FieldError[] {
  const errors = headerViolations(sbd, now).map((v) => toConstraintFieldError(v))
  return si === 'DPH' && errors.length === 0 ? validateBusinessMessage(sbd) : errors
}

/** The 400 for `validateSbd` errors. */
export function methodArgumentNotValid(errors: FieldError[]): ApiError {
  const message = VALIDATION_FAILED_MESSAGE(errors.length)
  return new ApiError('MethodArgumentNotValid', [message], { message, errors })
}

/** The 400 for `validateForService`/`validateSbdAsParameter` errors (message `path: text, …`). */
export function constraintViolationError(errors: FieldError[]): ApiError {
  return constraintViolation(errors)
}
