/**
 * Constraint violations and the two shapes the reference reports them in: Spring's `FieldError` for a
 * `@Valid @RequestBody` (MethodArgumentNotValidException, codes from `DefaultMessageCodesResolver`), and
 * the integration point's own mapping of a `ConstraintViolationException` (code = annotation name,
 * objectName = property path).
 */
import type { FieldError } from '../errors/api-error.js'

export interface Violation {
  /** property path as Hibernate Validator prints it: `standardBusinessDocumentHeader.sender[].identifier.value` */
  path: string
  /** the constraint annotation's simple name */
  constraint: string
  message: string
  /** the value that failed, as it would be written in JSON */
  invalidValue: unknown
  /** the Java type Spring's BeanWrapper finds for the path; null through a Set (`[]`) */
  fieldType: string | null
}

export const OBJECT_NAME = 'standardBusinessDocument'

export function VALIDATION_FAILED_MESSAGE(n: number): string {
  return `Validation failed for object='${OBJECT_NAME}'. Error count: ${n}`
}

/** `buildFieldList`: the field and the field with each `[...]` removed, innermost first. */
function fieldVariants(field: string): string[] {
  const out = [field]
  let plain = field
  let open = plain.lastIndexOf('[')
  while (open !== -1) {
    const close = plain.indexOf(']', open)
    if (close === -1) break
    plain = plain.slice(0, open) + plain.slice(close + 1)
    out.push(plain)
    open = plain.lastIndexOf('[')
  }
  return out
}

/** Spring's `DefaultMessageCodesResolver.resolveMessageCodes(code, objectName, field, fieldType)`. */
export function messageCodes(
  code: string,
  objectName: string,
  field: string,
  fieldType: string | null,
): string[] {
  const codes = new Set<string>()
  const fields = fieldVariants(field)
  for (const f of fields) codes.add(`${code}.${objectName}.${f}`)
  const dot = field.lastIndexOf('.')
  if (dot !== -1) fields.push(...fieldVariants(field.slice(dot + 1)))
  for (const f of fields) codes.add(`${code}.${f}`)
  if (fieldType !== null) codes.add(`${code}.${fieldType}`)
  codes.add(code)
  return [...codes]
}

/** The FieldError Spring puts in a MethodArgumentNotValidException for `@Valid @RequestBody`. */
export function toSpringFieldError(v: Violation): FieldError {
  return {
    codes: messageCodes(v.constraint, OBJECT_NAME, v.path, v.fieldType),
    defaultMessage: v.message,
    objectName: OBJECT_NAME,
    field: v.path,
    rejectedValue: v.invalidValue,
    bindingFailure: false,
    code: v.constraint,
  }
}

/**
 * The error the reference's `IntegrasjonspunktErrorAttributes` builds from a ConstraintViolation:
 * `new FieldError(objectName = path up to a container element node (`.<map value>`), field = whole path)`.
 */
export function toConstraintFieldError(v: Violation, prefix = ''): FieldError {
  const path = `${prefix}${v.path}`
  const cut = path.indexOf('.<')
  return {
    codes: [v.constraint],
    defaultMessage: v.message,
    objectName: cut >= 0 ? path.slice(0, cut) : path,
    field: path,
    rejectedValue: v.invalidValue,
    bindingFailure: false,
    code: v.constraint,
  }
}
