import { DateTime } from 'luxon'

/** The reference runs its clock in Europe/Oslo and prints every server-made time with that offset. */
export const OSLO = 'Europe/Oslo'

export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

/** A clock tests can move by hand (style rule 16: never sleep to let time pass). */
export class ManualClock implements Clock {
  #ms: number
  constructor(start: Date | string = '2026-01-15T12:00:00+01:00') {
    this.#ms = new Date(start).getTime()
  }
  now(): Date {
    return new Date(this.#ms)
  }
  advance(ms: number): void {
    this.#ms += ms
  }
  set(date: Date | string): void {
    this.#ms = new Date(date).getTime()
  }
}

/**
 * Formats an instant as Java's OffsetDateTime.toString() does in Europe/Oslo: seconds always,
 * fractional seconds only when non-zero and without trailing zeros (`…T23:01:56.02+02:00`).
 */
export function formatOslo(instant: Date | number): string {
  return formatInstant(
    DateTime.fromMillis(typeof instant === 'number' ? instant : instant.getTime(), { zone: OSLO }),
  )
}

function formatInstant(dt: DateTime): string {
  const base = dt.toFormat("yyyy-MM-dd'T'HH:mm:ss")
  const ms = dt.millisecond
  const fraction = ms === 0 ? '' : `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`
  const offset = dt.offset === 0 ? 'Z' : dt.toFormat('ZZ')
  return `${base}${fraction}${offset}`
}

export interface ParsedDateTime {
  /** epoch milliseconds */
  instant: number
  /** the text as the client gave it, normalised to ISO-8601 with an offset */
  iso: string
}

/**
 * Parses a date-time as the reference's Jackson setup does: ISO date-time with an offset or a zone id,
 * or epoch milliseconds. A time without offset is Europe/Oslo local time. The reference applies the
 * offset valid *now* rather than at that date; we apply the offset valid at that date (see
 * docs/compatibility.md). Returns undefined for anything else.
 */
export function parseDateTime(value: unknown): ParsedDateTime | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && Number.isInteger(value)) {
    return { instant: value, iso: formatOslo(value) }
  }
  if (typeof value !== 'string') return undefined
  const text = value.trim()
  if (/^-?\d{1,15}$/.test(text)) {
    const ms = Number(text)
    return { instant: ms, iso: formatOslo(ms) }
  }
  const zoned = /^(.*?)(\[([A-Za-z_/+\-0-9]+)\])$/.exec(text)
  const body = zoned ? zoned[1]! : text
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}(:?\d{2})?)?$/i.test(body))
    return undefined
  const hasOffset = /(Z|[+-]\d{2}:?\d{2}(:?\d{2})?)$/i.test(body)
  const zone = zoned ? zoned[3]! : OSLO
  const dt = hasOffset ? DateTime.fromISO(body, { setZone: true }) : DateTime.fromISO(body, { zone })
  if (!dt.isValid) return undefined
  return { instant: dt.toMillis(), iso: formatInstant(dt) }
}

/**
 * A plain `yyyy-MM-dd` date as the first or last millisecond of that day in Europe/Oslo (a whole day,
 * inclusive, as the reference's date filters); undefined when it is not such a date.
 */
export function osloDayEdge(value: string, edge: 'start' | 'end'): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined
  const day = DateTime.fromISO(value, { zone: OSLO })
  if (!day.isValid) return undefined
  return (edge === 'start' ? day.startOf('day') : day.endOf('day')).toMillis()
}
