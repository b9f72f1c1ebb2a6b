import { describe, expect, it } from 'vitest'
import { ManualClock } from '../util/time.js'
import { TtlCache } from './cache.js'

describe('TtlCache', () => {
  it('keeps a value until its time to live has passed since it was written', () => {
    const clock = new ManualClock()
    const cache = new TtlCache<string>(clock, 1000, 10)
    cache.set('a', 'A')
    clock.advance(999)
    expect(cache.get('a')).toBe('A')
    clock.advance(1)
    expect(cache.get('a')).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('restarts the time to live when a key is written again', () => {
    const clock = new ManualClock()
    const cache = new TtlCache<string>(clock, 1000, 10)
    cache.set('a', 'A')
    clock.advance(800)
    cache.set('a', 'B')
    clock.advance(800)
    expect(cache.get('a')).toBe('B')
  })

  it('stays within its bound: expired entries go first, then the oldest', () => {
    const clock = new ManualClock()
    const cache = new TtlCache<number>(clock, 1000, 3)
    cache.set('old', 0)
    clock.advance(1000)
    for (const [i, k] of ['a', 'b', 'c'].entries()) cache.set(k, i)
    expect(cache.size).toBe(3)
    expect(cache.get('a')).toBe(0)
    cache.set('d', 3)
    expect(cache.size).toBe(3)
    expect(cache.get('a')).toBeUndefined()
    expect(cache.get('d')).toBe(3)
  })

  it('caches nothing when the time to live is zero', () => {
    const cache = new TtlCache<string>(new ManualClock(), 0, 10)
    cache.set('a', 'A')
    expect(cache.get('a')).toBeUndefined()
  })

  it('clear() empties it', () => {
    const cache = new TtlCache<string>(new ManualClock(), 1000, 10)
    cache.set('a', 'A')
    cache.clear()
    expect(cache.get('a')).toBeUndefined()
  })
})
