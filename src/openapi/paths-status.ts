/**
 * The path table of capabilities, statuses, conversations and subscriptions.
 */
import { CAPABILITY_PARAMS, PROTOTYPE_PARAMS } from '../capabilities/routes.js'
import {
  CONVERSATION_PARAMS,
  CONVERSATION_SORT,
  STATUS_PARAMS,
  STATUS_SORT,
} from '../conversations/search.js'
import { BUSINESS_MESSAGE_TYPES } from '../sbd/business-schemas.js'
import { SUBSCRIPTION_SORT } from '../webhooks/repository.js'
import { failure, jsonBody, type Operation, ok, type PathParam } from './operations.js'
import { SBD } from './sbd.js'

const CAPABILITIES = 'Capabilities'
const STATUSES = 'Statuses'
const CONVERSATIONS = 'Conversations'
const SUBSCRIPTIONS = 'Subscriptions'

const numericId = (what: string): PathParam => ({
  name: 'id',
  description: `The ${what}’s numeric id.`,
  schema: { type: 'integer', format: 'int64' },
})
const messageId: PathParam = {
  name: 'messageId',
  description: 'The messageId; a conversationId is accepted too when no message has that messageId.',
}
const statusPaging = { sortable: Object.keys(STATUS_SORT), defaultSort: 'id,asc' }
const conversationPaging = { sortable: Object.keys(CONVERSATION_SORT), defaultSort: 'lastUpdate,desc' }
const statusesOfMessage = {
  summary: 'Every status of a message, both directions',
  paging: statusPaging,
  responses: {
    '200': ok(
      'A page of statuses (empty for an unknown message).',
      'PageOfMessageStatus',
      'application/json;charset=UTF-8',
    ),
  },
} as const

export const STATUS_OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/api/capabilities/{receiverIdentifier}',
    operationId: 'getCapabilities',
    tag: CAPABILITIES,
    summary: 'What a receiver can take, from the ServiceRegistry',
    pathParams: [
      {
        name: 'receiverIdentifier',
        description:
          'An organisation number (no `0192:`), a fødselsnummer/D-nummer or another registry identifier.',
      },
    ],
    query: CAPABILITY_PARAMS,
    responses: {
      '200': ok('The receiver’s capabilities.', 'Capabilities'),
      '400': failure('A parameter is invalid.'),
      '404': failure('The ServiceRegistry does not know the receiver.'),
    },
  },
  {
    method: 'get',
    path: '/api/prototype/{capability}',
    operationId: 'getPrototype',
    tag: CAPABILITIES,
    summary: 'A pre-filled SBD to start a message from',
    ours:
      'the seed design asks for it. Our organisation as sender, fresh ids, the process and document type ' +
      'from the receiver’s capabilities, the default time to live, and every field of the business message.',
    pathParams: [
      {
        name: 'capability',
        description: 'The business message type.',
        schema: { type: 'string', enum: [...BUSINESS_MESSAGE_TYPES] },
      },
    ],
    query: PROTOTYPE_PARAMS,
    responses: {
      '200': ok('The SBD, to fill in and post to `/api/messages/out`.', SBD),
      '400': failure('Unknown type, no receiver, or the receiver does not take that type.'),
      '404': failure('The ServiceRegistry does not know the receiver.'),
    },
  },
  {
    method: 'get',
    path: '/api/statuses',
    operationId: 'searchStatuses',
    tag: STATUSES,
    summary: 'Search message statuses',
    query: STATUS_PARAMS,
    paging: statusPaging,
    responses: {
      '200': ok('A page of statuses.', 'PageOfMessageStatus'),
      '400': failure('A parameter is invalid.'),
    },
  },
  {
    method: 'get',
    path: '/api/statuses/peek',
    operationId: 'peekStatus',
    tag: STATUSES,
    summary: 'The oldest status on the status queue (not removed)',
    description: 'Only services in `difi.move.feature.statusQueueIncludes` are queued.',
    responses: { '200': ok('The status.', 'MessageStatus'), '204': ok('The queue is empty.') },
  },
  {
    method: 'get',
    path: '/api/statuses/{id}',
    operationId: 'statusesOfMessage',
    tag: STATUSES,
    ...statusesOfMessage,
    description: 'Here `id` is the messageId (`DELETE` on this path takes a status id).',
    pathParams: [{ ...messageId, name: 'id' }],
  },
  {
    method: 'get',
    path: '/api/messages/status/{messageId}',
    operationId: 'statusesOfMessageAlias',
    tag: STATUSES,
    ...statusesOfMessage,
    ours: 'the seed design’s name for `GET /api/statuses/{messageId}`.',
    pathParams: [messageId],
  },
  {
    method: 'delete',
    path: '/api/statuses/{id}',
    operationId: 'removeQueuedStatus',
    tag: STATUSES,
    summary: 'Remove a status from the status queue',
    pathParams: [numericId('status')],
    responses: { '200': ok('Removed.'), '404': ok('Not on the queue (no body).') },
  },
  {
    method: 'get',
    path: '/api/conversations',
    operationId: 'searchConversations',
    tag: CONVERSATIONS,
    summary: 'Search conversations',
    query: CONVERSATION_PARAMS,
    paging: conversationPaging,
    responses: {
      '200': ok('A page of conversations.', 'PageOfConversation'),
      '400': failure('A parameter is invalid.'),
    },
  },
  {
    method: 'get',
    path: '/api/conversations/queue',
    operationId: 'pollableConversations',
    tag: CONVERSATIONS,
    summary: 'Conversations whose status is still polled from the transport',
    paging: conversationPaging,
    responses: { '200': ok('A page of conversations.', 'PageOfConversation') },
  },
  {
    method: 'get',
    path: '/api/conversations/{id}',
    operationId: 'getConversation',
    tag: CONVERSATIONS,
    summary: 'An outgoing conversation',
    pathParams: [numericId('conversation')],
    responses: {
      '200': ok('The conversation.', 'Conversation'),
      '404': failure('No such outgoing conversation.'),
    },
  },
  {
    method: 'delete',
    path: '/api/conversations/{id}',
    operationId: 'deleteConversation',
    tag: CONVERSATIONS,
    summary: 'Delete a conversation and its statuses',
    pathParams: [numericId('conversation')],
    responses: { '200': ok('Deleted, or there was none.') },
  },
  {
    method: 'get',
    path: '/api/conversations/messageId/{messageId}',
    operationId: 'getConversationByMessageId',
    tag: CONVERSATIONS,
    summary: 'The outgoing conversation of a message',
    pathParams: [messageId],
    responses: {
      '200': ok('The conversation.', 'Conversation'),
      '404': failure('No such outgoing conversation.'),
    },
  },
  {
    method: 'delete',
    path: '/api/conversations/messageId/{messageId}',
    operationId: 'deleteConversationsByMessageId',
    tag: CONVERSATIONS,
    summary: 'Delete the conversations of a message and their statuses',
    pathParams: [{ name: 'messageId', description: 'The messageId.' }],
    responses: { '200': ok('Deleted, or there were none.') },
  },
  {
    method: 'get',
    path: '/api/subscriptions',
    operationId: 'listSubscriptions',
    tag: SUBSCRIPTIONS,
    summary: 'Webhook subscriptions',
    paging: { sortable: Object.keys(SUBSCRIPTION_SORT) },
    responses: { '200': ok('A page of subscriptions.', 'PageOfSubscription') },
  },
  {
    method: 'post',
    path: '/api/subscriptions',
    operationId: 'createSubscription',
    tag: SUBSCRIPTIONS,
    summary: 'Subscribe a URL to events',
    requestBody: jsonBody('SubscriptionInput'),
    responses: {
      '200': ok('The stored subscription.', 'Subscription'),
      '400': failure('Invalid, the same name and endpoint exist, or the ping failed.'),
    },
  },
  {
    method: 'delete',
    path: '/api/subscriptions',
    operationId: 'deleteAllSubscriptions',
    tag: SUBSCRIPTIONS,
    summary: 'Delete every subscription',
    responses: { '200': ok('Deleted.') },
  },
  {
    method: 'get',
    path: '/api/subscriptions/{id}',
    operationId: 'getSubscription',
    tag: SUBSCRIPTIONS,
    summary: 'A subscription',
    pathParams: [numericId('subscription')],
    responses: { '200': ok('The subscription.', 'Subscription'), '404': failure('No such subscription.') },
  },
  {
    method: 'put',
    path: '/api/subscriptions/{id}',
    operationId: 'updateSubscription',
    tag: SUBSCRIPTIONS,
    summary: 'Change a subscription',
    pathParams: [numericId('subscription')],
    requestBody: jsonBody('SubscriptionUpdate'),
    responses: {
      '200': ok('Changed.'),
      '400': failure('Invalid, or the same name and endpoint exist.'),
      '404': failure('No such subscription.'),
    },
  },
  {
    method: 'delete',
    path: '/api/subscriptions/{id}',
    operationId: 'deleteSubscription',
    tag: SUBSCRIPTIONS,
    summary: 'Delete a subscription',
    pathParams: [numericId('subscription')],
    responses: { '200': ok('Deleted.'), '404': failure('No such subscription.') },
  },
]
