import { describe, expect, it } from 'vitest'
import { hasText, isJavaUuid, javaSplit, parseJavaInt } from './java.js'

describe('Java behaviour the rules rely on', () => {
  it('UUID.fromString is lenient', () => {
    for (const ok of [
      'ff88849c-e281-4809-8555-7cd54952b916',
      '1-1-1-1-1',
      'A-b-C-d-E',
      '+1-2-3-4-5',
      '7fffffffffffffff-0-0-0-0',
    ]) {
      expect(isJavaUuid(ok)).toBe(true)
    }
    for (const bad of [
      '',
      'abc',
      '1-1-1-1',
      '1-1-1-1-1-1',
      '1--1-1-1',
      'g-1-1-1-1',
      'ffffffffffffffff-0-0-0-0',
      `${'1'.repeat(33)}-1-1-1-1`,
    ]) {
      expect(isJavaUuid(bad)).toBe(false)
    }
  })

  it('hasText uses Java whitespace (no-break space is text)', () => {
    expect(hasText(' \t\n')).toBe(false)
    expect(hasText('\u2003')).toBe(false)
    expect(hasText('\u00a0')).toBe(true)
    expect(hasText(null)).toBe(false)
    expect(hasText('a')).toBe(true)
  })

  it('split drops trailing empty strings', () => {
    expect(javaSplit('a;b;;', ';')).toEqual(['a', 'b'])
    expect(javaSplit(';a', ';')).toEqual(['', 'a'])
    expect(javaSplit(';;', ';')).toEqual([])
  })

  it('parseInt takes a sign and the int range', () => {
    expect(parseJavaInt('+5')).toBe(5)
    expect(parseJavaInt('2147483647')).toBe(2147483647)
    expect(parseJavaInt('2147483648')).toBeUndefined()
    expect(parseJavaInt('1.0')).toBeUndefined()
  })
})
