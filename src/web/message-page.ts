import { type KeptFile, keptFileOf, keptFiles } from '../conversations/repository.js'
import type { ConversationRow, InMessageRow, JobRow, MessageStatusRow } from '../db/schema.js'
import { isSendJob } from '../messages/out/send.js'
import { bytes, relative, statusBadge, statusKind, time } from './format.js'
import { type Html, html, messageHref } from './html.js'
import type { Page } from './layout.js'
import type { MessageView, RetryPlan } from './message-data.js'

export interface MessagePageInput {
  view: MessageView
  now: number
  retry: RetryPlan
  flash?: { text: string; error?: boolean } | undefined
}

function field(label: string, value: Html | string | number | null | undefined, mono = false): Html {
  const shown =
    value === null || value === undefined || value === ''
      ? html`<span class="muted">—</span>`
      : mono
        ? html`<span class="mono">${value}</span>`
        : value
  return html`<dt>${label}</dt><dd>${shown}</dd>`
}

function header(c: ConversationRow, view: MessageView): Html {
  const out = view.out?.message
  return html`<dl class="fields">
${field('messageId', c.message_id, true)}
${field('conversationId', c.conversation_id, true)}
${field('Direction', c.direction)}
${field('Service', c.service_identifier)}
${field('Sender', c.sender ?? c.sender_identifier, true)}
${field('Receiver', c.receiver ?? c.receiver_identifier, true)}
${field('Process', c.process_identifier ?? out?.process_identifier, true)}
${field('Document type', c.document_identifier ?? out?.document_identifier, true)}
${field('Title', c.message_title)}
${field('Reference', c.message_reference)}
${field('Created', time(c.created_at))}
${field('Last update', time(c.last_update))}
${field('Expires', time(c.expiry))}
${field('Latest status', statusBadge(c.latest_status))}
</dl>`
}

function timeline(statuses: MessageStatusRow[]): Html {
  if (!statuses.length) return html`<p class="muted">No status yet.</p>`
  return html`<ol class="timeline">${statuses.map(
    (
      s,
    ) => html`<li class="${statusKind(s.status)}" data-status="${s.status}">${statusBadge(s.status)} ${time(s.last_update)}
${s.description ? html`<span class="desc">${s.description}</span>` : ''}</li>`,
  )}</ol>`
}

function files(view: MessageView): Html {
  const out = view.out
  if (out) {
    if (!out.files.length) return html`<p class="muted">No file uploaded yet.</p>`
    return fileTable(out.files.map(keptFileOf))
  }
  if (view.incoming) {
    const size = view.incoming.asic_size
    return html`<p>The encrypted ASiC-E container waits for the fagsystem${size !== null ? html` (${bytes(size)})` : ''}.</p>`
  }
  const outgoing = view.conversations.find((c) => c.row.direction === 'OUTGOING')
  const kept = outgoing ? keptFiles(outgoing.row) : []
  if (kept.length)
    return html`${fileTable(kept)}
<p class="muted">Their content was removed when the message left the outbox (as the reference); names and sizes are kept.</p>`
  return html`<p class="muted">${
    outgoing
      ? 'The message and its files are removed once it is sent or has failed (as the reference); only the conversation is kept.'
      : 'The message has left the incoming queue (taken by the fagsystem or expired); only the conversation is kept.'
  }</p>`
}

function fileTable(rows: KeptFile[]): Html {
  return html`<div class="table-wrap"><table id="file-list"><thead><tr><th>File</th><th>Title</th><th>Type</th>
<th class="num">Size</th></tr></thead><tbody>${rows.map(
    (
      f,
    ) => html`<tr><td class="mono">${f.filename}${f.primary ? html` <span class="badge">main</span>` : ''}</td>
<td>${f.title ?? ''}</td><td class="mono">${f.mimeType}</td><td class="num">${bytes(f.size)}</td></tr>`,
  )}</tbody></table></div>`
}

function incoming(row: InMessageRow, now: number): Html {
  const locked = row.lock_timeout !== null && row.lock_timeout > now
  return html`<section class="card" id="incoming"><h2>In the incoming queue</h2>
<p id="lock-state">${
    locked
      ? html`<span class="badge progress">Locked</span> by a peek until ${time(row.lock_timeout)} (${relative(row.lock_timeout!, now)})`
      : html`<span class="badge done">Not locked</span> the next peek hands it out`
  }</p>
<p class="muted">Arrived ${time(row.created_at)} · type ${row.type}</p>
${locked ? html`<p class="actions"><a class="button" id="unlock" href="${messageHref(row.message_id)}/unlock">Unlock…</a></p>` : ''}
</section>`
}

function jobs(list: JobRow[], now: number, plan: RetryPlan, messageId: string): Html {
  const rows = list.map(
    (j) => html`<tr data-kind="${j.kind}" data-state="${j.state}"><td>${j.kind}</td><td>${j.state}</td>
<td class="num">${j.attempts} / ${j.max_attempts}</td>
<td>${j.state === 'PENDING' ? html`${time(j.run_at)} (${relative(j.run_at, now)})` : html`<span class="muted">—</span>`}</td>
<td>${j.locked_until !== null && j.locked_until >= now ? html`${j.locked_by} until ${time(j.locked_until)}` : html`<span class="muted">none</span>`}</td>
<td class="mono">${j.last_error ?? ''}</td></tr>`,
  )
  const action =
    !list.some((j) => isSendJob(j.kind)) && plan.kind === 'none'
      ? ''
      : plan.kind === 'none'
        ? html`<p class="muted" id="retry-reason">${plan.reason}</p>`
        : html`<p class="actions"><a class="button" id="retry" href="${messageHref(messageId)}/retry">Retry now…</a>
<span class="muted">${plan.kind === 'revive' ? 'The send was given up, but its message and files are still here.' : 'The send waits for its next try.'}</span></p>`
  return html`<section class="card" id="jobs"><h2>Jobs</h2>
${
  rows.length
    ? html`<div class="table-wrap"><table><thead><tr><th>Kind</th><th>State</th><th class="num">Attempts</th>
<th>Next try</th><th>Lease</th><th>Last error</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : html`<p class="muted">No job for this message.</p>`
}
${action}</section>`
}

export function messagePage(input: MessagePageInput): Page {
  const { view, now } = input
  const main = view.conversations[0]?.row
  const title = main?.message_title || view.messageId
  const conversations = view.conversations.map(
    ({ row, statuses }) => html`<div class="grid two">
<section class="card" id="header-${row.direction}"><h2>${row.direction === 'INCOMING' ? 'Incoming' : 'Outgoing'}</h2>${header(row, view)}</section>
<section class="card" id="timeline-${row.direction}"><h2>Status timeline</h2>${timeline(statuses)}</section>
</div>`,
  )
  const body = html`<h1>${title}</h1>
<div class="stack">
${conversations.length ? conversations : html`<section class="card"><p class="muted">No conversation is recorded for this message.</p></section>`}
<section class="card" id="files"><h2>Files</h2>${files(view)}</section>
${view.incoming ? incoming(view.incoming, now) : ''}
${jobs(view.jobs, now, input.retry, view.messageId)}
</div>`
  return { title: `Message ${title}`, flash: input.flash, body }
}
