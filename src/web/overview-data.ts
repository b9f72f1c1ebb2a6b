// The overview's numbers. Each query reads a bounded range through an index (migration 0004): the
// statuses of the last 7 days by status and time, pending jobs by state, the incoming queue by lock
// time; nothing counts a whole table, so the page costs the same with a million conversations.

import { sql } from 'kysely'
import { DateTime } from 'luxon'
import type { Db } from '../db/open.js'
import { jobRows } from '../ops/db-metrics.js'
import { RECEIPT_STATUSES } from '../sbd/business-schemas.js'
import { OSLO } from '../util/time.js'

const HOUR = 3_600_000

/** What the charts count: a message handed to its service, and one taken in from it. */
export const SENT = 'SENDT'
export const RECEIVED = 'INNKOMMENDE_MOTTATT'
export const PROBLEMS = ['FEIL', 'LEVETID_UTLOPT'] as const

/** Counts per service in consecutive buckets (hours or Oslo days), oldest first. */
export interface Series {
  /** bucket start times (epoch ms) */
  starts: number[]
  /** service -> count per bucket */
  byService: Map<string, number[]>
}

export interface Traffic {
  sentHourly: Series
  receivedHourly: Series
  sentDaily: Series
  receivedDaily: Series
}

export interface Problem {
  message_id: string
  message_title: string | null
  direction: string
  service_identifier: string
  status: string
  description: string | null
  last_update: number
}

/** An instance on this database and the singleton tasks it holds now. */
export interface InstanceView {
  id: string
  host: string
  pid: number
  url: string | null
  payload_store: string
  services: string[]
  started_at: number
  seen_at: number
  tasks: string[]
}

/**
 * The instances that beat in the last minute (few: the table holds one row per running instance), with
 * the leases each holds now, so an operator sees which instance polls what.
 */
export async function instances(db: Db, now: number): Promise<InstanceView[]> {
  const rows = await db.kysely
    .selectFrom('instances')
    .selectAll()
    .where('seen_at', '>=', now - 60_000)
    .orderBy('started_at')
    .execute()
  const leases = await db.kysely
    .selectFrom('leases')
    .select(['name', 'holder'])
    .where('lease_until', '>=', now)
    .orderBy('name')
    .execute()
  return rows.map((r) => ({
    ...r,
    pid: Number(r.pid),
    started_at: Number(r.started_at),
    seen_at: Number(r.seen_at),
    services: JSON.parse(r.services) as string[],
    tasks: leases.filter((l) => l.holder === r.id).map((l) => l.name),
  }))
}

/** The last 24 whole hours up to the current one, and the last 7 Oslo days up to today. */
export function windows(now: number): { hours: number[]; days: number[] } {
  const hour = Math.floor(now / HOUR) * HOUR
  const hours = Array.from({ length: 24 }, (_, i) => hour - (23 - i) * HOUR)
  const today = DateTime.fromMillis(now, { zone: OSLO }).startOf('day')
  const days = Array.from({ length: 7 }, (_, i) => today.minus({ days: 6 - i }).toMillis())
  return { hours, days }
}

/** Counts of one status per service and hour since `from`: the statuses index, then each conversation by key. */
export function hourlyStatusCounts(db: Db, status: string, from: number) {
  const bucket = sql<number>`s.last_update / ${sql.lit(HOUR)}`
  return db.kysely
    .selectFrom('message_statuses as s')
    .innerJoin('conversations as c', 'c.id', 's.conversation_fk')
    .select(['c.service_identifier', bucket.as('hour'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('s.status', '=', status)
    .where('s.last_update', '>=', from)
    .groupBy(['c.service_identifier', bucket])
    .execute()
}

export async function traffic(db: Db, now: number): Promise<Traffic> {
  const { hours, days } = windows(now)
  const from = Math.min(hours[0]!, days[0]!)
  const sent = await hourlyStatusCounts(db, SENT, from)
  const received = await hourlyStatusCounts(db, RECEIVED, from)
  // the Oslo day an hour falls in, by comparing with the day starts (a time zone library per row is slow)
  const dayOf = (hourStart: number) => {
    let day = -1
    for (const d of days) if (d <= hourStart) day = d
    return day
  }
  const series = (rows: typeof sent, starts: number[], key: (hourStart: number) => number): Series => {
    const index = new Map(starts.map((s, i) => [s, i]))
    const byService = new Map<string, number[]>()
    for (const r of rows) {
      const i = index.get(key(Number(r.hour) * HOUR))
      if (i === undefined) continue
      const counts = byService.get(r.service_identifier) ?? starts.map(() => 0)
      counts[i]! += Number(r.n)
      byService.set(r.service_identifier, counts)
    }
    return { starts, byService }
  }
  return {
    sentHourly: series(sent, hours, (h) => h),
    receivedHourly: series(received, hours, (h) => h),
    sentDaily: series(sent, days, dayOf),
    receivedDaily: series(received, days, dayOf),
  }
}

/**
 * Statuses registered since `from`, by status. Naming every status lets each be one range of the
 * (status, last_update) index; without them SQLite would rather walk that whole index in status order.
 */
export async function statusCounts(db: Db, from: number): Promise<Map<string, number>> {
  const rows = await db.kysely
    .selectFrom('message_statuses')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('status', 'in', [...RECEIPT_STATUSES])
    .where('last_update', '>=', from)
    .groupBy('status')
    .execute()
  return new Map(rows.map((r) => [r.status, Number(r.n)]))
}

/** The newest failures and expiries since `from`, with their conversations. */
export function recentProblems(db: Db, from: number, limit: number): Promise<Problem[]> {
  return db.kysely
    .selectFrom('message_statuses as s')
    .innerJoin('conversations as c', 'c.id', 's.conversation_fk')
    .select([
      'c.message_id',
      'c.message_title',
      'c.direction',
      'c.service_identifier',
      's.status',
      's.description',
      's.last_update',
    ])
    .where('s.status', 'in', [...PROBLEMS])
    .where('s.last_update', '>=', from)
    .orderBy('s.last_update', 'desc')
    .orderBy('s.id', 'desc')
    .limit(limit)
    .execute()
}

export interface JobQueue {
  kind: string
  queued: number
  due: number
  running: number
  /** when the job that has waited longest for a worker became due; null when none waits */
  oldestDueSince: number | null
}

/** Pending jobs by kind (the same query as the Prometheus gauges). */
export async function jobQueues(db: Db, now: number): Promise<JobQueue[]> {
  const rows = await jobRows(db, now)
  return rows
    .map((r) => ({
      kind: r.kind,
      queued: Number(r.queued),
      due: Number(r.due ?? 0),
      running: Number(r.running ?? 0),
      oldestDueSince: r.since === null ? null : Number(r.since),
    }))
    .sort((a, b) => a.kind.localeCompare(b.kind))
}

export interface IncomingQueue {
  /** not locked (never, or the lock ran out); at most `cap` counted */
  waiting: number
  /** true when there are more than `cap` waiting */
  more: boolean
  locked: number
  /** when the oldest waiting message arrived */
  oldestWaiting: number | null
}

/** The incoming queue by lock state, counted through the peek index and capped, as a queue can grow. */
export async function incomingQueue(db: Db, now: number, cap = 10_000): Promise<IncomingQueue> {
  const k = db.kysely
  const capped = async (unlocked: 'never' | 'expired') => {
    let q = k.selectFrom('in_messages').select('id')
    q = unlocked === 'never' ? q.where('lock_timeout', 'is', null) : q.where('lock_timeout', '<=', now)
    const row = await k
      .selectFrom(q.limit(cap + 1).as('w'))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }
  // within the peek index's range (last_updated is the arrival: a lock leaves it alone); `+ 0` keeps
  // SQLite from answering min() by walking the whole last_updated index when no row is in the range
  const oldest = async (unlocked: 'never' | 'expired') => {
    let q = k.selectFrom('in_messages').select(sql<number | null>`min(last_updated + 0)`.as('at'))
    q = unlocked === 'never' ? q.where('lock_timeout', 'is', null) : q.where('lock_timeout', '<=', now)
    const row = await q.executeTakeFirst()
    return row?.at === null || row?.at === undefined ? null : Number(row.at)
  }
  const waiting = (await capped('never')) + (await capped('expired'))
  const locked = await k
    .selectFrom('in_messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('lock_timeout', '>', now)
    .executeTakeFirstOrThrow()
  const firsts = [await oldest('never'), await oldest('expired')].filter((t): t is number => t !== null)
  return {
    waiting: Math.min(waiting, cap),
    more: waiting > cap,
    locked: Number(locked.n),
    oldestWaiting: firsts.length ? Math.min(...firsts) : null,
  }
}

export interface FailingSubscription {
  id: number
  name: string
  pushEndpoint: string
  failingSince: number
  lastError: string | null
  givenUp: number
}

/** Webhook subscriptions whose deliveries fail now, the longest failing first (a short table). */
export async function failingSubscriptions(db: Db, limit = 20): Promise<FailingSubscription[]> {
  const rows = await db.kysely
    .selectFrom('webhook_subscriptions')
    .select(['id', 'name', 'push_endpoint', 'failing_since', 'last_error', 'given_up'])
    .where('failing_since', 'is not', null)
    .orderBy('failing_since')
    .limit(limit)
    .execute()
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    pushEndpoint: r.push_endpoint,
    failingSince: Number(r.failing_since),
    lastError: r.last_error,
    givenUp: Number(r.given_up),
  }))
}
