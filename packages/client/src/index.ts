/**
 * integrasjonspunkt-client: a typed client for an eFormidling integration point's NextMove API —
 * ours, the sandbox, or Digdir's reference. Start with `new IntegrasjonspunktClient({ url })`.
 */
export {
  bareIdentifier,
  businessMessageOf,
  conversationIdOf,
  messageIdOf,
  processOf,
  receiverOf,
  senderOf,
  typeOf,
  withIds,
} from './accessors.js'
export {
  ARKIVMELDING_FILENAME,
  ARKIVMELDING_NAMESPACE,
  type ArkivmeldingDocument,
  type ArkivmeldingOptions,
  arkivmeldingXml,
  titleOf,
} from './arkivmelding.js'
export {
  arkivmeldingKvitteringMessage,
  arkivmeldingMessage,
  avtaltMessage,
  type BuildSbdInput,
  buildSbd,
  digitalDpvMessage,
  digitalMessage,
  einnsynKvitteringMessage,
  innsynskravMessage,
  isoTime,
  newMessageId,
  partner,
  printMessage,
  publiseringMessage,
} from './build.js'
export { IntegrasjonspunktClient } from './client.js'
export { contentDisposition, mimeTypeOf } from './content-disposition.js'
export {
  ApiError,
  type ApiFieldError,
  apiErrorFor,
  BadRequestError,
  ConflictError,
  type ErrorBody,
  ForbiddenError,
  IntegrasjonspunktError,
  isApiException,
  NetworkError,
  NotFoundError,
  ServerError,
  UnauthorizedError,
  UnsafePackageError,
} from './errors.js'
export type { OutgoingFile, ProgressCallback, ProgressEvent } from './files.js'
export { type ClientOptions, DEFAULT_URL, type TlsOptions } from './http.js'
export type * from './models/api.js'
export * from './models/business-messages.js'
export * from './models/sbd.js'
export type { IncomingMessage, ReceiveFilter, ReceiveOptions } from './receive.js'
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js'
export { MULTIPART_LIMIT, type SendOptions, type SendResult } from './send.js'
export { FINAL_STATUSES, type FollowOptions, isFinalStatus, type StatusContext } from './statuses.js'
export type { Subscriptions } from './subscriptions.js'
export { verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER, type WebhookEvent } from './webhook-receiver.js'
