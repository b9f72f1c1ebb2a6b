/** The client: one object per integration point, every NextMove API call a fagsystem needs. */

import { partner } from './build.js'
import type { OutgoingFile } from './files.js'
import { type ClientOptions, Http, parseJson } from './http.js'
import type {
  Capabilities,
  Conversation,
  ConversationQuery,
  MessageStatus,
  NewSubscription,
  Page,
  StatusQuery,
  Subscription,
} from './models/api.js'
import type { BusinessMessageType } from './models/business-messages.js'
import type { StandardBusinessDocument } from './models/sbd.js'
import { type IncomingMessage, type ReceiveOptions, receive, receiveWith } from './receive.js'
import { getOutgoing, type SendOptions, type SendResult, send } from './send.js'
import { allStatuses, type FollowOptions, followStatuses } from './statuses.js'
import { Subscriptions } from './subscriptions.js'

const id = encodeURIComponent

export class IntegrasjonspunktClient {
  /** the base URL, without a trailing slash */
  readonly url: string
  /** webhook subscriptions (`/api/subscriptions`) */
  readonly subscriptions: Subscriptions
  readonly #http: Http

  constructor(options: ClientOptions = {}) {
    this.#http = new Http(options)
    this.url = this.#http.url
    this.subscriptions = new Subscriptions(this.#http)
  }

  /** What the receiver can take: services, processes and document types (`GET /api/capabilities/{receiver}`). */
  capabilities(
    receiver: string,
    opts: { process?: string; securityLevel?: number } = {},
  ): Promise<Capabilities> {
    return this.#http.json({ method: 'GET', path: `/api/capabilities/${id(receiver)}`, query: { ...opts } })
  }

  /**
   * A pre-filled SBD for a message type to this receiver (`GET /api/prototype/{type}`; this project's
   * server, not the reference). `sender` replaces the server's own organisation (to send on behalf of it).
   */
  async prototype(
    type: BusinessMessageType | string,
    opts: { receiver: string; process?: string; sender?: string },
  ): Promise<StandardBusinessDocument> {
    const sbd = await this.#http.json<StandardBusinessDocument>({
      method: 'GET',
      path: `/api/prototype/${id(type)}`,
      query: { receiverIdentifier: opts.receiver, process: opts.process },
    })
    if (opts.sender !== undefined) sbd.standardBusinessDocumentHeader.sender = [partner(opts.sender)]
    return sbd
  }

  /** Sends a message with its files: see SendOptions; never sends twice, however often it retries. */
  send(
    sbd: StandardBusinessDocument,
    files: readonly OutgoingFile[] = [],
    opts?: SendOptions,
  ): Promise<SendResult> {
    return send(this.#http, sbd, files, opts)
  }

  /** An outgoing message while it waits in the outbox; undefined once it is sent (or unknown). */
  getOutgoing(messageId: string): Promise<StandardBusinessDocument | undefined> {
    return getOutgoing(this.#http, messageId)
  }

  /** Incoming messages, one at a time, locked while you hold them (see ReceiveOptions). */
  receive(opts?: ReceiveOptions): AsyncIterableIterator<IncomingMessage> {
    return receive(this.#http, opts)
  }

  /** Hands each incoming message to `handler`, which decides 'delete' or 'unlock'; returns how many. */
  receiveWith(
    handler: (m: IncomingMessage) => Promise<'delete' | 'unlock'>,
    opts?: ReceiveOptions,
  ): Promise<number> {
    return receiveWith(this.#http, handler, opts)
  }

  /** Every status of a message, oldest first. */
  statuses(messageId: string): Promise<MessageStatus[]> {
    return allStatuses(this.#http, messageId)
  }

  /** Each new status of a message once, until a final one (see isFinalStatus) or the signal. */
  followStatuses(messageId: string, opts?: FollowOptions): AsyncIterableIterator<MessageStatus> {
    return followStatuses(this.#http, messageId, opts)
  }

  /** Searches statuses (`GET /api/statuses`). */
  statusList(query: StatusQuery = {}): Promise<Page<MessageStatus>> {
    return this.#http.json({ method: 'GET', path: '/api/statuses', query: { ...query } })
  }

  /** The oldest status on the status queue, without taking it; undefined when the queue is empty. */
  async peekStatus(): Promise<MessageStatus | undefined> {
    const answer = this.#http.check(await this.#http.request({ method: 'GET', path: '/api/statuses/peek' }))
    return answer.status === 204 || answer.text.trim() === '' ? undefined : parseJson(answer)
  }

  /** Takes a status off the queue (its `id`); a retried delete that finds it gone is fine. */
  async deleteStatus(statusId: number): Promise<void> {
    const answer = await this.#http.request({ method: 'DELETE', path: `/api/statuses/${statusId}` })
    if (!(answer.retried && answer.status === 404)) this.#http.check(answer)
  }

  /** Searches conversations (`GET /api/conversations`). */
  conversations(query: ConversationQuery = {}): Promise<Page<Conversation>> {
    return this.#http.json({ method: 'GET', path: '/api/conversations', query: { ...query } })
  }

  /** The conversation of an outgoing message; undefined when there is none. */
  async conversation(messageId: string): Promise<Conversation | undefined> {
    const path = `/api/conversations/messageId/${id(messageId)}`
    const answer = await this.#http.request({ method: 'GET', path })
    if (answer.status === 404) return undefined
    return parseJson(this.#http.check(answer))
  }

  /** Closes the connections of the TLS agent, if one was made. */
  close(): Promise<void> {
    return this.#http.close()
  }
}

export type { NewSubscription, Subscription }
