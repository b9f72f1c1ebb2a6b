// A client for the Service Bus REST calls DPE makes (the reference's ServiceBusRestClient): send,
// peek-lock, complete (delete), abandon (unlock) and renew. Every call carries a SAS computed for its URL with the key from the
// given source; every failure becomes a ServiceBusError that says whether a later try may pass.
//
// The REST API has no dead-letter call (only AMQP has one, and the reference's REST mode never
// dead-letters). A message that can never be taken in is abandoned at once, each time
// it comes: Service Bus counts the delivery and, past the queue's MaxDeliveryCount (10 by default),
// moves it to `<queue>/$DeadLetterQueue` itself. `deliveryCount` on each peeked message tells the
// receiver which delivery it holds, so it can record its reason before the last one.

import { Agent, type Dispatcher, request } from 'undici'
import { isTimeout, readCapped } from '../altinn-errors.js'
import { sasAuthorization, sasExpiry } from './sas.js'

/** The SAS key: the ServiceRegistry's `/sastoken` (kept, and reused while the registry is down) or serviceBus.sasToken. */
export interface SasKeySource {
  key(): Promise<string>
  /** forget the key kept: Service Bus refused it (the reference clears its cache on any 401) */
  invalidate(): void
}

export interface ServiceBusClientOptions {
  /** difi.move.nextmove.serviceBus.baseUrl: host, optional port and path prefix, no scheme */
  baseUrl: string
  /** difi.move.nextmove.serviceBus.useHttps */
  useHttps: boolean
  /** difi.move.nextmove.serviceBus.sasKeyName */
  sasKeyName: string
  keys: SasKeySource
  /** difi.move.nextmove.serviceBus.connectTimeout: connect, answer and each pause in a body, as the reference */
  timeoutMs: number
  /** the largest message body read (body.ts maxBodyBytes) */
  maxBodyBytes: number
  /** seconds Service Bus may hold an empty peek open; default the timeout less 5 s (at least 1) */
  peekWaitSeconds?: number
  now?: () => number
}

/** What completes, abandons or renews a peeked message. */
export interface MessageLock {
  messageId: string
  lockToken: string
}

export interface PeekedMessage extends MessageLock {
  /** as text: Service Bus numbers are int64, more than a JavaScript number holds */
  sequenceNumber: string
  /** 1 on the first delivery; one more each time a lock expires or the message is abandoned */
  deliveryCount: number
  body: Buffer
}

export class ServiceBusError extends Error {
  override name = 'ServiceBusError'
  /** HTTP status of the answer; undefined when there was none */
  readonly status: number | undefined
  /** true: the same call may pass later; false: it will fail the same way */
  readonly retryable: boolean

  constructor(message: string, o: { status?: number; retryable: boolean; cause?: unknown }) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause })
    this.status = o.status
    this.retryable = o.retryable
  }
}

/** 401: the key was refused; it is forgotten and fetched from the ServiceRegistry again on the next call. */
export class SasKeyRejectedError extends ServiceBusError {
  override name = 'SasKeyRejectedError'
}

/** 404 on complete, abandon or renew: the lock expired or the message is gone; it will be delivered again if it is there. */
export class LockLostError extends ServiceBusError {
  override name = 'LockLostError'
}

/** A peeked message whose body is over the limit: still locked, so the receiver can abandon it. */
export class MessageTooLargeError extends ServiceBusError {
  override name = 'MessageTooLargeError'
  constructor(
    message: string,
    readonly lock: MessageLock & { deliveryCount: number },
  ) {
    super(message, { status: 201, retryable: false })
  }
}

/**
 * Whether an error answer may pass on a later try. The reference retries every failed send until its
 * retry window closes; we keep that where a later try can differ: 5xx, 408, 429, 401 (with a key
 * fetched again), 403 (Service Bus's quota exceeded: the receiver's queue is full until it reads) and
 * 410 (no such queue: Digdir creates an organisation's queues when it joins eInnsyn). 400 and other
 * 4xx say the request itself is wrong.
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || [401, 403, 408, 410, 429].includes(status)
}

export interface ServiceBusClient {
  /** `POST /{queue}/messages`, any 2xx (Azure: 201) */
  send(queue: string, body: Buffer): Promise<void>
  /** `POST /{queue}/messages/head`: the oldest available message, now locked; null when there is none (204) */
  peekLock(queue: string): Promise<PeekedMessage | null>
  /** `DELETE /{queue}/messages/{messageId}/{lockToken}`: taken in, gone from the queue */
  complete(queue: string, lock: MessageLock): Promise<void>
  /** `PUT /{queue}/messages/{messageId}/{lockToken}`: unlocked now, delivered again */
  abandon(queue: string, lock: MessageLock): Promise<void>
  /** `POST /{queue}/messages/{messageId}/{lockToken}`: the lock extended by the queue's lock duration */
  renewLock(queue: string, lock: MessageLock): Promise<void>
  close(): Promise<void>
}

const QUEUE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const MAX_ERROR_BYTES = 16 * 1024

export function createServiceBusClient(opts: ServiceBusClientOptions): ServiceBusClient {
  // the reference's "<scheme>://" + baseUrl: the base may carry a port and a path prefix
  const base = `${opts.useHttps ? 'https' : 'http'}://${opts.baseUrl.replace(/\/+$/, '')}`
  const { timeoutMs } = opts
  const now = opts.now ?? Date.now
  const wait = opts.peekWaitSeconds ?? Math.max(1, Math.floor(timeoutMs / 1000) - 5)
  const agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })

  const url = (queue: string, rest: string): string => {
    if (!QUEUE.test(queue))
      throw new ServiceBusError(`not a queue name: ${JSON.stringify(queue)}`, { retryable: false })
    return `${base}/${queue}/messages${rest}`
  }
  const lockPath = (lock: MessageLock) =>
    `/${encodeURIComponent(lock.messageId)}/${encodeURIComponent(lock.lockToken)}`

  /** One call; the answer when it is 2xx, else the error it means. */
  const call = async (
    method: 'POST' | 'PUT' | 'DELETE',
    resourceUrl: string,
    o: { query?: string; body?: Buffer; headers?: Record<string, string>; lock?: boolean } = {},
  ): Promise<Dispatcher.ResponseData> => {
    const what = `Service Bus ${method} ${resourceUrl.slice(base.length)}`
    const key = await opts.keys.key().catch((cause: unknown) => {
      throw new ServiceBusError(`${what}: no SAS key: ${(cause as Error).message}`, {
        retryable: true,
        cause,
      })
    })
    const authorization = sasAuthorization({
      resourceUrl,
      keyName: opts.sasKeyName,
      key,
      expiry: sasExpiry(now()),
    })
    let res: Dispatcher.ResponseData
    try {
      res = await request(resourceUrl + (o.query ?? ''), {
        method,
        headers: { authorization, ...o.headers },
        body: o.body,
        dispatcher: agent,
      })
    } catch (cause) {
      const reason = isTimeout(cause)
        ? `timed out after ${timeoutMs} ms`
        : `failed: ${(cause as Error).message}`
      throw new ServiceBusError(`${what} ${reason}`, { retryable: true, cause })
    }
    if (res.statusCode >= 200 && res.statusCode <= 299) return res
    const text = await readCapped(res.body, MAX_ERROR_BYTES).catch(() => '')
    throw answerError(what, res.statusCode, text, { keys: opts.keys, lock: o.lock === true })
  }

  const onLock = async (method: 'PUT' | 'DELETE' | 'POST', queue: string, lock: MessageLock) => {
    const res = await call(method, url(queue, lockPath(lock)), { lock: true })
    await res.body.dump()
  }

  return {
    async send(queue, body) {
      const res = await call('POST', url(queue, ''), {
        body,
        headers: {
          // as the reference: Service Bus assigns the MessageId; no TTL, label or session
          brokerproperties: '{}',
          // ours: the reference sends Spring's default for a byte[] (application/octet-stream);
          // with charset=utf-8 a receiver that reads the body as text does not fall back to ISO-8859-1
          'content-type': 'application/json;charset=utf-8',
        },
      })
      await res.body.dump()
    },
    async peekLock(queue) {
      // ours: ?timeout= so that Azure answers 204 on an empty queue before our timeout, where the
      // reference sends none and waits for its socket timeout; the SAS signs the URL without it
      const res = await call('POST', url(queue, '/head'), { query: `?timeout=${wait}` })
      if (res.statusCode === 204) {
        await res.body.dump()
        return null
      }
      if (res.statusCode !== 200 && res.statusCode !== 201) {
        await res.body.dump()
        throw new ServiceBusError(
          `Service Bus peek-lock on ${queue} answered ${res.statusCode}, not 201 or 204`,
          {
            status: res.statusCode,
            retryable: true,
          },
        )
      }
      let props: Omit<PeekedMessage, 'body'>
      try {
        props = brokerProperties(res.headers.brokerproperties, queue)
      } catch (err) {
        await res.body.dump()
        throw err
      }
      const body = await readLimited(res.body, opts.maxBodyBytes).catch((cause: unknown) => {
        throw new ServiceBusError(`Service Bus peek-lock on ${queue}: reading the message failed`, {
          retryable: true,
          cause,
        })
      })
      if (body === null)
        throw new MessageTooLargeError(
          `message ${props.messageId} on ${queue} is larger than the ${opts.maxBodyBytes} bytes DPE takes in`,
          props,
        )
      return { ...props, body }
    },
    complete: (queue, lock) => onLock('DELETE', queue, lock),
    abandon: (queue, lock) => onLock('PUT', queue, lock),
    renewLock: (queue, lock) => onLock('POST', queue, lock),
    close: () => agent.close(),
  }
}

/** The error an answer means; a 401 also makes the key source forget its key. */
function answerError(
  what: string,
  status: number,
  text: string,
  { keys, lock }: { keys: SasKeySource; lock: boolean },
): ServiceBusError {
  // Azure answers errors as <Error><Code>…</Code><Detail>…</Detail></Error>
  const detail = /<Detail>([\s\S]*?)<\/Detail>/.exec(text)?.[1]?.trim() || text.trim().slice(0, 300)
  const message = `${what} answered ${status}${detail ? `: ${detail}` : ''}`
  if (status === 401) {
    keys.invalidate()
    return new SasKeyRejectedError(
      `${message}; the SAS key is fetched again from the ServiceRegistry (or check ` +
        'difi.move.nextmove.serviceBus.sasKeyName and sasToken) and the call is tried again later',
      { status, retryable: true },
    )
  }
  if (status === 404 && lock)
    return new LockLostError(`${message}: the lock was lost (expired) or the message is gone`, {
      status,
      retryable: false,
    })
  return new ServiceBusError(message, { status, retryable: isRetryableStatus(status) })
}

/**
 * The header Service Bus sends with a locked message. SequenceNumber is read from the text, as digits,
 * before JSON.parse would round an int64; it may come as a number (Azure) or a string.
 */
function brokerProperties(header: string | string[] | undefined, queue: string): Omit<PeekedMessage, 'body'> {
  const text = Array.isArray(header) ? header[0] : header
  let props: Record<string, unknown> = {}
  try {
    props = JSON.parse(text ?? '') as Record<string, unknown>
  } catch {
    props = {}
  }
  const { MessageId: messageId, LockToken: lockToken, DeliveryCount: deliveryCount } = props
  if (typeof messageId !== 'string' || messageId === '' || typeof lockToken !== 'string' || lockToken === '')
    throw new ServiceBusError(
      `Service Bus peek-lock on ${queue} gave no MessageId and LockToken in BrokerProperties: ${text ?? '(none)'}`,
      { retryable: true },
    )
  const sequenceNumber = /"SequenceNumber"\s*:\s*"?(\d+)/.exec(text ?? '')?.[1] ?? ''
  return {
    messageId,
    lockToken,
    sequenceNumber,
    deliveryCount: typeof deliveryCount === 'number' ? deliveryCount : Number(deliveryCount) || 1,
  }
}

/** A body of at most `max` bytes, or null when it is longer (the rest is not read). */
async function readLimited(body: Dispatcher.ResponseData['body'], max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > max) {
      body.destroy()
      return null
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}
