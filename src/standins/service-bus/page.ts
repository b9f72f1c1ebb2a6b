import { esc } from '../page-text.js'
import type { toSandboxMessage } from './mapper.js'
import type { QueueCounts } from './store.js'

/**
 * The sandbox page: every queue with its counts and its messages (state, deliveries, a preview of the
 * body), and below them whatever the stand-ins served beside it add. Plain HTML, no script.
 */
export interface PageQueue {
  counts: QueueCounts
  messages: ReturnType<typeof toSandboxMessage>[]
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#1a1a1a}
h2{margin-top:2rem;border-bottom:1px solid #ccc}table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border-bottom:1px solid #eee;padding:.3rem;text-align:left;vertical-align:top}
.meta{color:#555;font-size:.9rem}code{font-size:.8rem;word-break:break-all}`

export function renderPage(queues: PageQueue[], sections: string[]): string {
  const body = queues.map(queueSection).join('') || '<p>No queues yet: a queue is made by its first use.</p>'
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Azure Service Bus stand-in</title>
<style>${STYLE}</style></head><body><h1>Azure Service Bus stand-in</h1>
<p class="meta">Queues and their messages; JSON at <a href="/sandbox/api/queues">/sandbox/api/queues</a>.</p>
${body}${sections.join('')}</body></html>`
}

function queueSection({ counts, messages }: PageQueue): string {
  const rows = messages.map(
    (m) =>
      `<tr><td>${m.sequenceNumber}</td><td><code>${esc(m.messageId)}</code></td><td>${esc(m.state)}${
        m.deadLetterReason ? ` <span class="meta">(${esc(m.deadLetterReason)})</span>` : ''
      }</td><td>${m.deliveryCount}</td><td>${esc(m.enqueuedTime)}</td><td>${m.size} bytes</td><td><code>${esc(
        m.preview,
      )}</code></td></tr>`,
  )
  return `<section><h2>${esc(counts.name)}</h2>
<p class="meta">${counts.active} active · ${counts.locked} locked · ${counts.deadLettered} dead-lettered</p>
${
  rows.length
    ? `<table><tr><th>#</th><th>MessageId</th><th>state</th><th>deliveries</th><th>enqueued</th><th>size</th><th>body</th></tr>${rows.join('')}</table>`
    : ''
}</section>`
}
