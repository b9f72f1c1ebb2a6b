import fc from 'fast-check'
import { DateTime, IANAZone } from 'luxon'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { formatOslo, OSLO, type ParsedDateTime, parseDateTime } from './time.js'

// The Luxon-only code formatOslo and parseDateTime had before their hand paths, kept as the oracle:
// the hand paths must give exactly what it gives, for every input.
function luxonFormatOslo(instant: Date | number): string {
  return luxonFormat(
    DateTime.fromMillis(typeof instant === 'number' ? instant : instant.getTime(), { zone: OSLO }),
  )
}

function luxonFormat(dt: DateTime): string {
  const base = dt.toFormat("yyyy-MM-dd'T'HH:mm:ss")
  const ms = dt.millisecond
  const fraction = ms === 0 ? '' : `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`
  const offset = dt.offset === 0 ? 'Z' : dt.toFormat('ZZ')
  return `${base}${fraction}${offset}`
}

function luxonParseDateTime(value: unknown): ParsedDateTime | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && Number.isInteger(value)) {
    return { instant: value, iso: luxonFormatOslo(value) }
  }
  if (typeof value !== 'string') return undefined
  const text = value.trim()
  if (/^-?\d{1,15}$/.test(text)) {
    const ms = Number(text)
    return { instant: ms, iso: luxonFormatOslo(ms) }
  }
  const zoned = /^(.*?)(\[([A-Za-z_/+\-0-9]+)\])$/.exec(text)
  const body = zoned ? zoned[1]! : text
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}(:?\d{2})?)?$/i.test(body))
    return undefined
  const hasOffset = /(Z|[+-]\d{2}:?\d{2}(:?\d{2})?)$/i.test(body)
  const zone = zoned ? zoned[3]! : OSLO
  const dt = hasOffset ? DateTime.fromISO(body, { setZone: true }) : DateTime.fromISO(body, { zone })
  if (!dt.isValid) return undefined
  return { instant: dt.toMillis(), iso: luxonFormat(dt) }
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const oslo = IANAZone.create(OSLO)

/** Every instant in [from, to) where Oslo's offset changes, found from Luxon's zone data alone. */
function osloSwitches(fromYear: number, toYear: number): number[] {
  const found: number[] = []
  let day = Date.UTC(fromYear, 0, 1)
  for (const end = Date.UTC(toYear, 0, 1); day < end; day += 24 * HOUR) {
    let lo = day
    let hi = day + 24 * HOUR
    if (oslo.offset(lo) === oslo.offset(hi)) continue
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2)
      if (oslo.offset(mid) === oslo.offset(lo)) lo = mid
      else hi = mid
    }
    found.push(hi)
  }
  return found
}

const SWITCHES = osloSwitches(1990, 2101)
const pad = (n: number, width = 2) => String(n).padStart(width, '0')

describe('formatOslo', () => {
  it('prints seconds always, a fraction without trailing zeros, and the offset of that date', () => {
    expect(formatOslo(Date.parse('2024-05-01T10:00:00Z'))).toBe('2024-05-01T12:00:00+02:00')
    expect(formatOslo(new Date('2024-01-05T23:01:56.020Z'))).toBe('2024-01-06T00:01:56.02+01:00')
    expect(formatOslo(Date.parse('2024-03-31T01:00:00Z') - 1)).toBe('2024-03-31T01:59:59.999+01:00')
    expect(formatOslo(Date.parse('2024-03-31T01:00:00Z'))).toBe('2024-03-31T03:00:00+02:00')
    expect(formatOslo(Date.parse('2024-10-27T01:00:00Z') - 1)).toBe('2024-10-27T02:59:59.999+02:00')
    expect(formatOslo(Date.parse('2024-10-27T01:00:00Z'))).toBe('2024-10-27T02:00:00+01:00')
  })

  it("relies on Luxon's zone data following the EU rule in every year of the hand path, 1997-2099", () => {
    const lastSundayOneUtc = (year: number, month: number) => {
      const lastDay = new Date(Date.UTC(year, month + 1, 0))
      return lastDay.getTime() - lastDay.getUTCDay() * 24 * HOUR + HOUR
    }
    const rule: number[] = []
    for (let year = 1996; year <= 2100; year++)
      rule.push(lastSundayOneUtc(year, 2), lastSundayOneUtc(year, 9))
    expect(osloSwitches(1996, 2101)).toEqual(rule)
  })

  it('matches Luxon for random instants across 1900-2200', () => {
    const instant = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) })
    fc.assert(
      fc.property(instant, (ms) => {
        expect(formatOslo(ms)).toBe(luxonFormatOslo(ms))
        expect(formatOslo(new Date(ms))).toBe(luxonFormatOslo(ms))
      }),
      { numRuns: 20_000 },
    )
  })

  it('matches Luxon every minute within two hours of every switch 1990-2100, and a millisecond either side', () => {
    expect(SWITCHES).toHaveLength(2 * 111)
    for (const at of SWITCHES) {
      for (let ms = at - 2 * HOUR; ms <= at + 2 * HOUR; ms += MINUTE)
        expect(formatOslo(ms)).toBe(luxonFormatOslo(ms))
      for (const ms of [at - 1, at + 1]) expect(formatOslo(ms)).toBe(luxonFormatOslo(ms))
    }
  })

  it('matches Luxon at random milliseconds within two hours of a switch', () => {
    const near = fc.tuple(fc.constantFrom(...SWITCHES), fc.integer({ min: -2 * HOUR, max: 2 * HOUR }))
    fc.assert(
      fc.property(near, ([at, delta]) => {
        expect(formatOslo(at + delta)).toBe(luxonFormatOslo(at + delta))
      }),
      { numRuns: 20_000 },
    )
  })

  it('matches Luxon outside the hand path: far years, fractions of a millisecond, NaN', () => {
    for (const ms of [-8.64e15, -1e14, -1, 0, 1.5, Date.UTC(1997, 0, 1) - 0.5, 8.64e15, Number.NaN]) {
      expect(formatOslo(ms)).toBe(luxonFormatOslo(ms))
    }
    expect(formatOslo(new Date(Number.NaN))).toBe(luxonFormatOslo(new Date(Number.NaN)))
  })

  it('matches Luxon at the edges of the hand path', () => {
    for (const edge of [Date.UTC(1997, 0, 1), Date.UTC(2100, 0, 1)]) {
      for (let ms = edge - 3 * HOUR; ms <= edge + 3 * HOUR; ms += MINUTE) {
        for (const probe of [ms - 1, ms]) expect(formatOslo(probe)).toBe(luxonFormatOslo(probe))
      }
    }
  })
})

/** Runs `check` once with Oslo in summer time and once in winter time at the moment of parsing. */
function inBothSeasons(check: () => void): void {
  vi.useFakeTimers({ toFake: ['Date'] })
  for (const now of ['2026-07-01T12:00:00Z', '2026-01-15T12:00:00Z']) {
    vi.setSystemTime(new Date(now))
    check()
  }
}

function sameAsLuxon(value: unknown): void {
  expect(parseDateTime(value)).toEqual(luxonParseDateTime(value))
}

afterEach(() => {
  vi.useRealTimers()
})

const digits = (min: number, max: number, width: number) => fc.integer({ min, max }).map((n) => pad(n, width))
const year = fc.oneof(
  { weight: 4, arbitrary: digits(1990, 2110, 4) },
  { weight: 1, arbitrary: digits(0, 9999, 4) },
)
const twoDigits = (min: number, max: number) =>
  fc.oneof({ weight: 9, arbitrary: digits(min, max, 2) }, { weight: 1, arbitrary: digits(0, 99, 2) })
const fraction = fc.oneof(
  fc.constant(''),
  fc.stringMatching(/^\.\d{1,9}$/),
  fc.constantFrom('.0', '.000', '.570', '.999999999', '.1234567890', ',5', '.'),
)
const offset = fc.oneof(
  fc.constant(''),
  fc.constantFrom('Z', 'z', '+00:00', '-00:00', '+0100', '-0230', '+01', '+01:00:30', '+0100:30'),
  fc.tuple(fc.constantFrom('+', '-'), digits(0, 30, 2), digits(0, 70, 2)).map(([s, h, m]) => `${s}${h}:${m}`),
  fc.constantFrom('[Europe/Oslo]', 'Z[UTC]', '+01:00[Europe/Oslo]', '[America/New_York]', '[Nowhere/Else]'),
)
/** Mostly the shape fagsystems send, with invalid fields and odd offsets mixed in. */
const wellFormed = fc
  .record({
    date: fc.tuple(year, twoDigits(1, 12), twoDigits(1, 31)).map((p) => p.join('-')),
    t: fc.constantFrom('T', 'T', 'T', 't', ' '),
    hm: fc.tuple(twoDigits(0, 24), twoDigits(0, 59)).map((p) => p.join(':')),
    seconds: fc.option(twoDigits(0, 60), { nil: undefined }),
    fraction,
    offset,
    space: fc.constantFrom('', '', '', ' ', '\t'),
  })
  .map((p) => {
    const time = p.seconds === undefined ? p.hm : `${p.hm}:${p.seconds}${p.fraction}`
    return `${p.space}${p.date}${p.t}${time}${p.offset}${p.space}`
  })

/** Local Oslo times in the hours around every spring gap and autumn overlap, 1990-2100. */
const aroundSwitch = fc
  .tuple(
    fc.constantFrom(...SWITCHES),
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 59 }),
    fc.integer({ min: 0, max: 59 }),
    fraction,
  )
  .map(([at, hour, minute, second, frac]) => {
    const day = new Date(at).toISOString().slice(0, 10)
    return `${day}T${pad(hour)}:${pad(minute)}:${pad(second)}${frac}`
  })

describe('parseDateTime', () => {
  it('follows Luxon in the cases found by testing', () => {
    const iso = (text: string) => parseDateTime(text)?.iso
    expect(iso('2024-05-01T10:00:00.1234567+02:00')).toBe('2024-05-01T10:00:00.123+02:00')
    expect(iso('2024-05-01T10:00+00:00')).toBe('2024-05-01T10:00:00Z')
    expect(iso('2024-05-01T10:00-00:00')).toBe('2024-05-01T10:00:00Z')
    expect(iso('2024-05-01T10:00-00:30')).toBe('2024-05-01T10:00:00-00:30')
    expect(iso('2024-05-01T10:00+0100')).toBe('2024-05-01T10:00:00+01:00')
    expect(iso('2024-05-01T24:00')).toBe('2024-05-02T00:00:00+02:00')
    expect(iso('2024-05-01T10:00+01:60')).toBe('2024-05-01T10:00:00+02:00')
    expect(iso('2024-03-31T02:30')).toBe('2024-03-31T03:30:00+02:00')
    expect(iso('2024-02-30T10:00')).toBeUndefined()
    expect(iso('2024-05-01T10:00:60Z')).toBeUndefined()
    inBothSeasons(() => {
      const summer = new Date().getUTCMonth() === 6
      expect(iso('2024-10-27T02:30')).toBe(`2024-10-27T02:30:00${summer ? '+02:00' : '+01:00'}`)
    })
  })

  it('matches Luxon for random well-formed and nearly well-formed date-times', () => {
    inBothSeasons(() => {
      fc.assert(fc.property(wellFormed, sameAsLuxon), { numRuns: 20_000 })
    })
  })

  it('matches Luxon at the edges of the hand path, every minute of the three hours either side', () => {
    const texts: string[] = []
    for (const edge of [Date.UTC(1997, 0, 1), Date.UTC(2100, 0, 1)]) {
      for (let ms = edge - 3 * HOUR; ms <= edge + 3 * HOUR; ms += MINUTE) {
        const wallClock = new Date(ms).toISOString().slice(0, 23)
        texts.push(wallClock, `${wallClock}Z`, `${wallClock}-02:00`, `${wallClock}+02:00`)
        texts.push(new Date(ms - 1).toISOString().slice(0, 23))
      }
    }
    inBothSeasons(() => {
      for (const text of texts) sameAsLuxon(text)
    })
  })

  it('matches Luxon for local times in and around every spring gap and autumn overlap', () => {
    inBothSeasons(() => {
      fc.assert(fc.property(aroundSwitch, sameAsLuxon), { numRuns: 10_000 })
    })
  })

  it('matches Luxon for malformed text: edited date-times and arbitrary strings', () => {
    const edited = fc
      .tuple(
        wellFormed,
        fc.nat(),
        fc.constantFrom('delete', 'insert', 'replace'),
        fc.string({ maxLength: 1 }),
      )
      .map(([text, at, edit, char]) => {
        const i = at % (text.length + 1)
        const rest = text.slice(edit === 'insert' ? i : i + 1)
        return `${text.slice(0, i)}${edit === 'delete' ? '' : char}${rest}`
      })
    inBothSeasons(() => {
      fc.assert(
        fc.property(
          fc.oneof(edited, fc.string(), fc.string({ unit: fc.constantFrom(...'0123456789-:T+Z.') })),
          sameAsLuxon,
        ),
        { numRuns: 20_000 },
      )
    })
  })

  it('matches Luxon for epoch milliseconds and values that are not text', () => {
    const value = fc.oneof(
      fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) }),
      fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) }).map(String),
      fc.double(),
      fc.constantFrom(8.64e15, 8.64e15 + 1, -8.64e15, 1e17, null, undefined, true, {}, [], '999999999999999'),
    )
    fc.assert(fc.property(value, sameAsLuxon), { numRuns: 5_000 })
  })
})
