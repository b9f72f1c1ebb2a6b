import { esc } from '../../page-text.js'
import { iso } from './mapper.js'
import type { Derived } from './status.js'
import type { AttachmentRow, CorrespondenceRow } from './store.js'

/**
 * The sandbox's inbox page: every recipient's correspondences with their text, attachments (download
 * links) and status, and a Read button doing what a person does in Altinn's inbox. Plain HTML, no script.
 */
export interface InboxItem {
  row: CorrespondenceRow
  derived: Derived
  attachments: AttachmentRow[]
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#1a1a1a}
h2{margin-top:2rem;border-bottom:1px solid #ccc}article{border:1px solid #ddd;border-radius:6px;padding:1rem;margin:1rem 0}
.status{font-weight:600}.meta{color:#555;font-size:.9rem}pre{white-space:pre-wrap;font-family:inherit}
.error{background:#fde8e8;padding:.5rem 1rem;border-radius:4px}`

export function renderInbox(
  items: InboxItem[],
  recipient: string | undefined,
  error: string | undefined,
): string {
  const byRecipient = new Map<string, InboxItem[]>()
  for (const item of items) {
    const list = byRecipient.get(item.row.recipient_id) ?? []
    list.push(item)
    byRecipient.set(item.row.recipient_id, list)
  }
  const sections = [...byRecipient].map(
    ([id, list]) =>
      `<section><h2>Inbox of ${esc(id)} <a class="meta" href="?recipient=${esc(encodeURIComponent(id))}">only this</a></h2>${list
        .slice()
        .reverse()
        .map((item) => article(item, recipient))
        .join('')}</section>`,
  )
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Altinn Correspondence stand-in</title>
<style>${STYLE}</style></head><body><h1>Altinn Correspondence stand-in</h1>
<form method="get"><label>Recipient (organisation or national identity number)
<input name="recipient" value="${esc(recipient)}"></label> <button>Show</button> <a href="?">all</a></form>
${error ? `<p class="error">${esc(error)}</p>` : ''}
${sections.join('') || '<p>No correspondences yet.</p>'}</body></html>`
}

function article({ row, derived, attachments }: InboxItem, recipient: string | undefined): string {
  const content = (JSON.parse(row.request) as { content?: Record<string, string> }).content ?? {}
  const canRead =
    derived.published !== null && derived.read === null && derived.status !== 'Failed' && !derived.purged
  const files = attachments.map(
    (a) =>
      `<li><a href="/sandbox/correspondence/${esc(row.id)}/attachments/${esc(a.id)}">${esc(a.display_name ?? a.file_name)}</a> <span class="meta">${esc(a.file_name)}, ${esc(a.size)} bytes</span></li>`,
  )
  return `<article><h3>${esc(content.messageTitle)}</h3>
<p class="meta">from ${esc(row.sender)} to ${esc(row.recipient)} · ${esc(row.id)} · sender's reference ${esc(row.senders_reference)}</p>
<p><span class="status">${esc(derived.status)}</span> <span class="meta">since ${esc(iso(derived.statusChanged))}${
    derived.status === 'Failed' ? ` · ${esc(row.failed_reason)}` : ''
  }</span></p>
${content.messageSummary ? `<p><em>${esc(content.messageSummary)}</em></p>` : ''}<pre>${esc(content.messageBody)}</pre>
${files.length ? `<ul>${files.join('')}</ul>` : ''}
${canRead ? `<form method="post" action="/sandbox/correspondence/${esc(row.id)}/read${recipient ? `?recipient=${esc(encodeURIComponent(recipient))}` : ''}"><button>Read</button></form>` : ''}</article>`
}
