import { describe, expect, it } from 'vitest'
import { createLoop } from './loop.js'

describe('a background loop', () => {
  it('keeps going after a failing tick, wakes on nudge, and stops idempotently', async () => {
    const errors: unknown[] = []
    let ticks = 0
    let wake: () => void = () => {}
    const ticked = () => new Promise<void>((r) => (wake = r))
    const loop = createLoop({
      name: 't',
      intervalMs: 60_000,
      tick: async () => {
        ticks++
        wake()
        if (ticks === 1) throw new Error('boom')
        return 0
      },
      onError: (e) => errors.push(e),
    })
    let next = ticked()
    loop.start()
    loop.start()
    await next
    expect(ticks).toBe(1)
    // the hour-long sleep ends at once on a nudge
    next = ticked()
    await new Promise((r) => setTimeout(r, 5))
    loop.nudge()
    await next
    expect(ticks).toBe(2)
    expect(errors).toHaveLength(1)
    await loop.stop()
    await loop.stop()
    const after = ticks
    loop.nudge()
    await new Promise((r) => setTimeout(r, 10))
    expect(ticks).toBe(after)
  })

  it('goes again at once while a tick reports work', async () => {
    let left = 3
    let done: () => void = () => {}
    const finished = new Promise<void>((r) => (done = r))
    const loop = createLoop({
      name: 't',
      intervalMs: 60_000,
      tick: async () => {
        if (left === 0) done()
        return left > 0 ? left-- : 0
      },
      onError: () => {},
    })
    loop.start()
    await finished
    await loop.stop()
    expect(left).toBe(0)
  })

  it('sleeps after a round that did work but saw all there was, until a nudge', async () => {
    let ticks = 0
    let wake: () => void = () => {}
    const ticked = () => new Promise<void>((r) => (wake = r))
    const loop = createLoop({
      name: 't',
      intervalMs: 60_000,
      tick: async () => {
        ticks++
        wake()
        // work in every round (stopping after a few, so that a loop which asks again fails, not spins)
        return ticks < 5 ? 1 : 0
      },
      mayHaveMore: () => false,
      onError: () => {},
    })
    let next = ticked()
    loop.start()
    await next
    await new Promise((r) => setTimeout(r, 20))
    expect(ticks).toBe(1)
    next = ticked()
    loop.nudge()
    await next
    expect(ticks).toBe(2)
    await loop.stop()
  })
})
