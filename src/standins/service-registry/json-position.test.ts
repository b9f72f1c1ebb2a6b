import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonErrorOffset } from './json-position.js'

function parses(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

describe('finding where JSON breaks', () => {
  it.each([
    ['{ "a": [ }', 9],
    ['{ "a": 1, }', 10],
    ['{ "a" 1 }', 6],
    ['[1, 2', 5],
    ['{"a": "x\ny"}', 8],
    ['{"a": 01}', 7],
    ['{"a": "\\q"}', 8],
    ['[true, nul]', 7],
    ['{} {}', 3],
  ])('%j breaks at %i', (text, offset) => {
    expect(jsonErrorOffset(text)).toBe(offset)
  })

  it('agrees with JSON.parse on what is JSON', () => {
    const almostJson = fc
      .tuple(
        fc.jsonValue(),
        fc.nat(),
        fc.constantFrom('', ',', '}', ']', '"', ':', ' ', '\n', '0', '\\', 'x'),
      )
      .map(([value, n, junk]) => {
        const text = JSON.stringify(value, null, n % 3)
        const at = n % (text.length + 1)
        return text.slice(0, at) + junk + text.slice(at)
      })
    fc.assert(
      fc.property(fc.oneof(almostJson, fc.string()), (text) => {
        expect(jsonErrorOffset(text) === undefined).toBe(parses(text))
      }),
      { numRuns: 2000 },
    )
  })
})
