import { DateTime } from 'luxon'
import { finishes } from '../conversations/statuses.js'
import { OSLO } from '../util/time.js'
import { type Html, html } from './html.js'

/** A time as an operator in Norway reads it: Europe/Oslo, to the second, with the ISO instant on hover. */
export function time(ms: number | null | undefined): Html {
  if (ms === null || ms === undefined) return html`<span class="muted">—</span>`
  const dt = DateTime.fromMillis(ms, { zone: OSLO })
  return html`<time datetime="${dt.toISO() ?? ''}">${dt.toFormat('yyyy-MM-dd HH:mm:ss')}</time>`
}

/** `in 4 min`, `12 s ago`: how far a time is from now. */
export function relative(ms: number, now: number): string {
  const diff = ms - now
  const abs = Math.abs(diff)
  const amount =
    abs < 60_000
      ? `${Math.round(abs / 1000)} s`
      : abs < 3_600_000
        ? `${Math.round(abs / 60_000)} min`
        : abs < 172_800_000
          ? `${Math.round(abs / 3_600_000)} h`
          : `${Math.round(abs / 86_400_000)} days`
  return diff >= 0 ? `in ${amount}` : `${amount} ago`
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = n / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}

export function count(n: number): string {
  return n.toLocaleString('en-GB').replace(/,/g, ' ')
}

const FAILED = new Set(['FEIL', 'LEVETID_UTLOPT'])

/** The reference's colour code: failed red, finished green, anything else in progress (yellow). */
export function statusKind(status: string | null): 'failed' | 'done' | 'progress' | 'none' {
  if (status === null) return 'none'
  if (FAILED.has(status)) return 'failed'
  // the other statuses that finish a conversation (src/conversations/statuses.ts)
  if (finishes(status)) return 'done'
  return 'progress'
}

export function statusBadge(status: string | null): Html {
  return html`<span class="badge ${statusKind(status)}">${status ?? 'no status'}</span>`
}

/** The Oslo day (`yyyy-MM-dd`) of an instant, for date inputs and links. */
export function osloDay(ms: number): string {
  return DateTime.fromMillis(ms, { zone: OSLO }).toFormat('yyyy-MM-dd')
}
