/**
 * The subscription a client sends (`POST` and `PUT /api/subscriptions`), bound as Jackson binds the
 * reference's `Subscription` and validated with its constraints: `@Null id` and `@NotNull` name,
 * pushEndpoint, resource and event on create; `@URL`, `@OneOf` and `@WebhookFilter` always. The reference
 * reports them as a MethodArgumentNotValidException with Spring FieldErrors on object `subscription`.
 * Ours, and marked so: http(s) only, the allow-list, lengths, and the optional `secret`.
 */
import { ApiError, type FieldError } from '../errors/api-error.js'
import { BindError, bindObject } from '../sbd/bind.js'
import { long, obj, str } from '../sbd/schema.js'
import { messageCodes } from '../sbd/violations.js'
import { checkEndpoint } from './endpoint.js'
import { isValidFilter } from './filter.js'

export interface SubscriptionInput {
  id: number | null
  name: string | null
  pushEndpoint: string | null
  resource: string | null
  event: string | null
  filter: string | null
  /** ours; on update `""` removes the secret */
  secret: string | null
}

const OBJECT = 'subscription'
const STRING = 'java.lang.String'
export const RESOURCES = ['all', 'messages'] as const
export const EVENTS = ['all', 'status'] as const
export const SECRET_LENGTH = { min: 16, max: 256 }
export const MAX_LENGTH = { name: 255, pushEndpoint: 2048, filter: 1000 }

/** What the body binds into (the OpenAPI document describes the body from it, too). */
export const SUBSCRIPTION_SHAPE = obj('no.difi.meldingsutveksling.domain.webhooks.Subscription', {
  id: long,
  name: str,
  pushEndpoint: str,
  resource: str,
  event: str,
  filter: str,
  secret: str,
})

/** Binds a parsed JSON body; a body of the wrong shape is Jackson's 400 `JSON parse error: …`. */
export function bindSubscription(body: unknown): SubscriptionInput {
  if (body === null || body === undefined) {
    throw new ApiError('MessageNotReadable', ['Required request body is missing'])
  }
  try {
    const v = bindObject(SUBSCRIPTION_SHAPE, body, '')
    const s = (k: string) => (v[k] as string | undefined) ?? null
    return {
      id: (v.id as number | undefined) ?? null,
      name: s('name'),
      pushEndpoint: s('pushEndpoint'),
      resource: s('resource'),
      event: s('event'),
      filter: s('filter'),
      secret: s('secret'),
    }
  } catch (err) {
    if (!(err instanceof BindError)) throw err
    const message = `JSON parse error: ${err.message}`
    throw new ApiError('MessageNotReadable', [message], { message, cause: err })
  }
}

/** Every failed constraint, in field order; empty when the input is fine. */
export function subscriptionViolations(
  input: SubscriptionInput,
  mode: 'create' | 'update',
  allowedHosts: readonly string[],
): FieldError[] {
  const errors: FieldError[] = []
  const add = (field: string, code: string, message: string, value: unknown, type = STRING) =>
    errors.push(fieldError(field, code, message, value, type))
  const required = (field: keyof SubscriptionInput) => {
    if (mode === 'create' && input[field] === null) add(field, 'NotNull', 'must not be null', null)
  }
  required('name')
  tooLong('name', input.name, add)
  if (mode === 'create' && input.id !== null) add('id', 'Null', 'must be null', input.id, 'java.lang.Long')
  required('pushEndpoint')
  if (input.pushEndpoint !== null) endpoint(input.pushEndpoint, allowedHosts, add)
  required('resource')
  oneOf('resource', input.resource, RESOURCES, add)
  required('event')
  oneOf('event', input.event, EVENTS, add)
  if (input.filter !== null && !isValidFilter(input.filter))
    add('filter', 'WebhookFilter', 'Must be a valid filter definition.', input.filter)
  tooLong('filter', input.filter, add)
  const { min, max } = SECRET_LENGTH
  if (input.secret && (input.secret.length < min || input.secret.length > max))
    add('secret', 'Size', `size must be between ${min} and ${max}`, '********')
  return errors
}

type Add = (field: string, code: string, message: string, value: unknown) => void

function endpoint(value: string, allowedHosts: readonly string[], add: Add): void {
  const check = checkEndpoint(value, allowedHosts)
  if (check.ok) {
    tooLong('pushEndpoint', value, add)
    return
  }
  if (check.reason === 'url') add('pushEndpoint', 'URL', 'must be a valid URL', value)
  if (check.reason === 'scheme') add('pushEndpoint', 'URL', 'must be an http or https URL', value)
  if (check.reason === 'host') {
    const host = new URL(value).hostname
    add('pushEndpoint', 'AllowedHost', `host '${host}' is not in difi.move.webhooks.allowed-hosts`, value)
  }
}

function oneOf(field: string, value: string | null, allowed: readonly string[], add: Add): void {
  if (value === null || allowed.includes(value)) return
  add(field, 'OneOf', `'${value}' is not expected. Allowed values are: [${allowed.join(', ')}]`, value)
}

function tooLong(field: keyof typeof MAX_LENGTH, value: string | null, add: Add): void {
  const max = MAX_LENGTH[field]
  if (value !== null && value.length > max) add(field, 'Size', `size must be between 0 and ${max}`, value)
}

function fieldError(field: string, code: string, message: string, value: unknown, type: string): FieldError {
  return {
    codes: messageCodes(code, OBJECT, field, type),
    defaultMessage: message,
    objectName: OBJECT,
    field,
    rejectedValue: value,
    bindingFailure: false,
    code,
  }
}

/** The reference's 400 for a body that fails its constraints. */
export function invalidSubscription(errors: FieldError[]): ApiError {
  const message = `Validation failed for object='${OBJECT}'. Error count: ${errors.length}`
  return new ApiError('MethodArgumentNotValid', [message], { message, errors })
}
