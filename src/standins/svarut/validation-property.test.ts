import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SvarUtError } from './errors.js'
import { forsendelse } from './test-support.js'
import { parseForsendelse } from './validation.js'

// Whatever JSON a sender writes, the checks answer it or refuse it with a 400: never another error.

const TYPES = ['Arkivmelding']

function outcome(text: string): 'ok' | 400 {
  try {
    parseForsendelse(text, TYPES)
    return 'ok'
  } catch (error) {
    if (error instanceof SvarUtError && error.status === 400) return 400
    throw error
  }
}

describe('parseForsendelse', () => {
  it('refuses any JSON value with a 400 or accepts it, never failing otherwise', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => void outcome(JSON.stringify(value))),
      { numRuns: 500 },
    )
  })

  it('survives any field of a valid forsendelse replaced by any JSON value', () => {
    const base = forsendelse()
    const paths = [
      ...Object.keys(base).map((k) => [k]),
      ['mottaker', 'adresse'],
      ['mottaker', 'digitalId'],
      ['svarSendesTil', 'adresse'],
      ['metadataFraAvleverendeSystem', 'ekstraMetadata'],
      ['metadataFraAvleverendeSystem', 'saksaar'],
    ]
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue(), (path, value) => {
        const copy = structuredClone(base) as Record<string, Record<string, unknown>>
        if (path.length === 1) (copy as Record<string, unknown>)[path[0]!] = value
        else copy[path[0]!]![path[1]!] = value
        outcome(JSON.stringify(copy))
      }),
      { numRuns: 1000 },
    )
    expect(outcome(JSON.stringify(base))).toBe('ok')
  })
})
