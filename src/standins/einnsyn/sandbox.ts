import type { FastifyInstance, FastifyReply } from 'fastify'
import { esc } from '../page-text.js'
import { EINNSYN_QUEUES } from './consumer.js'
import { InnsynskravRequest } from './innsynskrav.js'
import { EinnsynError } from './keys.js'
import type { EinnsynStore, InnsynskravRow, OtherRow, PubliseringRow, StatusRow } from './store.js'

/**
 * For people and scripts, with no credentials (docs/einnsyn-standin.md): send an innsynskrav, see the
 * ones sent with the statuses that came back, the publiseringer taken in with their answers, and the
 * other messages read. The only place rows become API and page shapes.
 */
export function registerEinnsynSandbox(
  app: FastifyInstance,
  store: EinnsynStore,
  send: (
    request: InnsynskravRequest,
  ) => Promise<{ messageId: string; conversationId: string; queue: string }>,
): void {
  app.post('/sandbox/api/innsynskrav', async (req, reply) => {
    const parsed = InnsynskravRequest.safeParse(req.body)
    if (!parsed.success)
      return json(reply.code(400), {
        error: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      })
    try {
      return json(reply.code(201), await send(parsed.data))
    } catch (error) {
      if (error instanceof EinnsynError) return json(reply.code(error.status), { error: error.message })
      throw error
    }
  })
  app.get('/sandbox/api/innsynskrav', async (_req, reply) => json(reply, innsynskravList(store)))
  app.get('/sandbox/api/publiseringer', async (_req, reply) =>
    json(reply, store.publiseringer().map(toApiPublisering)),
  )
  app.get('/sandbox/api/einnsyn/other', async (_req, reply) => json(reply, store.others().map(toApiOther)))
}

function innsynskravList(store: EinnsynStore) {
  const byMessage = new Map<string, StatusRow[]>()
  for (const s of store.statuses()) byMessage.set(s.message_id, [...(byMessage.get(s.message_id) ?? []), s])
  return store.allInnsynskrav().map((row) => toApiInnsynskrav(row, byMessage.get(row.message_id) ?? []))
}

function toApiInnsynskrav(row: InnsynskravRow, statuses: StatusRow[]) {
  return {
    messageId: row.message_id,
    conversationId: row.conversation_id,
    to: row.orgnr,
    email: row.email,
    name: row.name,
    documents: JSON.parse(row.documents) as unknown[],
    queue: row.queue,
    sent: new Date(row.sent).toISOString(),
    statuses: statuses.map((s) => ({ status: s.status, received: new Date(s.received).toISOString() })),
  }
}

function toApiPublisering(row: PubliseringRow) {
  return {
    messageId: row.message_id,
    conversationId: row.conversation_id,
    sender: row.sender,
    orgnr: row.orgnr,
    process: row.process,
    queue: row.queue,
    outcome: row.outcome,
    reason: row.reason,
    filename: row.filename,
    content: row.content,
    kvittering: row.kvittering_id ? { messageId: row.kvittering_id, status: row.kvittering_status } : null,
    received: new Date(row.received).toISOString(),
  }
}

function toApiOther(row: OtherRow) {
  return {
    queue: row.queue,
    messageId: row.message_id,
    type: row.type,
    sender: row.sender,
    note: row.note,
    received: new Date(row.received).toISOString(),
  }
}

/** The section on the Service Bus stand-in's `/sandbox` page; every value shown is escaped. */
export function einnsynSection(store: EinnsynStore, baseUrl: string): string {
  const curl = `curl -s -X POST ${baseUrl}/sandbox/api/innsynskrav -H 'content-type: application/json' -d '{"to":"910075918","email":"ola@example.com","documents":[{"journalpostId":"2026/1-1"}]}'`
  const krav = innsynskravList(store).map(
    (k) =>
      `<tr><td><code>${esc(k.messageId)}</code></td><td>${esc(k.to)}</td><td>${esc(k.email)}</td><td>${
        k.documents.length
      }</td><td>${esc(k.sent)}</td><td>${esc(k.statuses.map((s) => s.status).join(', ') || '–')}</td></tr>`,
  )
  const pub = store
    .publiseringer()
    .map(
      (p) =>
        `<tr><td><code>${esc(p.message_id)}</code></td><td>${esc(p.sender)}</td><td>${esc(p.queue)}</td><td>${esc(
          p.outcome,
        )}${p.reason ? ` <span class="meta">(${esc(p.reason)})</span>` : ''}</td><td><code>${esc(
          (p.content ?? '').slice(0, 200),
        )}</code></td></tr>`,
    )
  return `<section><h2>eInnsyn (910076787)</h2>
<p class="meta">Reads ${EINNSYN_QUEUES.map(esc).join(' and ')}; answers each publisering with MOTTATT, LEVERT and an
einnsyn_kvittering. JSON at <a href="/sandbox/api/innsynskrav">/sandbox/api/innsynskrav</a>,
<a href="/sandbox/api/publiseringer">/sandbox/api/publiseringer</a> and
<a href="/sandbox/api/einnsyn/other">/sandbox/api/einnsyn/other</a>. Send an innsynskrav:</p>
<pre><code>${esc(curl)}</code></pre>
<h3>Innsynskrav sent</h3>${
    krav.length
      ? `<table><tr><th>messageId</th><th>to</th><th>e-mail</th><th>documents</th><th>sent</th><th>statuses</th></tr>${krav.join('')}</table>`
      : '<p class="meta">None yet.</p>'
  }
<h3>Publiseringer received</h3>${
    pub.length
      ? `<table><tr><th>messageId</th><th>from</th><th>queue</th><th>outcome</th><th>file</th></tr>${pub.join('')}</table>`
      : '<p class="meta">None yet.</p>'
  }</section>`
}

function json(reply: FastifyReply, value: unknown) {
  return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(value))
}
