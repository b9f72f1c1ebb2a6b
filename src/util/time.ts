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
  const ms = typeof instant === 'number' ? instant : instant.getTime()
  const offset = osloOffsetFast(ms)
  if (offset === undefined) return formatInstant(DateTime.fromMillis(ms, { zone: OSLO }))
  return formatWallClock(ms + offset * MINUTE, offset)
}

function formatInstant(dt: DateTime): string {
  const base = dt.toFormat("yyyy-MM-dd'T'HH:mm:ss")
  const ms = dt.millisecond
  const fraction = ms === 0 ? '' : `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`
  const offset = dt.offset === 0 ? 'Z' : dt.toFormat('ZZ')
  return `${base}${fraction}${offset}`
}

// Europe/Oslo by hand. Profiles of the one-step send put about 7 % of its CPU in Luxon here
// (DateTime.fromISO, fromMillis in a zone, toFormat; several calls per message), so the common cases
// are done directly and everything else still goes to Luxon. Within FAST_FIRST_YEAR..FAST_LAST_YEAR
// Norway keeps the EU rule (in force since 1996): CEST, +02:00, from 01:00 UTC on the last Sunday of
// March to 01:00 UTC on the last Sunday of October, CET, +01:00, otherwise. time.test.ts holds the
// Luxon-only code as an oracle and compares both paths over random instants, every switch and
// random, gap, overlap and malformed strings. The zone data for coming years is a projection: should
// Norway leave the rule (the EU has discussed ending clock changes), the test comparing the rule with
// the zone data fails on a Node with the new data, and FAST_LAST_YEAR must come down.
const FAST_FIRST_YEAR = 1997
const FAST_LAST_YEAR = 2099
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const FAST_FROM = Date.UTC(FAST_FIRST_YEAR, 0, 1)
const FAST_UNTIL = Date.UTC(FAST_LAST_YEAR + 1, 0, 1)

/** 01:00 UTC on the last Sunday of `month` (0-based), when the EU rule switches. */
function euSwitch(year: number, month: number): number {
  const lastDay = Date.UTC(year, month + 1, 0)
  return lastDay - new Date(lastDay).getUTCDay() * DAY + HOUR
}

/** Start and end of summer time for each year, at 2 × (year − FAST_FIRST_YEAR) and the index after. */
const SUMMER: number[] = []
for (let year = FAST_FIRST_YEAR; year <= FAST_LAST_YEAR; year++) {
  SUMMER.push(euSwitch(year, 2), euSwitch(year, 9))
}

/** Oslo's offset in minutes at an integral epoch millisecond in the fast range; undefined outside it. */
function osloOffsetFast(ms: number): number | undefined {
  if (!(ms >= FAST_FROM && ms < FAST_UNTIL) || !Number.isInteger(ms)) return undefined
  const i = 2 * (new Date(ms).getUTCFullYear() - FAST_FIRST_YEAR)
  return ms >= SUMMER[i]! && ms < SUMMER[i + 1]! ? 120 : 60
}

/** `local` is the wall clock as epoch ms (years 1000-9999), `offset` minutes east of UTC. */
function formatWallClock(local: number, offset: number): string {
  const d = new Date(local)
  const ms = d.getUTCMilliseconds()
  // as formatInstant: no fraction for whole seconds, else without trailing zeros
  const fraction =
    ms === 0 ? '' : ms % 100 === 0 ? `.${ms / 100}` : ms % 10 === 0 ? `.${pad2(ms / 10)}` : `.${pad3(ms)}`
  return (
    `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}` +
    `T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}` +
    `${fraction}${formatOffset(offset)}`
  )
}

/** As formatInstant: `Z` for zero, else Luxon's `ZZ` (`+01:00`, `-00:30`). */
function formatOffset(offset: number): string {
  if (offset === 0) return 'Z'
  const abs = Math.abs(offset)
  return `${offset < 0 ? '-' : '+'}${pad2(Math.trunc(abs / 60))}:${pad2(abs % 60)}`
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`
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
  const common = parseCommon(text)
  if (common) return common
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

/** The shape fagsystems send: `yyyy-MM-ddTHH:mm(:ss(.fraction)?)?` with `Z`, `±HH:MM` or no offset. */
const COMMON_ISO =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))?$/
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * parseDateTime by hand (see "Europe/Oslo by hand") for COMMON_ISO with plainly valid fields, giving
 * what the Luxon path gives. Undefined hands the text to Luxon: another shape, a field out of range
 * (Feb 30, hour 24, second 60, offset +24:00 or +01:60), a year before 1000, an Oslo time outside the fast range.
 */
function parseCommon(text: string): ParsedDateTime | undefined {
  const m = COMMON_ISO.exec(text)
  if (!m) return undefined
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = Number(m[4])
  const minute = Number(m[5])
  const second = m[6] === undefined ? 0 : Number(m[6])
  const leapDay = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 1 : 0
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]! + leapDay)
    return undefined
  if (hour > 23 || minute > 59 || second > 59) return undefined
  // as Luxon reads a fraction: 0.fraction as a float, times 1000, floored (digits past the third drop)
  const millis = m[7] === undefined ? 0 : Math.floor(Number.parseFloat(`0.${m[7]}`) * 1000)
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis)
  if (m[8] !== undefined) return { instant: local, iso: formatWallClock(local, 0) }
  if (m[9] === undefined) return parseOsloWallClock(local)
  const offsetHours = Number(m[10])
  const offsetMinutes = Number(m[11])
  if (offsetHours > 23 || offsetMinutes > 59) return undefined
  // `-00:00` gives -0, which prints as `Z` as `+00:00` does
  const offset = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes)
  return { instant: local - offset * MINUTE, iso: formatWallClock(local, offset) }
}

/**
 * An Oslo wall-clock time (as epoch ms) resolved as Luxon resolves it: a time in the spring gap moves
 * an hour on (02:30 is 03:30+02:00); a time in the autumn overlap takes the offset Oslo has at the
 * moment of parsing (Luxon starts from that guess and keeps it when it fits).
 */
function parseOsloWallClock(local: number): ParsedDateTime | undefined {
  // a day's margin keeps every instant tried below inside the fast range
  if (!(local >= FAST_FROM + DAY && local < FAST_UNTIL - DAY)) return undefined
  const asSummer = osloOffsetFast(local - 120 * MINUTE) === 120
  const asWinter = osloOffsetFast(local - 60 * MINUTE) === 60
  let offset: number
  if (asSummer && asWinter) {
    const now = osloOffsetFast(Date.now())
    if (now === undefined) return undefined
    offset = now
  } else if (asSummer || asWinter) {
    offset = asSummer ? 120 : 60
  } else {
    return { instant: local - HOUR, iso: formatWallClock(local + HOUR, 120) }
  }
  return { instant: local - offset * MINUTE, iso: formatWallClock(local, offset) }
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
