import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ApiError } from '../errors/api-error.js'
import { BUSINESS_MESSAGE_TYPES } from './business-schemas.js'
import { parseSbd, serializeSbd } from './parse.js'
import { FULL, sbdJson } from './test-support.js'

/** replaces the value at a random path of a JSON value */
function mutate(value: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return replacement
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value)
  if (entries.length === 0) return replacement
  const index = path[0]! % entries.length
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...value }
  const [key, child] = entries[index]!
  ;(copy as Record<string, unknown>)[key] = mutate(child, path.slice(1), replacement)
  return copy
}

const validSbd = fc.constantFrom(...BUSINESS_MESSAGE_TYPES).map((type) => sbdJson(type, FULL[type]))

/** values that sit near what the binder coerces: numbers, numeric and date-like text, enum-ish words */
const replacement = fc.oneof(
  fc.jsonValue(),
  fc.integer({ min: -(2 ** 53), max: 2 ** 53 }),
  fc.double(),
  fc.constantFrom('', ' ', 'null', 'true', 'FALSE', '0', '-1', '2147483648', '1e3', 'SORT_HVIT', '__proto__'),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.stringMatching(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([+-]\d{2}:\d{2}|Z)?)?$/),
)

/** fixed by default so the suite is deterministic; FUZZ_SEED / FUZZ_RUNS explore further */
const options = (runs: number) => ({
  seed: Number(process.env.FUZZ_SEED ?? 20260115),
  numRuns: Number(process.env.FUZZ_RUNS ?? runs),
})

function parsesOrRefuses(input: unknown): ReturnType<typeof parseSbd> | undefined {
  try {
    return parseSbd(input)
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'MessageNotReadable') throw err
    return undefined
  }
}

describe('fuzzing', () => {
  it('any JSON value parses or is refused with a 400', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => void parsesOrRefuses(v)),
      options(500),
    )
  })

  it('any mutation of a valid SBD parses or is refused with a 400, and what parses round-trips', () => {
    fc.assert(
      fc.property(validSbd, fc.array(fc.nat(), { maxLength: 8 }), replacement, (sbd, path, value) => {
        const parsed = parsesOrRefuses(JSON.parse(JSON.stringify(mutate(sbd, path, value))))
        if (!parsed) return
        const once = serializeSbd(parsed)
        const twice = serializeSbd(parseSbd(JSON.parse(JSON.stringify(once))))
        expect(JSON.stringify(twice)).toBe(JSON.stringify(once))
      }),
      options(2000),
    )
  })

  it('date fields hold any value read back the way it was written', () => {
    const put = (value: unknown) => [
      sbdJson('dialogmelding', { metadataFiler: { 'a.png': { issueDate: value } } }),
      sbdJson('digital', { digitalPostInfo: { virkningsdato: value } }),
      sbdJson('arkivmelding', {}, { expectedResponseDateTime: value as string }),
    ]
    fc.assert(
      fc.property(replacement, (value) => {
        for (const input of put(value)) {
          const parsed = parsesOrRefuses(JSON.parse(JSON.stringify(input)))
          if (!parsed) continue
          const once = serializeSbd(parsed)
          expect(JSON.stringify(serializeSbd(parseSbd(JSON.parse(JSON.stringify(once)))))).toBe(
            JSON.stringify(once),
          )
        }
      }),
      options(2000),
    )
  })

  it('every valid SBD round-trips unchanged', () => {
    for (const type of BUSINESS_MESSAGE_TYPES) {
      const parsed = parseSbd(sbdJson(type, FULL[type]))
      expect(parseSbd(JSON.parse(JSON.stringify(serializeSbd(parsed))))).toEqual(parsed)
    }
  })
})
