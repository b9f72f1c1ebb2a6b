import type { CorrespondenceRow } from './store.js'

/**
 * A correspondence's statuses derived from its stored times at `now` (Altinn's lifecycle, docs
 * "Correspondence (DPV)"): Initialized at creation, ReadyForPublish when the attachments' scan is done,
 * Published at `publish_at` unless it failed or was reserved first, then whatever the recipient or a
 * control hook recorded. The current status is the highest by Altinn's enum order, ignoring Fetched.
 */
export const STATUS_ORDER = [
  'Initialized',
  'ReadyForPublish',
  'Published',
  'Fetched',
  'Read',
  'Replied',
  'Confirmed',
  'PurgedByRecipient',
  'PurgedByAltinn',
  'Archived',
  'Reserved',
  'Failed',
  'AttachmentsDownloaded',
  'Forwarded',
] as const
export type CorrespondenceStatus = (typeof STATUS_ORDER)[number]

export interface StatusEvent {
  status: CorrespondenceStatus
  at: number
}

export interface Derived {
  status: CorrespondenceStatus
  statusChanged: number
  published: number | null
  read: number | null
  events: StatusEvent[]
  purged: boolean
}

export function derive(row: CorrespondenceRow, now: number): Derived {
  const events: StatusEvent[] = [{ status: 'Initialized', at: row.created }]
  const at = (status: CorrespondenceStatus, time: number | null) => {
    if (time !== null && time <= now) events.push({ status, at: time })
  }
  const failed = row.failed_at !== null && row.failed_at <= now ? row.failed_at : null
  if (row.reserved) at('Reserved', row.created)
  else {
    at('ReadyForPublish', row.ready_at)
    // a failure at or before the publication time stops it, as Altinn's publish job fails instead
    if (failed === null || failed > row.publish_at) at('Published', row.publish_at)
  }
  at('Fetched', row.fetched_at)
  at('Read', row.read_at)
  at('Failed', failed)
  if (row.purged_by) at(row.purged_by === 'Recipient' ? 'PurgedByRecipient' : 'PurgedByAltinn', row.purged_at)
  events.sort((a, b) => a.at - b.at || STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status))
  let highest = events[0]!
  for (const e of events) {
    if (e.status !== 'Fetched' && STATUS_ORDER.indexOf(e.status) >= STATUS_ORDER.indexOf(highest.status))
      highest = e
  }
  const published = events.find((e) => e.status === 'Published')?.at ?? null
  return {
    status: highest.status,
    statusChanged: highest.at,
    published,
    read: events.find((e) => e.status === 'Read')?.at ?? null,
    events,
    purged: row.purged_at !== null && row.purged_at <= now,
  }
}
