/**
 * The components besides the SBD: each read off the function that writes that JSON (error body, page,
 * statuses, conversations, subscriptions, capabilities, webhook events), or, for request bodies, off
 * the shape that binds them and the validator that checks them.
 */
import { toCapabilities } from '../capabilities/mapper.js'
import { toApiConversation, toApiStatus } from '../conversations/mapper.js'
import { fieldError } from '../errors/api-error.js'
import { errorBody } from '../http/error-body.js'
import { MAX_PAGE_SIZE, toPage } from '../http/paging.js'
import { MAX_REASON_LENGTH } from '../messages/in/reject.js'
import { RECEIPT_STATUSES } from '../sbd/business-schemas.js'
import { MESSAGE_TYPE_NAMES } from '../sbd/message-types.js'
import { SERVICE_IDENTIFIERS } from '../sbd/types.js'
import { pingEvent, statusEvent } from '../webhooks/events.js'
import {
  bindSubscription,
  EVENTS,
  MAX_LENGTH,
  RESOURCES,
  SECRET_LENGTH,
  SUBSCRIPTION_SHAPE,
  subscriptionViolations,
} from '../webhooks/input.js'
import { toApiSubscription } from '../webhooks/mapper.js'
import { type ExampleContext, exampleSchema } from './example-schema.js'
import {
  conversationRow,
  EXAMPLE_EVENT_ID,
  EXAMPLE_TIME,
  serviceRecord,
  statusRow,
  subscriptionRow,
} from './examples.js'
import { type Components, type JsonSchema, probeRequired, ref, shapeSchema } from './json-schema.js'

const TIME = { type: 'string', format: 'date-time' }
const SERVICES = { enum: [...SERVICE_IDENTIFIERS, 'UNKNOWN'] }
const STATUSES = { enum: [...RECEIPT_STATUSES] }
const DIRECTIONS = { enum: ['OUTGOING', 'INCOMING'] }
const OURS = 'Ours, not in the reference: '

const KEYWORDS: Record<string, JsonSchema> = {
  'ErrorBody.timestamp': TIME,
  'MessageStatus.lastUpdate': TIME,
  'MessageStatus.status': STATUSES,
  'ConversationStatus.lastUpdate': TIME,
  'ConversationStatus.status': STATUSES,
  'Conversation.lastUpdate': TIME,
  'Conversation.expiry': TIME,
  'Conversation.direction': DIRECTIONS,
  'Conversation.serviceIdentifier': SERVICES,
  'Subscription.resource': { enum: [...RESOURCES] },
  'Subscription.event': { enum: [...EVENTS] },
  'SubscriptionDelivery.failingSince': TIME,
  'SubscriptionDelivery.lastErrorAt': TIME,
  'SubscriptionDelivery.lastDeliveredAt': TIME,
  'Capability.serviceIdentifier': SERVICES,
  'DocumentType.type': { enum: [...MESSAGE_TYPE_NAMES] },
  'StatusEvent.createdTs': TIME,
  'StatusEvent.direction': DIRECTIONS,
  'StatusEvent.serviceIdentifier': SERVICES,
  'StatusEvent.status': STATUSES,
  'StatusEvent.resource': { const: 'messages' },
  'StatusEvent.event': { const: 'status' },
  'PingEvent.createdTs': TIME,
  'PingEvent.event': { const: 'ping' },
}

const NOTES: Record<string, string> = {
  ErrorBody: 'The reference’s error JSON.',
  'ErrorBody.exception': 'The reference’s Java exception class name; clients branch on it.',
  'ErrorBody.errors': 'One entry per failed constraint or binding.',
  'ErrorBody.description': 'More about the cause, e.g. the ServiceRegistry’s answer.',
  'FieldError.rejectedValue': 'The value refused (any JSON).',
  MessageStatus: 'A status of a message.',
  'MessageStatus.convId': 'The id of the conversation.',
  'MessageStatus.rawReceipt': 'The receipt the status came from, as text.',
  Conversation: 'A conversation: one message and its statuses.',
  'Conversation.sender': 'The full sender identifier, including an on-behalf-of part.',
  'Conversation.senderIdentifier': 'The on-behalf-of organisation when there is one, else the primary one.',
  'Conversation.receiverIdentifier': 'The receiver’s primary identifier (no `0192:`).',
  'Conversation.expiry': 'The message’s `expectedResponseDateTime`.',
  'Conversation.messageStatuses': 'Its statuses (a set: no order is promised).',
  Subscription: 'A webhook subscription. Its `secret` is never shown.',
  'Subscription.filter':
    '`name=value[,value…]` parts joined by `&`; names `status`, `serviceIdentifier`, `direction`.',
  'Subscription.delivery': `${OURS}how deliveries to this subscription fare.`,
  'SubscriptionDelivery.signed': 'Whether deliveries carry the `X-Integrasjonspunkt-Signature` header.',
  'SubscriptionDelivery.givenUp': 'Deliveries given up for good.',
  Capabilities: 'What the receiver can take, per ServiceRegistry record.',
  'Capability.postAddress': 'DPI only.',
  'Capability.returnAddress': 'DPI only.',
  'Capability.digitalPostAddress': 'DPI only: the mailbox supplier and address.',
  'DocumentType.type': 'The message type the standard names; absent when none.',
  StatusEvent: 'Pushed for every new status to the subscriptions that take it.',
  'StatusEvent.id': `${OURS}unique per event and the same in every retry; drop repeats by it.`,
  PingEvent: 'Pushed to a push endpoint when a subscription is created or its endpoint changes.',
  'PingEvent.id': `${OURS}unique per ping.`,
}

const NAMES: Record<string, string> = {
  'ErrorBody.errors[]': 'FieldError',
  'Conversation.messageStatuses[]': 'ConversationStatus',
  'Subscription.delivery': 'SubscriptionDelivery',
  'Capabilities.capabilities[]': 'Capability',
  'Capability.postAddress': 'CapabilityPostalAddress',
  'Capability.returnAddress': 'CapabilityPostalAddress',
  'Capability.documentTypes[]': 'DocumentType',
  'Capability.digitalPostAddress': 'DigitalPostAddress',
}

/** Adds every component but the SBD's; `page` names the `PageOf…` components to make. */
export function addApiSchemas(components: Components, pages: readonly string[]): void {
  const ctx: ExampleContext = { components, names: NAMES, keywords: KEYWORDS, notes: NOTES }
  const now = EXAMPLE_TIME
  const error = fieldError('event', 'OneOf', "'x' is not expected. Allowed values are: [all, status]", 'x')
  exampleSchema(
    'ErrorBody',
    errorBody({
      now,
      status: 400,
      exception: 'x',
      message: 'm',
      path: '/api',
      errors: [error],
      description: 'd',
    }),
    errorBody({ now, status: 404, exception: null, message: undefined, path: '/api' }),
    { ...ctx, replace: { 'FieldError.rejectedValue': {} } },
  )
  const { full: conv, bare: convBare } = conversationRow
  const { full: status, bare: statusBare } = statusRow
  exampleSchema('MessageStatus', toApiStatus(status, conv), toApiStatus(statusBare, convBare), ctx)
  exampleSchema(
    'Conversation',
    toApiConversation(conv, [status]),
    toApiConversation(convBare, [statusBare]),
    ctx,
  )
  const { full: sub, bare: subBare } = subscriptionRow
  exampleSchema('Subscription', toApiSubscription(sub), toApiSubscription(subBare), ctx)
  exampleSchema(
    'Capabilities',
    toCapabilities({ serviceRecords: [serviceRecord.full] }),
    toCapabilities({ serviceRecords: [serviceRecord.bare] }),
    ctx,
  )
  const event = statusEvent(conv, status, EXAMPLE_EVENT_ID)
  exampleSchema('StatusEvent', event, statusEvent(conv, statusBare, EXAMPLE_EVENT_ID), ctx)
  const ping = pingEvent(now.getTime(), EXAMPLE_EVENT_ID)
  exampleSchema('PingEvent', ping, ping, ctx)
  for (const item of pages) addPage(components, item)
  addSubscriptionInputs(components)
  components.define('UnlockRequest', {
    type: 'object',
    description: `${OURS}the messageIds to unlock.`,
    properties: { messageIds: { type: 'array', items: { type: 'string' }, maxItems: MAX_PAGE_SIZE } },
    required: ['messageIds'],
  })
  components.define('RejectRequest', {
    type: 'object',
    description: `${OURS}why the fagsystem cannot take the message; it becomes the FEIL status's description.`,
    properties: { reason: { type: 'string', minLength: 1, maxLength: MAX_REASON_LENGTH } },
    required: ['reason'],
  })
  components.define('UnlockResult', {
    type: 'object',
    description: `${OURS}how many locked messages were unlocked.`,
    properties: { unlocked: { type: 'integer' } },
    required: ['unlocked'],
  })
}

function addPage(components: Components, item: string): void {
  const pageable = { page: 0, size: 10, sort: [{ property: 'id', direction: 'asc' as const }] }
  const page = toPage([], pageable, 0)
  exampleSchema(`PageOf${item}`, page, page, {
    components,
    names: {
      [`PageOf${item}.pageable`]: 'Pageable',
      'Pageable.sort': 'Sort',
      [`PageOf${item}.sort`]: 'Sort',
    },
    notes: { [`PageOf${item}`]: `A page of ${item} as Spring Data writes it.` },
    replace: { [`PageOf${item}.content`]: { type: 'array', items: ref(item) } },
  })
}

/** `POST` (create: the validator's required fields) and `PUT` (update: nothing required) bodies. */
function addSubscriptionInputs(components: Components): void {
  for (const [name, mode] of [
    ['SubscriptionInput', 'create'],
    ['SubscriptionUpdate', 'update'],
  ] as const) {
    const required = probeRequired(SUBSCRIPTION_SHAPE, '', (value) =>
      subscriptionViolations(bindSubscription(value), mode, []).map((e) => ({
        path: e.field,
        constraint: e.code,
      })),
    )
    const k = (field: string) => `${name}.${field}`
    shapeSchema(SUBSCRIPTION_SHAPE, '', {
      components,
      required,
      names: { [SUBSCRIPTION_SHAPE.java]: name },
      notes: {
        [name]:
          mode === 'create'
            ? 'A new subscription. The push endpoint is pinged first and must answer 2xx.'
            : 'Changes to a subscription: a member given replaces the value, an absent or null one keeps it.',
        [k('id')]: mode === 'create' ? 'Must be absent.' : 'Ignored: the path names the subscription.',
        [k('filter')]: NOTES['Subscription.filter']!,
        [k('secret')]:
          `${OURS}signs every delivery with HMAC-SHA256 (header \`X-Integrasjonspunkt-Signature\`); ` +
          'never shown again.' +
          (mode === 'update' ? ' `""` removes it.' : ''),
      },
      keywords: {
        [k('name')]: { maxLength: MAX_LENGTH.name },
        [k('pushEndpoint')]: { format: 'uri', maxLength: MAX_LENGTH.pushEndpoint },
        [k('resource')]: { enum: [...RESOURCES] },
        [k('event')]: { enum: [...EVENTS] },
        [k('filter')]: { maxLength: MAX_LENGTH.filter },
        // `""` is no secret (on update: remove it)
        [k('secret')]: {
          anyOf: [{ maxLength: 0 }, { minLength: SECRET_LENGTH.min, maxLength: SECRET_LENGTH.max }],
        },
      },
    })
  }
}
