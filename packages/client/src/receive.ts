/**
 * Receiving: peek (locks the next message) → pop (its ASiC-E) → delete (acknowledges it; the sender
 * gets LEVERT) or unlock (gives it back). Safe to stop at any point: a message left neither deleted
 * nor unlocked when the loop moves on, breaks, throws or is aborted is unlocked, so it is offered again
 * at once; a killed process leaves its lock to time out on the server (5 minutes by default).
 */
import { randomUUID } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { conversationIdOf, messageIdOf, receiverOf, senderOf, typeOf } from './accessors.js'
import { extractDocuments, writeAtomically } from './asic.js'
import { type Http, parseJson, pause } from './http.js'
import type { Conversation, Page } from './models/api.js'
import type { StandardBusinessDocument } from './models/sbd.js'

export interface ReceiveFilter {
  serviceIdentifier?: string
  process?: string
  conversationId?: string
  messageId?: string
  /** bare organisation number, no `0192:` */
  senderIdentifier?: string
  receiverIdentifier?: string
}

export interface ReceiveOptions {
  filter?: ReceiveFilter
  /** stop when nothing (new) waits, instead of waiting for more */
  once?: boolean
  /** default 2000 */
  pollIntervalMs?: number
  /** ends the iterator */
  signal?: AbortSignal
}

export interface IncomingMessage {
  readonly sbd: StandardBusinessDocument
  readonly messageId: string
  readonly conversationId: string
  readonly type: string
  /** organisation number without `0192:`, or the identifier as it is */
  readonly sender?: string
  readonly receiver?: string
  readonly serviceIdentifier?: string
  /** The ASiC-E (GET pop); undefined when the message has none (receipts, statuses). */
  asic(): Promise<ReadableStream<Uint8Array> | undefined>
  /** Streams the ASiC-E to `path` (temporary file + rename); false when there is none. */
  saveAsic(path: string): Promise<boolean>
  /** Unpacks the ASiC-E's documents (not META-INF, mimetype or manifest.xml) into `dir`; their paths. */
  extract(dir: string): Promise<string[]>
  /** Acknowledges it: the server forgets it and tells the sender LEVERT. */
  delete(): Promise<void>
  /** Gives it back to the queue, to be peeked again at once. */
  unlock(): Promise<void>
  /**
   * Rejects a message that cannot be taken (a package the client refuses to write): the server removes
   * it, records FEIL with `reason` and tells the sender FEIL, where `delete()` would tell it LEVERT.
   * False when the server has no reject (the reference): the message is then unlocked, and will be
   * offered again.
   */
  reject(reason: string): Promise<boolean>
}

class Incoming implements IncomingMessage {
  readonly messageId: string
  readonly conversationId: string
  readonly type: string
  readonly sender?: string
  readonly receiver?: string
  /** deleted or unlocked */
  settled = false

  constructor(
    private readonly http: Http,
    readonly sbd: StandardBusinessDocument,
    readonly serviceIdentifier: string | undefined,
  ) {
    this.messageId = messageIdOf(sbd) ?? ''
    this.conversationId = conversationIdOf(sbd) ?? ''
    this.type = typeOf(sbd)
    this.sender = senderOf(sbd)
    this.receiver = receiverOf(sbd)
  }

  get #path() {
    return encodeURIComponent(this.messageId)
  }

  async asic(): Promise<ReadableStream<Uint8Array> | undefined> {
    const answer = this.http.check(
      await this.http.request({
        method: 'GET',
        path: `/api/messages/in/pop/${this.#path}`,
        headers: { accept: 'application/vnd.etsi.asic-e+zip, application/json;q=0.5' },
        streamResponse: true,
      }),
    )
    if (answer.status === 204 || !answer.stream) {
      await answer.stream?.cancel()
      return undefined
    }
    return answer.stream
  }

  async saveAsic(path: string): Promise<boolean> {
    const stream = await this.asic()
    if (!stream) return false
    await writeAtomically(stream, path)
    return true
  }

  async extract(dir: string): Promise<string[]> {
    const target = resolve(dir)
    await mkdir(target, { recursive: true })
    const zip = join(target, `.${randomUUID()}.asic.zip`)
    try {
      if (!(await this.saveAsic(zip))) return []
      return await extractDocuments(zip, target)
    } finally {
      await rm(zip, { force: true })
    }
  }

  async delete(): Promise<void> {
    const answer = await this.http.request({ method: 'DELETE', path: `/api/messages/in/${this.#path}` })
    // a retried delete whose first attempt landed finds the message gone
    if (!(answer.retried && answer.status === 404)) this.http.check(answer)
    this.settled = true
  }

  async unlock(): Promise<void> {
    const answer = await this.http.request({ method: 'POST', path: `/api/messages/in/unlock/${this.#path}` })
    // the reference has no unlock: there the lock can only run out (404 or 405 for the path)
    if (answer.status === 405 || (answer.status === 404 && !isMessageNotFound(answer.text))) {
      this.settled = true
      return
    }
    this.http.check(answer)
    this.settled = true
  }

  async reject(reason: string): Promise<boolean> {
    const answer = await this.http.request({
      method: 'POST',
      path: `/api/messages/in/reject/${this.#path}`,
      json: { reason: reason.slice(0, MAX_REASON_LENGTH) },
    })
    // the reference has no reject (404 or 405 for the path): give it back rather than acknowledge it
    if (answer.status === 405 || (answer.status === 404 && !isMessageNotFound(answer.text))) {
      await this.unlock()
      return false
    }
    // a retried reject whose first attempt landed finds the message gone
    if (!(answer.retried && answer.status === 404)) this.http.check(answer)
    this.settled = true
    return true
  }
}

/** The longest reason the server takes. */
const MAX_REASON_LENGTH = 1000

function isMessageNotFound(body: string): boolean {
  return body.includes('MessageNotFoundException')
}

/** Peek → yield → (consumer decides) …, as described at the top. */
export async function* receive(
  http: Http,
  opts: ReceiveOptions = {},
): AsyncIterableIterator<IncomingMessage> {
  // messages given back during this run are not offered again by it: held until the round ends,
  // so a message the consumer unlocks does not come straight back and hide the ones behind it
  const givenBack = new Set<string>()
  const held: Incoming[] = []
  const aborted = () => opts.signal?.aborted === true
  try {
    while (!aborted()) {
      const message = await peek(http, opts.filter)
      if (message && givenBack.has(message.messageId)) {
        held.push(message)
        continue
      }
      if (aborted() || !message) {
        await releaseAll(held)
        if (message) await release(message)
        if (aborted() || opts.once || !(await waited(opts.pollIntervalMs ?? 2000, opts.signal))) return
        continue
      }
      try {
        yield message
      } finally {
        // broke out, threw, or moved on without deciding: give it back
        if (!message.settled) await release(message)
        givenBack.add(message.messageId)
      }
    }
  } finally {
    await releaseAll(held)
  }
}

async function peek(http: Http, filter: ReceiveFilter | undefined): Promise<Incoming | undefined> {
  const answer = http.check(
    await http.request({ method: 'GET', path: '/api/messages/in/peek', query: { ...filter } }),
  )
  if (answer.status === 204 || answer.text.trim() === '') return undefined
  const sbd = parseJson<StandardBusinessDocument>(answer)
  return new Incoming(http, sbd, filter?.serviceIdentifier ?? (await serviceOf(http, sbd)))
}

/** The service it came by, from its incoming conversation; undefined when the server does not say. */
async function serviceOf(http: Http, sbd: StandardBusinessDocument): Promise<string | undefined> {
  const messageId = messageIdOf(sbd)
  if (!messageId) return undefined
  const answer = await http
    .request({ method: 'GET', path: '/api/conversations', query: { messageId, direction: 'INCOMING' } })
    .catch(() => undefined)
  if (answer?.status !== 200) return undefined
  return parseJson<Page<Conversation>>(answer).content[0]?.serviceIdentifier
}

/** False when the signal cut the wait short. */
function waited(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return pause(ms, signal).then(
    () => true,
    () => false,
  )
}

async function release(message: Incoming): Promise<void> {
  await message.unlock().catch(() => undefined)
}

async function releaseAll(held: Incoming[]): Promise<void> {
  for (const m of held.splice(0)) await release(m)
}

/**
 * Hands each message to `handler`, which answers 'delete' or 'unlock'; a handler that throws gets its
 * message unlocked and the error rethrown. Returns how many messages were handled.
 */
export async function receiveWith(
  http: Http,
  handler: (m: IncomingMessage) => Promise<'delete' | 'unlock'>,
  opts: ReceiveOptions = {},
): Promise<number> {
  let handled = 0
  for await (const message of receive(http, opts)) {
    let decision: 'delete' | 'unlock'
    try {
      decision = await handler(message)
    } catch (error) {
      await message.unlock().catch(() => undefined)
      throw error
    }
    if (decision === 'delete') await message.delete()
    else await message.unlock()
    handled++
  }
  return handled
}
