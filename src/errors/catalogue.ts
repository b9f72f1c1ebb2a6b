/**
 * The one catalogue of API errors: HTTP status, the reference's Java exception class name (clients
 * switch on it, so it is data, not an accident of our code) and the message template from the
 * reference's messages.properties (Java MessageFormat: `{0}` arguments, `''` for a quote).
 * A template of `null` means the reference has no text for it and prints `--<class>-- [args]`.
 */
const EX = 'no.difi.meldingsutveksling.exceptions.'

export const ERRORS = {
  ConversationNotFound: {
    status: 404,
    exception: `${EX}ConversationNotFoundException`,
    template: 'Conversation with {0} = {1} was not found',
  },
  MessageNotFound: {
    status: 404,
    exception: `${EX}MessageNotFoundException`,
    template: 'Message with {0} = {1} was not found',
  },
  MessageStatusNotFound: {
    status: 404,
    exception: `${EX}MessageStatusNotFoundException`,
    template: 'Message status not found for {0} = {1}',
  },
  SubscriptionNotFound: {
    status: 404,
    exception: `${EX}SubscriptionNotFoundException`,
    template: 'Subscription with {0} = {1} was not found',
  },
  SubscriptionWithSameNameAndPushEndpoint: {
    status: 400,
    exception: `${EX}SubscriptionWithSameNameAndPushEndpointAlreadyExists`,
    template: 'Subscription with same name and push endpoint already exists.',
  },
  FileNotFound: {
    status: 404,
    exception: `${EX}FileNotFoundException`,
    template: 'File(s) named {0} was not found',
  },
  IdentifierNotFound: { status: 404, exception: `${EX}IdentifierNotFoundException`, template: null },
  NoContent: { status: 204, exception: `${EX}NoContentException`, template: 'No content' },
  MessageAlreadyExists: {
    status: 400,
    exception: `${EX}MessageAlreadyExistsException`,
    template: 'Message with {0} = {1} already exists',
  },
  MessageNotLocked: {
    status: 400,
    exception: `${EX}MessageNotLockedException`,
    template: 'Message with {0} = {1} was not locked',
  },
  MessageTypeDoesNotFitDocumentType: {
    status: 400,
    exception: `${EX}MessageTypeDoesNotFitDocumentTypeException`,
    template: 'Message type {0} does not match the document type {1}',
  },
  UnknownMessageType: {
    status: 400,
    exception: `${EX}UnknownMessageTypeException`,
    template: 'Unknown NextMove document type {0}. Expected one of the following values: {1}',
  },
  ServiceNotEnabled: {
    status: 400,
    exception: `${EX}ServiceNotEnabledException`,
    template: 'Service {0} is not enabled',
  },
  ReceiverDoesNotAcceptProcess: {
    status: 400,
    exception: `${EX}ReceiverDoesNotAcceptProcessException`,
    template: 'Receiver do not accept the document process {0}',
  },
  ReceiverDoesNotAcceptDocumentType: {
    status: 400,
    exception: `${EX}ReceiverDoesNotAcceptDocumentType`,
    template: 'Receiver do not accept the document type {0} for the process {1}',
  },
  MissingFile: {
    status: 400,
    exception: `${EX}MissingFileException`,
    template: 'There must always be at least one attachment',
  },
  MissingFileTitle: {
    status: 400,
    exception: `${EX}MissingFileTitleException`,
    template: 'Title is required for the following capabilities: {0}',
  },
  MissingPrimaryDocument: {
    status: 400,
    exception: `${EX}MissingPrimaryDocumentException`,
    template:
      'Missing a primary document. Please specify the hoveddokument property in the business message and verify that is equal to one of the filenames.',
  },
  MultiplePrimaryDocumentsNotAllowed: {
    status: 400,
    exception: `${EX}MultiplePrimaryDocumentsNotAllowedException`,
    template: 'Messages can only contain one primary document',
  },
  MissingArkivmelding: {
    status: 400,
    exception: `${EX}MissingArkivmeldingException`,
    template: 'DPO message type requires arkivmelding.xml attachment',
  },
  MissingArkivmeldingFile: {
    status: 400,
    exception: `${EX}MissingArkivmeldingFileException`,
    template: 'File(s) defined in arkivmelding, but not found in message: {0}',
  },
  MissingSaksmappe: {
    status: 400,
    exception: `${EX}MissingSaksmappeException`,
    template: "Arkivmelding does not contain any instances of 'Saksmappe'",
  },
  UnmarshalArkivmelding: {
    status: 400,
    exception: `${EX}UnmarshalArkivmeldingException`,
    template: 'Unable to unmarshal arkivmelding',
  },
  DuplicateFilename: {
    status: 400,
    exception: `${EX}DuplicateFilenameException`,
    template: 'Filename already exists in message: {0}.',
  },
  MultipartFileToLarge: {
    status: 400,
    exception: `${EX}MultipartFileToLargeException`,
    template:
      "The attachment named ''{0}'' is too large. The maximum size for multipart requests is {1} bytes. Please use the non-multipart API to avoid such problems.",
  },
  MaxFileSizeExceeded: {
    status: 400,
    exception: `${EX}MaxFileSizeExceededException`,
    template:
      'The combined file size for all attachments ({0}) exceeds the maximum allowed upload size for the target service ({1}, {2})',
  },
  TimeToLive: {
    status: 400,
    exception: `${EX}TimeToLiveException`,
    template: 'ExpectedResponseDateTime {0} has been exceeded. Please resend the message',
  },
  MissingHttpHeader: {
    status: 400,
    exception: `${EX}MissingHttpHeaderException`,
    template: "Expected a HTTP header named ''{0}''",
  },
  MessageChannelInvalid: {
    status: 400,
    exception: `${EX}MessageChannelInvalidException`,
    template: 'Valid channels: {0}, but found {1} in SBDH',
  },
  ForsendelseTypeNotFound: {
    status: 400,
    exception: `${EX}ForsendelseTypeNotFoundException`,
    template: 'Found forsendelseType {0}, but valid types are {1}',
  },
  MissingSvarUtCredentials: {
    status: 400,
    exception: `${EX}MissingSvarUtCredentialsException`,
    template: 'SvarUt credentials not configured for orgnr {0}',
  },
  InvalidCertificate: { status: 400, exception: `${EX}InvalidCertificateException`, template: '{0}' },
  NotUUID: {
    status: 400,
    exception: `${EX}NotUUIDException`,
    template: '{0} (value: {1}) is not a valid UUID',
  },
  MissingAddressInformation: {
    status: 400,
    exception: `${EX}MissingAddressInformationException`,
    template: null,
  },
  InvalidContentType: { status: 400, exception: `${EX}InvalidContentTypeException`, template: null },
  InvalidDocument: { status: 400, exception: `${EX}InvalidDocumentException`, template: null },
  Sender: { status: 400, exception: `${EX}SenderException`, template: '{0}' },
  Receiver: { status: 400, exception: `${EX}ReceiverException`, template: '{0}' },
  InputStream: {
    status: 500,
    exception: `${EX}InputStreamException`,
    template: "Reading failed while reading the attachment named ''{0}''",
  },
  MessagePersist: {
    status: 500,
    exception: `${EX}MessagePersistException`,
    template: "Could not persist file named ''{0}''",
  },
  AsicRead: { status: 500, exception: `${EX}AsicReadException`, template: null },

  // Framework (Spring) errors, with the class names the reference's error JSON carries.
  MethodArgumentNotValid: {
    status: 400,
    exception: 'org.springframework.web.bind.MethodArgumentNotValidException',
    template: '{0}',
  },
  ConstraintViolation: {
    status: 400,
    exception: 'jakarta.validation.ConstraintViolationException',
    template: '{0}',
  },
  MessageNotReadable: {
    status: 400,
    exception: 'org.springframework.http.converter.HttpMessageNotReadableException',
    template: '{0}',
  },
  MissingRequestHeader: {
    status: 400,
    exception: 'org.springframework.web.bind.MissingRequestHeaderException',
    // Spring 6 answers with the exception's problem detail (DefaultHandlerExceptionResolver's sendError)
    template: "Required header ''{0}'' is not present.",
  },
  MissingRequestParameter: {
    status: 400,
    exception: 'org.springframework.web.bind.MissingServletRequestParameterException',
    template: "Required parameter ''{0}'' is not present.",
  },
  MissingRequestPart: {
    status: 400,
    exception: 'org.springframework.web.multipart.support.MissingServletRequestPartException',
    template: "Required part ''{0}'' is not present.",
  },
  ArgumentTypeMismatch: {
    status: 400,
    exception: 'org.springframework.web.method.annotation.MethodArgumentTypeMismatchException',
    template: '{0}',
  },
  BindFailed: { status: 400, exception: 'org.springframework.validation.BindException', template: '{0}' },
  IllegalArgument: { status: 400, exception: 'java.lang.IllegalArgumentException', template: '{0}' },
  MultipartFailed: {
    status: 400,
    exception: 'org.springframework.web.multipart.MultipartException',
    template: '{0}',
  },
  UploadTooLarge: {
    status: 413,
    exception: 'org.springframework.web.multipart.MaxUploadSizeExceededException',
    template: 'Maximum upload size exceeded',
  },
  Unauthorized: { status: 401, exception: null, template: 'Unauthorized' },
  NoResourceFound: {
    status: 404,
    exception: 'org.springframework.web.servlet.resource.NoResourceFoundException',
    template: 'No static resource {0}.',
  },
  MethodNotAllowed: {
    status: 405,
    exception: 'org.springframework.web.HttpRequestMethodNotSupportedException',
    template: "Method ''{0}'' is not supported.",
  },
  NotAcceptable: {
    status: 406,
    exception: 'org.springframework.web.HttpMediaTypeNotAcceptableException',
    template: 'Acceptable representations: {0}.',
  },
  UnsupportedMediaType: {
    status: 415,
    exception: 'org.springframework.web.HttpMediaTypeNotSupportedException',
    template: "Content-Type ''{0}'' is not supported.",
  },
  Internal: { status: 500, exception: 'java.lang.RuntimeException', template: '{0}' },

  // Ours: answers the reference does not give; docs/compatibility.md names each (a test checks it).
  ServiceUnavailable: { status: 503, exception: null, template: '{0}', ours: true },
  // the reference has no brake on password guessing: docs/operations.md#security
  TooManyLoginAttempts: {
    status: 429,
    exception: null,
    template: 'Too many failed logins from this address; try again in {0} seconds',
    ours: true,
  },
  // Tomcat routes an absolute-form target as its path; we refuse what no API client sends
  BadRequestTarget: {
    status: 400,
    exception: null,
    template: 'The request target must be a path starting with /',
    ours: true,
  },
  // requests Node's HTTP parser or router refuses, which Tomcat answers with its own HTML page:
  // src/http/client-errors.ts
  RequestTimeout: {
    status: 408,
    exception: null,
    template: 'The request line and headers were not received in time',
    ours: true,
  },
  UriTooLong: { status: 414, exception: null, template: 'The request target is too long', ours: true },
  HeadersTooLarge: {
    status: 431,
    exception: null,
    template: 'The request line and headers are too large',
    ours: true,
  },
  UnparseableRequest: {
    status: 400,
    exception: null,
    template: 'The request could not be parsed: {0}',
    ours: true,
  },
  ServiceRegistryUnavailable: {
    status: 503,
    exception: 'no.difi.meldingsutveksling.serviceregistry.ServiceRegistryLookupException',
    template: '{0}',
    ours: true,
  },
  ServiceRegistryBadAnswer: {
    status: 502,
    exception: 'no.difi.meldingsutveksling.serviceregistry.ServiceRegistryLookupException',
    template: '{0}',
    ours: true,
  },
  // the reference's docs (v4 only logs a failed ping and saves the subscription): docs/webhooks.md
  WebhookPushEndpointPingFailed: {
    status: 400,
    exception: `${EX}WebhookPushEndpointPingFailedException`,
    template: 'Ping failed with: {0}.',
    ours: true,
  },
  MessageAlreadySent: {
    status: 400,
    exception: `${EX}MessageAlreadyExistsException`,
    template: 'Message with {0} = {1} has already been sent; it can no longer be changed',
    ours: true,
  },
  // the reference sends without the file still streaming; we wait for it
  UploadInProgress: {
    status: 409,
    exception: 'java.lang.IllegalStateException',
    template: 'Message with {0} = {1} has a file upload in progress; try again when it has finished',
    ours: true,
  },
  // the reference answers 200 and delivers anyway; the same exception as MessageAlreadySent
  MessageBeingSent: {
    status: 409,
    exception: `${EX}MessageAlreadyExistsException`,
    template: 'Message with {0} = {1} is being sent and can no longer be deleted',
    ours: true,
  },
} as const satisfies Record<string, ErrorDefinition>

export interface ErrorDefinition {
  status: number
  exception: string | null
  template: string | null
  /** an answer of ours where the reference gives another; docs/compatibility.md names it */
  ours?: boolean
}

export type ErrorCode = keyof typeof ERRORS

/** Java's MessageFormat, as the reference resolves its message keys (en locale). */
export function formatMessage(code: ErrorCode, args: readonly unknown[]): string {
  const def: ErrorDefinition = ERRORS[code]
  if (def.template === null) return `--${def.exception}-- [${args.map(javaString).join(', ')}]`
  let out = ''
  const t = def.template
  for (let i = 0; i < t.length; i++) {
    const c = t[i]!
    if (c === "'") {
      if (t[i + 1] === "'") {
        out += "'"
        i++
      }
      continue
    }
    if (c === '{') {
      const end = t.indexOf('}', i)
      const index = Number(t.slice(i + 1, end))
      out += javaString(args[index])
      i = end
      continue
    }
    out += c
  }
  return out
}

function javaString(value: unknown): string {
  if (value === undefined) return `{?}`
  if (value === null) return 'null'
  // MessageFormat formats numbers with grouping in the en locale: 5242880 -> 5,242,880
  if (typeof value === 'number') return value.toLocaleString('en-US')
  return String(value)
}
