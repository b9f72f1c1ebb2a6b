import { createReadStream, existsSync } from 'node:fs'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { badRequest, conflict, notFound } from './errors.js'
import type { DpiFaults } from './faults.js'
import { bodyOf, documentsOf, type SandboxMessage, toSandboxMessage } from './mapper.js'
import { dpiPage } from './page.js'
import { recipientOf } from './recipient.js'
import {
  type ActionDeps,
  badReceipt,
  failNotification,
  open,
  raiseError,
  returnLetter,
} from './sandbox-actions.js'
import type { LetterRow } from './store.js'

/**
 * For people and scripts, with no credentials (docs/dpi-standin.md, "Sandbox"): each mailbox's and the
 * printer's letters with their documents, what a citizen or the printer does to them (open, a failed
 * notice, a returned letter, an error), receipts the integration point must refuse, faults and reset.
 */
export const SANDBOX_API = '/sandbox/api'

export interface SandboxDeps extends ActionDeps {
  faults: DpiFaults
  baseUrl(): string
  /** forgets every letter and receipt and their files */
  reset(): Promise<void>
}

type Req = FastifyRequest<{
  Params: { id: string; href: string }
  Querystring: Record<string, string | undefined>
  Body: Record<string, unknown> | undefined
}>

export function registerSandbox(app: FastifyInstance, deps: SandboxDeps): void {
  const existing = (id: string) => {
    const letter = deps.store.byId(id)
    if (!letter) throw notFound(`No message ${id}`)
    return letter
  }
  const item = (letter: LetterRow) =>
    toSandboxMessage(letter, deps.store.receiptsOf(letter.id), deps.baseUrl())
  const messages = async (recipient: string | undefined): Promise<SandboxMessage[]> => {
    const letters = deps.store.all()
    if (!recipient) return letters.map(item)
    const matches = await recipientOf(deps.settings.serviceRegistryUrl, recipient)
    return letters.filter((l) => matches(l.type, bodyOf(l))).map(item)
  }

  app.get(`${SANDBOX_API}/messages`, async (req: Req, reply) =>
    json(reply, await messages(req.query.recipient)),
  )
  app.get(`${SANDBOX_API}/messages/:id`, async (req: Req, reply) =>
    json(reply, item(existing(req.params.id))),
  )
  app.get(`${SANDBOX_API}/messages/:id/documents/:href`, async (req: Req, reply) => {
    const d = documentsOf(existing(req.params.id)).find((x) => x.href === req.params.href)
    if (!d || !existsSync(d.path)) throw notFound(`No document ${req.params.href} in ${req.params.id}`)
    return reply
      .header('content-type', d.mime || 'application/octet-stream')
      .header('content-length', d.size)
      .header('content-disposition', `inline; filename="${d.href.replace(/["\\\r\n]/g, '_')}"`)
      .send(createReadStream(d.path))
  })
  app.post(`${SANDBOX_API}/messages/:id/open`, async (req: Req, reply) => {
    const receipt = await open(deps, existing(req.params.id))
    return json(reply, { ...item(existing(req.params.id)), receiptMade: receipt })
  })
  app.post(`${SANDBOX_API}/messages/:id/notification-failed`, async (req: Req, reply) => {
    const body = req.body ?? {}
    const kanal = body.varslingskanal
    if (kanal !== 'epost' && kanal !== 'sms')
      throw badRequest('sandbox', 'varslingskanal must be "epost" or "sms"')
    const beskrivelse = typeof body.beskrivelse === 'string' ? body.beskrivelse : undefined
    await failNotification(deps, existing(req.params.id), kanal, beskrivelse)
    return json(reply, item(existing(req.params.id)))
  })
  app.post(`${SANDBOX_API}/messages/:id/return`, async (req: Req, reply) => {
    await returnLetter(deps, existing(req.params.id))
    return json(reply, item(existing(req.params.id)))
  })
  app.post(`${SANDBOX_API}/messages/:id/error`, async (req: Req, reply) => {
    const body = req.body ?? {}
    const feiltype = body.feiltype ?? 'KLIENT'
    if (feiltype !== 'KLIENT' && feiltype !== 'SERVER')
      throw badRequest('sandbox', 'feiltype must be KLIENT or SERVER')
    const detaljer = typeof body.detaljer === 'string' ? body.detaljer : undefined
    await raiseError(deps, existing(req.params.id), feiltype, detaljer)
    return json(reply, item(existing(req.params.id)))
  })
  app.post(`${SANDBOX_API}/receipts/invalid`, async (req: Req, reply) => {
    const body = req.body ?? {}
    const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined)
    const letter = pickLetter(deps, str(body.messageId), str(body.conversationId), str(body.kanal))
    const receipt = await badReceipt(deps, letter, { kanal: str(body.kanal), garbage: body.garbage === true })
    return json(reply.code(201), {
      id: receipt.id,
      messageId: letter.id,
      kanal: receipt.kanal,
      type: receipt.type,
    })
  })
  app.get(`${SANDBOX_API}/faults`, async (_req, reply) => json(reply, faultView(deps.faults)))
  app.put(`${SANDBOX_API}/faults`, async (req: Req, reply) => {
    setFaults(deps.faults, req.body ?? {})
    return json(reply, faultView(deps.faults))
  })
  app.post(`${SANDBOX_API}/reset`, async (_req, reply) => {
    await deps.reset()
    setFaults(deps.faults, { errorRate: 0, latencyMs: 0, dropResponseRate: 0, feilet: null, only: null })
    return reply.code(204).send()
  })

  app.get('/sandbox', async (req: Req, reply) => {
    const recipient = req.query.recipient || undefined
    const list = await messages(recipient)
    const page = dpiPage(pageView(list, recipient))
    return reply.header('content-type', 'text/html; charset=utf-8').send(page)
  })
  app.post('/sandbox/messages/:id/open', async (req: Req, reply) => {
    await open(deps, existing(req.params.id))
    return reply.redirect('/sandbox', 303)
  })
}

/** mailboxes by address, and the printer's tray; the page's links go through the sandbox's routes */
function pageView(list: SandboxMessage[], recipient: string | undefined) {
  const mailboxes = new Map<string, SandboxMessage[]>()
  for (const m of list.filter((x) => x.type === 'digital'))
    mailboxes.set(m.recipient ?? '', [...(mailboxes.get(m.recipient ?? '') ?? []), m])
  const toPage = (m: SandboxMessage) => ({
    messageId: m.messageId,
    type: m.type,
    status: m.status,
    sender: `0192:${m.sender}`,
    title: m.title,
    received: m.received,
    documents: m.documents,
    receipts: m.receipts,
    ...(m.type === 'digital' && m.status === 'LEVERT'
      ? { openUrl: `/sandbox/messages/${encodeURIComponent(m.messageId)}/open` }
      : {}),
  })
  return {
    mailboxes: [...mailboxes].map(([address, ms]) => ({
      address,
      fnr: recipient ?? null,
      messages: ms.map(toPage),
    })),
    printer: list.filter((x) => x.type === 'utskrift').map(toPage),
  }
}

/** the letter a bad receipt answers: named by id or conversation, else the newest in the kanal (or at all) */
function pickLetter(
  deps: ActionDeps,
  messageId?: string,
  conversationId?: string,
  kanal?: string,
): LetterRow {
  if (messageId) {
    const letter = deps.store.byId(messageId)
    if (!letter) throw notFound(`No message ${messageId}`)
    return letter
  }
  const letters = deps.store.all()
  const letter = conversationId
    ? letters.find((l) => l.conversation_id === conversationId)
    : (letters.find((l) => kanal !== undefined && l.kanal.toLowerCase() === kanal.toLowerCase()) ??
      letters[0])
  if (!letter)
    throw conflict(
      'sandbox',
      'No letter to answer: send one first, or name it by messageId or conversationId',
    )
  return letter
}

/** `only`: the calls the HTTP faults touch: the send, or the acknowledgement of a receipt */
const ONLY = {
  send: (method: string, url: string) => method === 'POST' && /\/messages\/out(\?|$)/.test(url),
  read: (method: string, url: string) => method === 'POST' && /\/messages\/in\/[^/?]+\/read(\?|$)/.test(url),
} as const

function faultView(f: DpiFaults) {
  return {
    errorRate: f.errorRate ?? 0,
    latencyMs: f.latencyMs ?? 0,
    dropResponseRate: f.dropResponseRate ?? 0,
    feilet: f.feilet ?? null,
    only: f.applies === ONLY.read ? 'read' : f.applies ? 'send' : null,
  }
}

/** `{errorRate, latencyMs, dropResponseRate, feilet, only: "send"|"read"|null}`; fields left out stay as they are */
function setFaults(f: DpiFaults, body: Record<string, unknown>): void {
  const rate = (name: string, v: unknown) => {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1))
      throw badRequest('sandbox', `${name} must be a number from 0 to 1`)
    return v
  }
  if ('errorRate' in body) f.errorRate = rate('errorRate', body.errorRate)
  if ('dropResponseRate' in body) f.dropResponseRate = rate('dropResponseRate', body.dropResponseRate)
  if ('latencyMs' in body) {
    if (typeof body.latencyMs !== 'number' || body.latencyMs < 0)
      throw badRequest('sandbox', 'latencyMs must be 0 or more')
    f.latencyMs = body.latencyMs
  }
  if ('feilet' in body) f.feilet = typeof body.feilet === 'string' && body.feilet ? body.feilet : null
  if ('only' in body) {
    if (body.only !== null && body.only !== 'send' && body.only !== 'read')
      throw badRequest('sandbox', 'only must be "send", "read" or null')
    f.applies = body.only === null ? undefined : ONLY[body.only]
  }
}

function json(reply: FastifyReply, value: unknown) {
  return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(value))
}
