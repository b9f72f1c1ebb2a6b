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
      { numRuns: 500 },
    )
  })

  it('any mutation of a valid SBD parses or is refused with a 400, and what parses round-trips', () => {
    fc.assert(
      fc.property(
        validSbd,
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.jsonValue(),
        (sbd, path, replacement) => {
          const parsed = parsesOrRefuses(JSON.parse(JSON.stringify(mutate(sbd, path, replacement))))
          if (!parsed) return
          const once = serializeSbd(parsed)
          const twice = serializeSbd(parseSbd(JSON.parse(JSON.stringify(once))))
          expect(JSON.stringify(twice)).toBe(JSON.stringify(once))
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('every valid SBD round-trips unchanged', () => {
    for (const type of BUSINESS_MESSAGE_TYPES) {
      const parsed = parseSbd(sbdJson(type, FULL[type]))
      expect(parseSbd(JSON.parse(JSON.stringify(serializeSbd(parsed))))).toEqual(parsed)
    }
  })
})
