import { DateTime } from 'luxon'
import type { Db } from '../db/open.js'
import type { Health } from '../ops/health.js'
import { OSLO } from '../util/time.js'
import { redactEndpoint } from '../webhooks/endpoint.js'
import { barChart } from './charts.js'
import { count, osloDay, relative, statusBadge, time } from './format.js'
import { healthSentence } from './health-text.js'
import { type Html, href, html, messageHref } from './html.js'
import type { Page } from './layout.js'
import {
  type FailingSubscription,
  failingSubscriptions,
  type IncomingQueue,
  type InstanceView,
  incomingQueue,
  instances,
  type JobQueue,
  jobQueues,
  PROBLEMS,
  type Problem,
  recentProblems,
  statusCounts,
  type Traffic,
  traffic,
} from './overview-data.js'

const DAY = 86_400_000
const SHOWN_PROBLEMS = 20

interface Overview {
  now: number
  traffic: Traffic
  statuses: Map<string, number>
  problems: Problem[]
  jobs: JobQueue[]
  incoming: IncomingQueue
  webhooks: FailingSubscription[]
  instances: InstanceView[]
  health: Health
}

/** Reads everything the overview shows; the health checks run beside the queries. */
export async function loadOverview(db: Db, now: number, health: () => Promise<Health>): Promise<Overview> {
  const checks = health()
  const since = now - DAY
  return {
    now,
    traffic: await traffic(db, now),
    statuses: await statusCounts(db, since),
    problems: await recentProblems(db, since, SHOWN_PROBLEMS),
    jobs: await jobQueues(db, now),
    incoming: await incomingQueue(db, now),
    webhooks: await failingSubscriptions(db),
    instances: await instances(db, now),
    health: await checks,
  }
}

const hourLabel = (t: number) => DateTime.fromMillis(t, { zone: OSLO }).toFormat('HH')
const hourSpan = (t: number) =>
  `${DateTime.fromMillis(t, { zone: OSLO }).toFormat('dd.MM HH:mm')}–${DateTime.fromMillis(t + 3_600_000, { zone: OSLO }).toFormat('HH:mm')}`
const dayLabel = (t: number) => DateTime.fromMillis(t, { zone: OSLO }).toFormat('ccc d')
const daySpan = (t: number) => DateTime.fromMillis(t, { zone: OSLO }).toFormat('cccc d LLLL')

export function overviewPage(o: Overview): Page {
  const t = o.traffic
  const hourly = (id: string, title: string, series: Traffic['sentHourly']) =>
    barChart({ id, title, series, label: hourLabel, span: hourSpan, labelEvery: 3 })
  const daily = (id: string, title: string, series: Traffic['sentDaily']) =>
    barChart({ id, title, series, label: dayLabel, span: daySpan, labelEvery: 1 })
  const body = html`<h1>Overview</h1>
<div class="grid two">
<section class="card">${hourly('sent-hourly', 'Sent per hour, last 24 hours', t.sentHourly)}</section>
<section class="card">${hourly('received-hourly', 'Received per hour, last 24 hours', t.receivedHourly)}</section>
<section class="card">${daily('sent-daily', 'Sent per day, last 7 days', t.sentDaily)}</section>
<section class="card">${daily('received-daily', 'Received per day, last 7 days', t.receivedDaily)}</section>
</div>
<div class="grid two">
${problemsSection(o)}
${statusSection(o)}
${jobsSection(o)}
${incomingSection(o)}
</div>
${webhooksSection(o)}
${instancesSection(o)}
${healthSection(o.health)}`
  return { title: 'Overview', nav: 'overview', body }
}

function problemsSection(o: Overview): Html {
  const yesterday = osloDay(o.now - DAY)
  const links = PROBLEMS.map(
    (s) =>
      html`<a href="${href('/conversations', { status: s, from: yesterday })}">${o.statuses.get(s) ?? 0} ${s}</a>`,
  )
  const rows = o.problems.map(
    (p) => html`<tr class="failed"><td>${time(p.last_update)}</td><td>${statusBadge(p.status)}</td>
<td><a href="${messageHref(p.message_id)}">${p.message_title || p.message_id}</a>
<span class="muted">${p.direction === 'INCOMING' ? 'in' : 'out'} · ${p.service_identifier}</span>
${p.description ? html`<span class="desc">${p.description}</span>` : ''}</td></tr>`,
  )
  return html`<section class="card" id="problems"><h2>Failed and expired, last 24 hours</h2>
<p class="actions">${links}</p>
${
  rows.length
    ? html`<div class="table-wrap"><table><thead><tr><th>When</th><th>Status</th><th>Message and why</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p class="muted">No message failed or expired in the last 24 hours.</p>`
}
</section>`
}

function statusSection(o: Overview): Html {
  const rows = [...o.statuses.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([status, n]) => html`<tr><td>${statusBadge(status)}</td><td class="num">${count(n)}</td></tr>`)
  return html`<section class="card" id="statuses"><h2>Statuses registered, last 24 hours</h2>
${
  rows.length
    ? html`<table><thead><tr><th>Status</th><th class="num">Count</th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p class="muted">No status in the last 24 hours.</p>`
}</section>`
}

function instancesSection(o: Overview): Html {
  const rows = o.instances.map(
    (i) => html`<tr><td class="mono">${i.host} · pid ${String(i.pid)}</td>
<td>${i.url ? html`<a href="${i.url}/">${i.url}</a>` : ''}</td><td>${i.services.join(', ') || 'none'}</td>
<td>${i.payload_store}</td><td>${time(i.started_at)}</td>
<td class="mono">${i.tasks.length ? i.tasks.join(', ') : html`<span class="muted">none</span>`}</td></tr>`,
  )
  return html`<section class="card" id="instances"><h2>Instances on this database</h2>
<div class="table-wrap"><table><thead><tr><th>Instance</th><th>URL</th><th>Services</th><th>Payloads</th>
<th>Started</th><th>Singleton tasks it runs now</th></tr></thead><tbody>${rows}</tbody></table></div>
<p class="muted">Each broker account's poller, expiry, the payload sweep and retention run on one instance at a
time; another takes a task over when its instance stops or dies (docs/operations.md, Several instances).</p></section>`
}

function jobsSection(o: Overview): Html {
  const rows = o.jobs.map(
    (
      j,
    ) => html`<tr><td>${j.kind}</td><td class="num">${count(j.queued)}</td><td class="num">${count(j.due)}</td>
<td class="num">${count(j.running)}</td>
<td>${j.oldestDueSince === null ? html`<span class="muted">none waits</span>` : html`${time(j.oldestDueSince)} (${relative(j.oldestDueSince, o.now)})`}</td></tr>`,
  )
  return html`<section class="card" id="jobs"><h2>Background jobs waiting</h2>
${
  rows.length
    ? html`<div class="table-wrap"><table><thead><tr><th>Kind</th><th class="num">Pending</th><th class="num">Due now</th>
<th class="num">Running</th><th>Oldest due since</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : html`<p class="muted">No job is pending.</p>`
}
<p class="muted">Pending jobs include those waiting for their next try after a failure.</p></section>`
}

function incomingSection(o: Overview): Html {
  const q = o.incoming
  return html`<section class="card" id="incoming"><h2>Incoming messages for the fagsystem</h2>
<div class="kpis">
<div class="kpi"><b>${q.more ? `more than ${count(q.waiting)}` : count(q.waiting)}</b> waiting</div>
<div class="kpi"><b>${count(q.locked)}</b> locked by a peek</div>
<div class="kpi"><b>${q.oldestWaiting === null ? '—' : relative(q.oldestWaiting, o.now)}</b> the oldest waiting one arrived</div>
</div></section>`
}

function webhooksSection(o: Overview): Html {
  if (o.webhooks.length === 0) return html``
  const rows = o.webhooks.map(
    (w) => html`<tr><td>${w.name}</td><td class="mono">${redactEndpoint(w.pushEndpoint)}</td>
<td>${relative(w.failingSince, o.now)}</td><td>${w.lastError ?? ''}</td><td>${count(w.givenUp)}</td></tr>`,
  )
  return html`<section class="card" id="webhooks"><h2>Webhook subscriptions failing</h2>
<div class="table-wrap"><table><thead><tr><th>Name</th><th>Push endpoint</th><th>Failing since</th><th>Last error</th><th>Events given up</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<p class="muted">Each delivery is retried until <code>difi.move.webhooks.maximum-retry-hours</code>; the log says so once per
subscription every 5 minutes. <a href="/api/subscriptions">/api/subscriptions</a> has the details.</p></section>`
}

function healthSection(health: Health): Html {
  const rows = Object.entries(health.components ?? {}).map(
    ([name, h]) => html`<tr><td>${name}</td><td><span class="badge ${h.status}">${h.status}</span></td>
<td>${healthSentence(name, h)}</td></tr>`,
  )
  return html`<section class="card" id="health"><h2>Health <span class="badge ${health.status}">${health.status}</span></h2>
<div class="table-wrap"><table><thead><tr><th>Component</th><th>Status</th><th>What was checked</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<p class="muted">The same checks as <a href="/manage/health">/manage/health</a>: the database, the ServiceRegistry,
each enabled broker, disk space and the job queue.</p></section>`
}
