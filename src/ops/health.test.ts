import { describe, expect, it } from 'vitest'
import { ManualClock } from '../util/time.js'
import { aggregate, cached, down, type Health, httpStatusOf, up } from './health.js'
import { createLifecycle } from './probes.js'

describe('aggregate', () => {
  it('is UP when every component is, with the components by name', async () => {
    const h = await aggregate({ b: async () => up({ x: 1 }), a: async () => up() }, 1000)
    expect(h).toEqual({
      status: 'UP',
      components: { a: { status: 'UP' }, b: { status: 'UP', details: { x: 1 } } },
    })
    expect(JSON.stringify(Object.keys(h.components!))).toBe('["a","b"]')
    expect(httpStatusOf(h)).toBe(200)
  })

  it('is DOWN when any one component is DOWN, as Spring aggregates', async () => {
    const h = await aggregate({ db: async () => up(), broker: async () => down({ error: 'refused' }) }, 1000)
    expect(h.status).toBe('DOWN')
    expect(h.components!.db!.status).toBe('UP')
    expect(httpStatusOf(h)).toBe(503)
  })

  it('turns a throw into DOWN with its message, and a check that never answers into DOWN', async () => {
    const h = await aggregate(
      {
        boom: async () => {
          throw new Error('fetch failed', { cause: new Error('connect ECONNREFUSED') })
        },
        hangs: () => new Promise<Health>(() => {}),
      },
      20,
    )
    expect(h.components!.boom).toEqual({
      status: 'DOWN',
      details: { error: 'fetch failed: connect ECONNREFUSED' },
    })
    expect(h.components!.hangs).toEqual({ status: 'DOWN', details: { error: 'no answer within 20 ms' } })
  })
})

describe('cached', () => {
  it('reuses an answer for its time to live, then asks again', async () => {
    const clock = new ManualClock()
    let calls = 0
    let answer = up()
    const check = cached(
      async () => {
        calls++
        return answer
      },
      10_000,
      () => clock.now().getTime(),
    )
    expect(await check()).toEqual(up())
    answer = down()
    clock.advance(9_999)
    expect(await check()).toEqual(up())
    expect(calls).toBe(1)
    clock.advance(1)
    expect(await check()).toEqual(down())
    expect(calls).toBe(2)
  })

  it('lets callers that come while a check runs share it', async () => {
    let calls = 0
    let release: (h: Health) => void = () => {}
    const check = cached(
      () => {
        calls++
        return new Promise<Health>((r) => {
          release = r
        })
      },
      0,
      () => 0,
    )
    const both = Promise.all([check(), check()])
    release(up())
    expect(await both).toEqual([up(), up()])
    expect(calls).toBe(1)
  })
})

describe('lifecycle', () => {
  it('is ready only between start and shutdown, and never ready again after', async () => {
    const life = createLifecycle()
    expect(await life.readinessState()).toEqual(down({ state: 'starting' }))
    life.ready()
    expect(await life.readinessState()).toEqual(up())
    life.draining()
    life.ready()
    expect(await life.readinessState()).toEqual(down({ state: 'draining' }))
  })
})
