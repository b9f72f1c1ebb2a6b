import { z } from 'zod'
import { SERVICE_IDENTIFIERS } from '../sbd/types.js'
import type { ChannelId } from './types.js'

/**
 * Conversions as Spring Boot's binder does them, each naming its property when the value does not fit,
 * and zod field schemas built from them. A field knows the property it reads (`key`, spelt as the
 * reference documents it) so every message can name it.
 */

type Converted<T> = { ok: true; value: T } | { ok: false; message: string }
const ok = <T>(value: T): Converted<T> => ({ ok: true, value })
const fail = (message: string): Converted<never> => ({ ok: false, message })
const got = (raw: string): string => `got ${JSON.stringify(raw)}`

const TRUE = new Set(['true', 'on', 'yes', '1'])
const FALSE = new Set(['false', 'off', 'no', '0'])

/** Spring's StringToBooleanConverter: true/on/yes/1 and false/off/no/0, any case. */
export function toBoolean(key: string, raw: string): Converted<boolean> {
  const v = raw.trim().toLowerCase()
  if (TRUE.has(v)) return ok(true)
  if (FALSE.has(v)) return ok(false)
  return fail(`${key} must be true or false, ${got(raw)}`)
}

const INT_MAX = 2_147_483_647

/** A whole number in [min, max] (Java Integer range by default). */
export function toInteger(key: string, raw: string, min = 1, max = INT_MAX): Converted<number> {
  const v = raw.trim()
  const n = /^\+?\d+$/.test(v) ? Number(v) : Number.NaN
  if (Number.isSafeInteger(n) && n >= min && n <= max) return ok(n)
  const range = max === INT_MAX ? (min === 0 ? '0 or more' : `${min} or more`) : `${min}-${max}`
  return fail(`${key} must be a whole number (${range}), ${got(raw)}`)
}

/** 0 asks the system for a free port, as Spring's `server.port=0`. */
export function toPort(key: string, raw: string): Converted<number> {
  const n = toInteger(key, raw, 0, 65_535)
  return n.ok ? n : fail(`${key} must be a port number (0-65535), ${got(raw)}`)
}

const DATA_UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }

/**
 * Spring's DataSize: digits and an optional unit among B, KB, MB, GB, TB (case as written, binary:
 * 1MB = 1048576 bytes); a plain number is bytes. Zero and negative sizes make no sense as limits and are refused.
 */
export function toDataSize(key: string, raw: string): Converted<number> {
  const m = /^\+?(\d+)([A-Za-z]{0,2})$/.exec(raw.trim())
  const factor = m && DATA_UNITS[m[2] || 'B']
  const bytes = m && factor ? Number(m[1]) * factor : Number.NaN
  if (Number.isSafeInteger(bytes) && bytes > 0) return ok(bytes)
  return fail(
    `${key} must be a data size such as 1GB, 250MB or 1048576 (bytes; units B, KB, MB, GB, TB), ${got(raw)}`,
  )
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * Spring's Duration as Spring Boot binds it for keys without a unit of their own (Tomcat's timeouts):
 * a plain number is milliseconds, or digits with ms, s, m, h or d (`20s`), or ISO-8601 (`PT20S`, `PT1M30S`).
 * Zero and negative durations are refused (Tomcat's -1, no timeout, is not offered: a timeout is the point).
 */
export function toDuration(key: string, raw: string): Converted<number> {
  const v = raw.trim()
  const simple = /^\+?(\d+)(ms|s|m|h|d)?$/i.exec(v)
  const iso = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?$/i.exec(v)
  let ms = Number.NaN
  if (simple) ms = Number(simple[1]) * DURATION_UNITS[(simple[2] ?? 'ms').toLowerCase()]!
  else if (iso && v.length > 2)
    ms = Math.round((Number(iso[1] ?? 0) * 3600 + Number(iso[2] ?? 0) * 60 + Number(iso[3] ?? 0)) * 1000)
  if (Number.isSafeInteger(ms) && ms > 0 && ms <= INT_MAX) return ok(ms)
  return fail(`${key} must be a duration such as 60s, 2m, 500ms or 60000 (milliseconds), ${got(raw)}`)
}

/** An http(s) URL without its trailing slash(es). */
export function toHttpUrl(key: string, raw: string): Converted<string> {
  const v = raw.trim()
  let url: URL | undefined
  try {
    url = new URL(v)
  } catch {
    url = undefined
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    return fail(`${key} must be an http(s) URL such as https://eformidling.no/adressetjeneste, ${got(raw)}`)
  }
  return ok(v.replace(/\/+$/, ''))
}

/** A list of services (`DPO,DPE` or indexed items), any case, without duplicates. */
export function toChannels(key: string, items: readonly string[]): Converted<ChannelId[]> {
  const out: ChannelId[] = []
  for (const item of items) {
    const id = item.trim().toUpperCase() as ChannelId
    if (!SERVICE_IDENTIFIERS.includes(id)) {
      return fail(`${key} must list services among ${SERVICE_IDENTIFIERS.join(', ')}, ${got(item)}`)
    }
    if (!out.includes(id)) out.push(id)
  }
  return ok(out)
}

/** Runs a conversion inside a zod transform, turning its failure into an issue. */
function convert<I, T>(fn: (raw: I) => Converted<T>) {
  return (raw: I, ctx: z.RefinementCtx): T => {
    const r = fn(raw)
    if (r.ok) return r.value
    ctx.addIssue({ code: 'custom', message: r.message })
    return z.NEVER
  }
}

const optionalString = z.string().optional()

/** A field: the property it reads, how it reads it, and the schema that checks and converts it. */
export interface Field<T> {
  key: string
  list?: boolean
  /** a list of objects with these members (`key[0].member`) */
  objects?: readonly string[]
  schema: z.ZodType<T>
}

const notSet = (key: string, hint: string): Converted<never> => fail(`${key} is not set: ${hint}`)

function scalar<T>(key: string, fn: (raw: string) => Converted<T>, hint: string): Field<T> {
  const schema = optionalString.transform(convert((raw) => (raw === undefined ? notSet(key, hint) : fn(raw))))
  return { key, schema }
}

export const field = {
  bool: (key: string): Field<boolean> => scalar(key, (raw) => toBoolean(key, raw), 'set it to true or false'),
  int: (key: string, min = 1): Field<number> =>
    scalar(key, (raw) => toInteger(key, raw, min), 'set it to a whole number'),
  port: (key: string): Field<number> => scalar(key, (raw) => toPort(key, raw), 'set it to a port number'),
  dataSize: (key: string): Field<number> =>
    scalar(key, (raw) => toDataSize(key, raw), 'set it to a data size such as 250MB'),
  duration: (key: string): Field<number> =>
    scalar(key, (raw) => toDuration(key, raw), 'set it to a duration such as 60s'),
  httpUrl: (key: string): Field<string> =>
    scalar(key, (raw) => toHttpUrl(key, raw), 'set it to an http(s) URL'),
  /** a required, non-empty string */
  text: (key: string, hint = 'leave it out to use the built-in default'): Field<string> =>
    scalar(key, (raw) => (raw ? ok(raw) : fail(`${key} must not be empty: ${hint}`)), hint),
  /** a string that may be absent: empty or unset is null */
  optionalText: (key: string): Field<string | null> => ({
    key,
    schema: optionalString.transform((raw) => raw || null),
  }),
  /** a string with a default that is used when the property is unset or empty */
  textOr: (key: string, fallback: string): Field<string> => ({
    key,
    schema: optionalString.transform((raw) => raw || fallback),
  }),
  channels: (key: string): Field<ChannelId[]> => ({
    key,
    list: true,
    schema: z
      .array(z.string())
      .optional()
      .transform(convert((items) => toChannels(key, items ?? []))),
  }),
  /** DPO's extra system users: `key[i].orgId` (`0192:<orgnr>`) and `key[i].name` */
  systemUsers: (key: string): Field<{ orgId: string; name: string }[]> => ({
    key,
    objects: ['orgId', 'name'],
    schema: z
      .array(z.record(z.string(), z.string()))
      .optional()
      .transform(
        convert((items) => {
          const out: { orgId: string; name: string }[] = []
          for (const [i, item] of (items ?? []).entries()) {
            const orgId = item.orgId ?? ''
            if (!/^(0192:)?\d{9}$/.test(orgId))
              return fail(`${key}[${i}].orgId must be 0192:<organisation number>, ${got(orgId)}`)
            if (!item.name) return fail(`${key}[${i}].name is not set: the system user's name in Altinn`)
            out.push({ orgId: orgId.startsWith('0192:') ? orgId : `0192:${orgId}`, name: item.name })
          }
          return ok(out)
        }),
      ),
  }),
  strings: (key: string, item: RegExp, what: string): Field<string[]> => ({
    key,
    list: true,
    schema: z
      .array(z.string())
      .optional()
      .transform(
        convert((items) => {
          const bad = (items ?? []).find((i) => !item.test(i))
          return bad === undefined ? ok(items ?? []) : fail(`${key} must be a list of ${what}, ${got(bad)}`)
        }),
      ),
  }),
  /** any other check on an optional string */
  custom: <T>(key: string, fn: (raw: string | undefined) => Converted<T>): Field<T> => ({
    key,
    schema: optionalString.transform(convert(fn)),
  }),
}

export { type Converted, fail, ok }
