// Business metrics read from the database at scrape time. Each is one grouped query that reads only
// bounded rows through an index: the pending jobs (jobs_due), the incoming queue, the statuses of the
// last window (message_statuses_last_update) and the webhook subscriptions. They describe the shared
// database, so every instance on one PostgreSQL database reports the same values (aggregate with max).

import { sql } from 'kysely'
import { Gauge, type Registry } from 'prom-client'
import type { Db } from '../db/open.js'

export interface DbMetrics {
  /** runs the queries and sets the gauges; a failing database sets `eformidling_database_up` to 0 */
  refresh(): Promise<void>
}

type Gauges = ReturnType<typeof createGauges>

export function createDbMetrics(
  registry: Registry,
  opts: { db: Db; now: () => number; statusWindowMs: number },
): DbMetrics {
  const g = createGauges(registry)
  g.window.set(opts.statusWindowMs / 1000)
  // a kind or service seen once stays in the output at 0, so an emptied queue reads 0, not "no data"
  const seen = { kinds: new Set<string>(), services: new Set<string>() }
  const business = [g.statuses, g.incoming, g.incomingOldest, g.failing, ...Object.values(g.jobs)]
  return {
    async refresh() {
      const now = opts.now()
      try {
        // one after the other: SQLite serves one query at a time anyway, and traffic goes between them
        setJobs(g, seen.kinds, await jobRows(opts.db, now), now)
        setIncoming(g, seen.services, await incomingRows(opts.db, now), now)
        g.statuses.reset()
        for (const r of await statusRows(opts.db, now - opts.statusWindowMs))
          g.statuses.set(
            { status: r.status, service: r.service_identifier, direction: r.direction },
            Number(r.n),
          )
        g.failing.set(await failingSubscriptions(opts.db))
        g.dbUp.set(1)
      } catch {
        // no numbers rather than stale ones; eformidling_database_up says why
        for (const gauge of business) gauge.reset()
        g.dbUp.set(0)
      }
    },
  }
}

function createGauges(registry: Registry) {
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] })
  const kind = ['kind']
  return {
    dbUp: gauge('eformidling_database_up', '1 when the last scrape could read the database, else 0'),
    statuses: gauge(
      'eformidling_message_statuses_recent',
      'Message statuses registered within the window, by status, service and direction',
      ['status', 'service', 'direction'],
    ),
    window: gauge(
      'eformidling_message_statuses_window_seconds',
      'The window of eformidling_message_statuses_recent',
    ),
    jobs: {
      queued: gauge(
        'eformidling_jobs_queued',
        'Jobs not finished yet (due, running or waiting to retry)',
        kind,
      ),
      due: gauge('eformidling_jobs_due', 'Jobs due and waiting for a worker', kind),
      running: gauge('eformidling_jobs_running', 'Jobs running under a live lease', kind),
      oldest: gauge(
        'eformidling_jobs_oldest_due_age_seconds',
        'How long the job that has waited longest for a worker has waited (0 when none waits)',
        kind,
      ),
    },
    incoming: gauge(
      'eformidling_incoming_messages',
      'Incoming messages not yet deleted by the fagsystem, by service and state (waiting or locked)',
      ['service', 'state'],
    ),
    incomingOldest: gauge(
      'eformidling_incoming_oldest_waiting_age_seconds',
      'Age of the oldest incoming message nobody has locked, by service (0 when none waits)',
      ['service'],
    ),
    failing: gauge(
      'eformidling_webhook_subscriptions_failing',
      'Webhook subscriptions whose last delivery failed',
    ),
  }
}

const ageSeconds = (now: number, since: number | string | null) =>
  since === null ? 0 : Math.max(0, now - Number(since)) / 1000

function setJobs(g: Gauges, kinds: Set<string>, rows: Awaited<ReturnType<typeof jobRows>>, now: number) {
  const all = Object.values(g.jobs)
  for (const gauge of all) gauge.reset()
  for (const kind of kinds) for (const gauge of all) gauge.set({ kind }, 0)
  for (const r of rows) {
    kinds.add(r.kind)
    g.jobs.queued.set({ kind: r.kind }, Number(r.queued))
    g.jobs.due.set({ kind: r.kind }, Number(r.due ?? 0))
    g.jobs.running.set({ kind: r.kind }, Number(r.running ?? 0))
    g.jobs.oldest.set({ kind: r.kind }, ageSeconds(now, r.since))
  }
}

function setIncoming(
  g: Gauges,
  services: Set<string>,
  rows: Awaited<ReturnType<typeof incomingRows>>,
  now: number,
) {
  g.incoming.reset()
  g.incomingOldest.reset()
  for (const service of services) {
    g.incoming.set({ service, state: 'waiting' }, 0)
    g.incoming.set({ service, state: 'locked' }, 0)
    g.incomingOldest.set({ service }, 0)
  }
  for (const r of rows) {
    const service = r.service_identifier
    services.add(service)
    const locked = Number(r.locked ?? 0)
    g.incoming.set({ service, state: 'waiting' }, Number(r.total) - locked)
    g.incoming.set({ service, state: 'locked' }, locked)
    g.incomingOldest.set({ service }, ageSeconds(now, r.oldest))
  }
}

export function jobRows(db: Db, now: number) {
  const unleased = sql`(locked_until is null or locked_until < ${now})`
  return db.kysely
    .selectFrom('jobs')
    .select([
      'kind',
      (eb) => eb.fn.countAll<number>().as('queued'),
      sql<number | null>`sum(case when run_at <= ${now} and ${unleased} then 1 else 0 end)`.as('due'),
      sql<number | null>`sum(case when locked_until >= ${now} then 1 else 0 end)`.as('running'),
      // waiting since it became due, or since its worker's lease ran out
      sql<number | null>`min(case when run_at <= ${now} and ${unleased}
        then (case when locked_until > run_at then locked_until else run_at end) end)`.as('since'),
    ])
    .where('state', '=', 'PENDING')
    .groupBy('kind')
    .execute()
}

function incomingRows(db: Db, now: number) {
  return db.kysely
    .selectFrom('in_messages')
    .select([
      'service_identifier',
      (eb) => eb.fn.countAll<number>().as('total'),
      sql<number | null>`sum(case when lock_timeout > ${now} then 1 else 0 end)`.as('locked'),
      sql<number | null>`min(case when lock_timeout is null or lock_timeout <= ${now}
        then created_at end)`.as('oldest'),
    ])
    .groupBy('service_identifier')
    .execute()
}

function statusRows(db: Db, since: number) {
  return db.kysely
    .selectFrom('message_statuses as s')
    .innerJoin('conversations as c', 'c.id', 's.conversation_fk')
    .select(['s.status', 'c.service_identifier', 'c.direction', (eb) => eb.fn.countAll<number>().as('n')])
    .where('s.last_update', '>=', since)
    .groupBy(['s.status', 'c.service_identifier', 'c.direction'])
    .execute()
}

async function failingSubscriptions(db: Db): Promise<number> {
  const row = await db.kysely
    .selectFrom('webhook_subscriptions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('failing_since', 'is not', null)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}
