import { randomBytes, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { arkivmeldingXml } from './arkivmelding.js'
import { sha256 } from './exchange.js'
import type { Instance } from './instances.js'
import { arkivmeldingSbd } from './ip.js'

/**
 * The fagsystems of the multi-instance test (issue 15): each request goes to the next instance of the
 * organisation in turn, so one message is created on one instance, uploaded through another and sent
 * through a third, and an incoming one is peeked on one, popped on another and deleted on a third.
 * An instance can be drained (no new requests, the open ones finish) before a test kills it, so
 * every answer the fagsystem waits for comes.
 */
export class Router {
  private turn = 0
  private readonly open = new Map<Instance, number>()
  private readonly out = new Set<Instance>()

  constructor(readonly instances: Instance[]) {}

  /** the next running instance in turn, other than `not` when there is another */
  next(not?: Instance): Instance {
    const live = this.instances.filter((i) => i.running && !this.out.has(i))
    if (live.length === 0) throw new Error('no instance is running')
    const others = live.filter((i) => i !== not)
    const from = others.length > 0 ? others : live
    return from[this.turn++ % from.length]!
  }

  /** runs one request on `instance`, counted as open until it settles */
  async on<T>(instance: Instance, request: (url: string) => Promise<T>): Promise<T> {
    this.open.set(instance, (this.open.get(instance) ?? 0) + 1)
    try {
      return await request(instance.url)
    } finally {
      this.open.set(instance, this.open.get(instance)! - 1)
    }
  }

  /** takes `instance` out of the turn and waits until its open requests have their answers */
  async drain(instance: Instance): Promise<void> {
    this.out.add(instance)
    const until = Date.now() + 60_000
    while ((this.open.get(instance) ?? 0) > 0) {
      if (Date.now() > until) throw new Error(`${instance.name} still has requests open after 60 s`)
      await sleep(10)
    }
  }

  admit(instance: Instance): void {
    this.out.delete(instance)
  }
}

export interface SentMessage {
  from: string
  to: string
  /** filename -> sha256 of what the fagsystem sent */
  files: Map<string, string>
  /** the instances that took its create, uploads and send */
  via: string[]
  acknowledged: boolean
}

export interface TakenMessage {
  times: number
  asic: Buffer
  /** the instances that answered its peek, pop and delete */
  via: string[]
}

/** What both fagsystems did, and what they saw that must never happen. */
export class Ledger {
  readonly sent = new Map<string, SentMessage>()
  readonly taken = new Map<string, TakenMessage>()
  readonly violations: string[] = []
  readonly failures: unknown[] = []
  private readonly held = new Set<string>()

  acknowledged(from: string): number {
    return [...this.sent.values()].filter((s) => s.from === from && s.acknowledged).length
  }

  /** a message a peek locked: never one another loop holds or one already taken */
  hold(id: string, on: string): void {
    if (this.held.has(id)) this.violations.push(`${id} peeked on ${on} while another peek held it`)
    if (this.taken.has(id)) this.violations.push(`${id} peeked on ${on} after it was taken`)
    this.held.add(id)
  }

  take(id: string, asic: Buffer, via: string[]): void {
    this.held.delete(id)
    const before = this.taken.get(id)
    this.taken.set(id, { times: (before?.times ?? 0) + 1, asic, via })
  }
}

/**
 * Sends `count` messages from `router`'s organisation to `to`, `concurrency` at a time: every other
 * one in three steps (create, upload both files, send), the rest as one multipart request.
 */
export async function sendMany(
  router: Router,
  ledger: Ledger,
  opts: { from: string; to: string; count: number; concurrency: number },
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < opts.count) {
      const k = next++
      await sendOne(router, ledger, opts.from, opts.to, k % 2 === 0 ? 'steps' : 'multipart')
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, worker))
}

async function sendOne(
  router: Router,
  ledger: Ledger,
  from: string,
  to: string,
  mode: 'steps' | 'multipart',
) {
  const messageId = randomUUID()
  const xml = Buffer.from(arkivmeldingXml({ files: ['vedlegg.txt'] }))
  // distinct bytes per message, so a receiver that got another message's file is caught by its hash
  const attachment = Buffer.from(`vedlegg til ${messageId}\n${randomBytes(3000).toString('base64')}\n`)
  const sbd = arkivmeldingSbd({ receiver: to, messageId, hoveddokument: 'vedlegg.txt' })
  const entry: SentMessage = {
    from,
    to,
    files: new Map([
      ['arkivmelding.xml', sha256(xml)],
      ['vedlegg.txt', sha256(attachment)],
    ]),
    via: [],
    acknowledged: false,
  }
  ledger.sent.set(messageId, entry)
  const call = async (what: string, path: string, init: RequestInit) => {
    const instance = router.next()
    entry.via.push(instance.name)
    const res = await router.on(instance, (url) => fetch(`${url}${path}`, { ...init, signal: timeout() }))
    if (res.status !== 200)
      throw new Error(
        `${what} of ${messageId} on ${instance.name} answered ${res.status}: ${await res.text()}`,
      )
    await res.arrayBuffer()
  }
  const out = `/api/messages/out`
  if (mode === 'multipart') {
    const form = new FormData()
    form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
    form.append(
      'Arkivmelding',
      new Blob([new Uint8Array(xml)], { type: 'application/xml' }),
      'arkivmelding.xml',
    )
    form.append('Vedlegg', new Blob([new Uint8Array(attachment)], { type: 'text/plain' }), 'vedlegg.txt')
    await call('the multipart send', `${out}/multipart`, { method: 'POST', body: form })
  } else {
    const json = { 'content-type': 'application/json' }
    await call('the create', out, { method: 'POST', headers: json, body: JSON.stringify(sbd) })
    for (const [name, body, type] of [
      ['arkivmelding.xml', xml, 'application/xml'],
      ['vedlegg.txt', attachment, 'text/plain'],
    ] as const) {
      const headers = { 'content-type': type, 'content-disposition': `attachment; filename=${name}` }
      await call(`the upload of ${name}`, `${out}/${messageId}`, {
        method: 'PUT',
        headers,
        body: new Uint8Array(body),
      })
    }
    await call('the send', `${out}/${messageId}`, { method: 'POST' })
  }
  entry.acknowledged = true
}

/**
 * One fagsystem loop taking what comes in: peek on one instance, pop on another, delete on a third,
 * until `stop()` says so and a peek finds nothing.
 */
export async function receiveLoop(router: Router, ledger: Ledger, stop: () => boolean): Promise<void> {
  for (;;) {
    const peekOn = router.next()
    const res = await router.on(peekOn, (url) => fetch(`${url}/api/messages/in/peek`, { signal: timeout() }))
    if (res.status === 204) {
      if (stop()) return
      await sleep(100)
      continue
    }
    if (res.status !== 200)
      throw new Error(`peek on ${peekOn.name} answered ${res.status}: ${await res.text()}`)
    const id = ((await res.json()) as PeekedSbd).standardBusinessDocumentHeader.documentIdentification
      .instanceIdentifier
    ledger.hold(id, peekOn.name)
    const popOn = router.next(peekOn)
    const popped = await router.on(popOn, (url) =>
      fetch(`${url}/api/messages/in/pop/${id}`, { signal: timeout() }),
    )
    if (popped.status !== 200)
      throw new Error(
        `pop of ${id} on ${popOn.name} (peeked on ${peekOn.name}) answered ${popped.status}: ${await popped.text()}`,
      )
    const asic = Buffer.from(await popped.arrayBuffer())
    const deleteOn = router.next(popOn)
    const deleted = await router.on(deleteOn, (url) =>
      fetch(`${url}/api/messages/in/${id}`, { method: 'DELETE', signal: timeout() }),
    )
    if (deleted.status !== 200)
      throw new Error(
        `delete of ${id} on ${deleteOn.name} answered ${deleted.status}: ${await deleted.text()}`,
      )
    ledger.take(id, asic, [peekOn.name, popOn.name, deleteOn.name])
  }
}

type PeekedSbd = {
  standardBusinessDocumentHeader: { documentIdentification: { instanceIdentifier: string } }
}

/** no request to a live instance takes this long; a hung one fails the test instead of hanging it */
const timeout = () => AbortSignal.timeout(30_000)
