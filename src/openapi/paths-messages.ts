/** The path table of `/api/messages/**`: sending and receiving. */
import { MESSAGE_SORT } from '../db/page-query.js'
import { IN_FILTER_PARAMS } from '../messages/in/filter.js'
import { OUT_FILTER_PARAMS, UPLOAD_PARAMS } from '../messages/out/routes.js'
import { failure, jsonBody, type Operation, ok, type PathParam } from './operations.js'
import { SBD } from './sbd.js'

const OUT = 'Sending'
const IN = 'Receiving'

const messageId: PathParam = {
  name: 'messageId',
  description: 'The messageId (`documentIdentification.instanceIdentifier`).',
}
const messageIdOrConversationId: PathParam = {
  name: 'messageId',
  description: 'The messageId; a conversationId is accepted too when no message has that messageId.',
}

const create = {
  summary: 'Create a message (step 1 of 3)',
  description:
    'Stores the SBD with the defaults filled in (sender, messageId, conversationId, creation time, ' +
    '`expectedResponseDateTime`) and creates its conversation with status OPPRETTET. Upload the files ' +
    'next, then send.',
  requestBody: jsonBody(SBD),
  responses: {
    '200': ok('The stored SBD, with the defaults.', SBD),
    '400': failure('The SBD is invalid, or the receiver does not take it.'),
    '415': failure('Not JSON.'),
  },
} as const

export const MESSAGE_OPERATIONS: Operation[] = [
  { method: 'post', path: '/api/messages/out', operationId: 'createMessage', tag: OUT, ...create },
  {
    method: 'post',
    path: '/api/messages',
    operationId: 'createMessageAlias',
    tag: OUT,
    ...create,
    summary: 'Create a message (alias)',
    ours: 'the seed design’s name for `POST /api/messages/out`.',
  },
  {
    method: 'post',
    path: '/api/messages/out/multipart',
    operationId: 'createAndSendMessage',
    tag: OUT,
    summary: 'Create and send a message in one request',
    description:
      'The `sbd` part is the SBD (JSON); every other part is a file: its part name is the title, its ' +
      'filename the name in the ASiC-E, its Content-Type the MIME type; at most 5 MiB each. All or ' +
      'nothing: a refused request stores nothing (the reference keeps the message).',
    requestBody: {
      required: true,
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            properties: { sbd: { $ref: `#/components/schemas/${SBD}` } },
            required: ['sbd'],
            additionalProperties: {
              type: 'string',
              format: 'binary',
              contentMediaType: 'application/octet-stream',
            },
          },
          encoding: { sbd: { contentType: 'application/json' } },
        },
      },
    },
    responses: {
      '200': ok('The stored SBD; the message is queued for sending.', SBD),
      '400': failure('The SBD or a file is refused.'),
    },
  },
  {
    method: 'get',
    path: '/api/messages/out',
    operationId: 'listOutgoingMessages',
    tag: OUT,
    summary: 'Outgoing messages not yet handed to the transport',
    query: OUT_FILTER_PARAMS,
    paging: { sortable: Object.keys(MESSAGE_SORT) },
    responses: { '200': ok('A page of SBDs.', `PageOf${SBD}`), '400': failure('A parameter is invalid.') },
  },
  {
    method: 'get',
    path: '/api/messages/out/{messageId}',
    operationId: 'getOutgoingMessage',
    tag: OUT,
    summary: 'An outgoing message not yet handed to the transport',
    pathParams: [messageIdOrConversationId],
    responses: { '200': ok('Its SBD.', SBD), '404': failure('No such message.') },
  },
  {
    method: 'put',
    path: '/api/messages/out/{messageId}',
    operationId: 'uploadFile',
    tag: OUT,
    summary: 'Upload one file (step 2 of 3)',
    description:
      'The body is the file, streamed as it is (not multipart); its Content-Type (required) is the MIME ' +
      'type, `application/octet-stream` or none derives it from the filename.',
    pathParams: [messageId],
    headers: [
      {
        name: 'Content-Disposition',
        required: true,
        description: "`attachment; name=<title>; filename=<filename>` (RFC 6266; `filename*=UTF-8''…` too).",
      },
    ],
    query: UPLOAD_PARAMS,
    requestBody: { required: true, content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
    responses: {
      '200': ok('Stored.'),
      '400': failure('The file is refused (name, size, type, …).'),
      '404': failure('No such message.'),
    },
  },
  {
    method: 'post',
    path: '/api/messages/out/{messageId}',
    operationId: 'sendMessage',
    tag: OUT,
    summary: 'Send a created message (step 3 of 3)',
    description: 'Queues the message for its transport. Sending it again is a 200 that does nothing.',
    pathParams: [messageId],
    responses: {
      '200': ok('Queued.'),
      '400': failure('The message is not complete, or its time to live has passed.'),
      '404': failure('No such message.'),
      '409': failure('A file is still being uploaded to the message; send when the upload has finished.'),
    },
  },
  {
    method: 'delete',
    path: '/api/messages/out/{messageId}',
    operationId: 'deleteOutgoingMessage',
    tag: OUT,
    summary: 'Delete an outgoing message and its files',
    description:
      'Idempotent; the conversation and its statuses stay. A queued send that has not started is ' +
      'cancelled with the message, and so is an upload still streaming to it; a send that has started ' +
      'is not, and the answer is 409.',
    pathParams: [messageId],
    responses: {
      '200': ok('Deleted, or there was none.'),
      '409': failure('Its send has started and will finish.'),
    },
  },
  {
    method: 'get',
    path: '/api/messages/in',
    operationId: 'listIncomingMessages',
    tag: IN,
    summary: 'Incoming messages, locked or not',
    query: IN_FILTER_PARAMS,
    paging: { sortable: Object.keys(MESSAGE_SORT) },
    responses: { '200': ok('A page of SBDs.', `PageOf${SBD}`), '400': failure('A parameter is invalid.') },
  },
  {
    method: 'get',
    path: '/api/messages/in/peek',
    operationId: 'peekIncomingMessage',
    tag: IN,
    summary: 'Lock the oldest unlocked incoming message and get its SBD',
    description: 'The lock lasts `difi.move.nextmove.lockTimeoutMinutes`.',
    query: IN_FILTER_PARAMS,
    responses: {
      '200': ok('The locked message’s SBD.', SBD),
      '204': ok('No message waits.'),
      '400': failure('A parameter is invalid.'),
    },
  },
  {
    method: 'get',
    path: '/api/messages/in/pop/{messageId}',
    operationId: 'popIncomingMessage',
    tag: IN,
    summary: 'Download the ASiC-E of a locked message',
    pathParams: [messageId],
    responses: {
      '200': {
        description: 'The decrypted ASiC-E (`Content-Disposition: attachment; filename=asic.zip`).',
        content: { 'application/vnd.etsi.asic-e+zip': { schema: { type: 'string', format: 'binary' } } },
      },
      '204': ok('The message carries no files (a receipt, a status).'),
      '400': failure('The message is not locked.'),
      '404': failure('No such message.'),
    },
  },
  ...['/api/messages/in/{messageId}', '/api/in/messages/{messageId}'].map(
    (path): Operation => ({
      method: 'delete',
      path,
      operationId: path.startsWith('/api/in') ? 'deleteIncomingMessageAlias' : 'deleteIncomingMessage',
      tag: IN,
      summary: 'Acknowledge a locked message: it is removed and the sender told LEVERT',
      ...(path.startsWith('/api/in')
        ? { ours: 'the seed design’s name for `DELETE /api/messages/in/{messageId}`.' }
        : {}),
      pathParams: [messageId],
      responses: {
        '200': ok('The removed message’s SBD.', SBD),
        '400': failure('The message is not locked.'),
        '404': failure('No such message.'),
      },
    }),
  ),
  {
    method: 'post',
    path: '/api/messages/in/unlock/{messageId}',
    operationId: 'unlockIncomingMessage',
    tag: IN,
    summary: 'Give a peeked message back to the queue',
    ours: 'the reference has no unlock; its locks only expire.',
    pathParams: [messageId],
    responses: { '200': ok('The message’s SBD, now unlocked.', SBD), '404': failure('No such message.') },
  },
  {
    method: 'post',
    path: '/api/messages/in/reject/{messageId}',
    operationId: 'rejectIncomingMessage',
    tag: IN,
    summary: 'Reject a locked message the fagsystem cannot take: it is removed with FEIL and the reason',
    ours:
      'the reference has no way to say a message cannot be taken: DELETE tells the sender LEVERT. ' +
      'The conversation gets FEIL with the reason, and the sender a FEIL status where DELETE would send LEVERT.',
    pathParams: [messageId],
    requestBody: jsonBody('RejectRequest'),
    responses: {
      '200': ok('The removed message’s SBD.', SBD),
      '400': failure('The message is not locked, or the body has no reason.'),
      '404': failure('No such message.'),
    },
  },
  {
    method: 'post',
    path: '/api/messages/in/unlock',
    operationId: 'unlockIncomingMessages',
    tag: IN,
    summary: 'Unlock locked messages: those named in the body, or all matching the filters',
    ours: 'the reference has no unlock; its locks only expire.',
    query: IN_FILTER_PARAMS,
    requestBody: { ...jsonBody('UnlockRequest'), required: false },
    responses: {
      '200': ok('How many were unlocked.', 'UnlockResult'),
      '400': failure('The body is invalid.'),
    },
  },
]
