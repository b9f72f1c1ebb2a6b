import type { ConversationRow } from '../db/schema.js'
import { RECEIPT_STATUSES } from '../sbd/business-schemas.js'
import { DIRECTIONS, type ListPage, type ListQuery, SERVICES } from './conversations-data.js'
import { statusBadge, statusKind, time } from './format.js'
import { type Html, href, html, messageHref } from './html.js'
import type { Page } from './layout.js'

/** The list's state as query parameters, so every link (page, sort) keeps the filters. */
function state(q: ListQuery): Record<string, string | number | undefined> {
  return {
    search: q.search,
    title: q.title,
    reference: q.reference,
    service: q.service,
    status: q.status,
    direction: q.direction,
    from: q.from,
    to: q.to,
    sort: q.sort === 'lastUpdate' && q.dir === 'desc' ? undefined : `${q.sort},${q.dir}`,
    size: q.size === 50 ? undefined : q.size,
  }
}

const listHref = (q: ListQuery, changes: Record<string, string | number | undefined>) =>
  href('/conversations', { ...state(q), ...changes })

function select(name: string, label: string, values: readonly string[], current: string | undefined): Html {
  return html`<div><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}">
<option value="">any</option>${values.map(
    (v) => html`<option${v === current ? html` selected` : ''}>${v}</option>`,
  )}</select></div>`
}

function input(name: string, label: string, type: string, value: string | undefined, hint = ''): Html {
  return html`<div><label for="f-${name}">${label}</label>
<input id="f-${name}" type="${type}" name="${name}" value="${value ?? ''}"${hint ? html` placeholder="${hint}"` : ''}></div>`
}

function form(q: ListQuery): Html {
  return html`<section class="card"><form class="filters" method="get" action="/conversations" role="search">
<div class="wide"><label for="f-search">Any identifier: messageId, conversationId, sender or receiver
(organisation or person number, with or without 0192:) or message reference</label>
<input id="f-search" type="search" name="search" value="${q.search ?? ''}" autofocus></div>
${input('title', 'Title (words or word beginnings)', 'text', q.title)}
${input('reference', 'Message reference', 'text', q.reference)}
${select('service', 'Service', SERVICES, q.service)}
${select('status', 'Latest status', RECEIPT_STATUSES, q.status)}
${select('direction', 'Direction', DIRECTIONS, q.direction)}
${input('from', 'Last update from', 'date', q.from)}
${input('to', 'Last update to', 'date', q.to)}
<div><label for="f-sort">Order</label><select id="f-sort" name="sort">${[
    ['lastUpdate,desc', 'Last update, newest first'],
    ['lastUpdate,asc', 'Last update, oldest first'],
    ['created,desc', 'Created, newest first'],
    ['created,asc', 'Created, oldest first'],
  ].map(
    ([v, label]) =>
      html`<option value="${v}"${v === `${q.sort},${q.dir}` ? html` selected` : ''}>${label}</option>`,
  )}</select></div>
<div class="wide actions"><button type="submit">Search</button>
<a class="button secondary" href="/conversations">Clear</a></div>
</form></section>`
}

function sortHeader(q: ListQuery, sort: ListQuery['sort'], label: string): Html {
  const active = q.sort === sort
  const next = active && q.dir === 'desc' ? 'asc' : 'desc'
  const arrow = active ? (q.dir === 'desc' ? ' ▼' : ' ▲') : ''
  return html`<th scope="col"${active ? html` aria-sort="${q.dir === 'desc' ? 'descending' : 'ascending'}"` : ''}>
<a href="${listHref(q, { sort: `${sort},${next}`, page: undefined })}">${label}${arrow}</a></th>`
}

function party(identifier: string | null, full: string | null): Html {
  if (!identifier && !full) return html`<span class="muted">—</span>`
  return html`<span class="mono nowrap">${identifier ?? full}</span>`
}

function row(c: ConversationRow): Html {
  return html`<tr class="${statusKind(c.latest_status)}">
<td>${statusBadge(c.latest_status)}</td>
<td><a href="${messageHref(c.message_id)}">${c.message_title || html`<span class="mono">${c.message_id}</span>`}</a>
${c.message_title ? html`<br><span class="mono muted">${c.message_id}</span>` : ''}</td>
<td>${c.direction === 'INCOMING' ? 'In' : 'Out'}</td>
<td>${c.service_identifier}</td>
<td>${party(c.sender_identifier, c.sender)}</td>
<td>${party(c.receiver_identifier, c.receiver)}</td>
<td>${c.message_reference ?? ''}</td>
<td>${time(c.last_update)}</td>
<td>${time(c.created_at)}</td>
</tr>`
}

export function conversationsPage(q: ListQuery, result: ListPage): Page {
  const { rows, hasNext } = result
  const first = (q.page - 1) * q.size + 1
  const shown = rows.length ? `${first}–${first + rows.length - 1}` : 'none'
  const table = rows.length
    ? html`<div class="table-wrap"><table id="conversations">
<thead><tr><th scope="col">Status</th><th scope="col">Title / messageId</th><th scope="col">Dir.</th>
<th scope="col">Service</th><th scope="col">Sender</th><th scope="col">Receiver</th><th scope="col">Reference</th>
${sortHeader(q, 'lastUpdate', 'Last update')}${sortHeader(q, 'created', 'Created')}</tr></thead>
<tbody>${rows.map(row)}</tbody></table></div>`
    : html`<p class="muted" id="no-results">No conversation matches.</p>`
  const pager = html`<nav class="pager" aria-label="Pages">
<span>${q.page > 1 ? html`<a rel="prev" href="${listHref(q, { page: q.page - 1 })}">← Previous</a>` : ''}</span>
<span class="muted">Page ${q.page} · rows ${shown}${hasNext ? ' · more follow' : ''}</span>
<span>${hasNext ? html`<a rel="next" href="${listHref(q, { page: q.page + 1 })}">Next →</a>` : ''}</span>
</nav>`
  return {
    title: q.search ? `Conversations matching ${q.search}` : 'Conversations',
    nav: 'conversations',
    body: html`<h1>Conversations</h1>${form(q)}<section class="card">${table}${pager}</section>`,
  }
}
