import { describe, expect, it } from 'vitest'
import { healthSentence } from './health-text.js'

describe('healthSentence', () => {
  it('says sizes in human units and what the disk check compares', () => {
    const disk = healthSentence('diskSpace', {
      status: 'UP',
      details: { total: 53_687_091_200, free: 13_207_024_435, threshold: 10_485_760, path: '/data/messages' },
    })
    expect(disk).toBe(
      '12 GiB free of 50 GiB where the messages are kept (/data/messages); at least 10 MiB needed',
    )
  })

  it('reads a 404 from a broker probed without credentials as reachable, not as an error', () => {
    const dpo = healthSentence('dpo', {
      status: 'UP',
      details: { url: 'http://127.0.0.1:9098/broker/api/v1', httpStatus: 404 },
    })
    expect(dpo).toBe(
      'The DPO service answers at http://127.0.0.1:9098/broker/api/v1 (HTTP 404 to a probe without credentials: reachable)',
    )
    expect(
      healthSentence('serviceRegistry', {
        status: 'DOWN',
        details: { url: 'http://sr', error: 'ECONNREFUSED' },
      }),
    ).toBe('The ServiceRegistry cannot be reached at http://sr: ECONNREFUSED')
    expect(healthSentence('dpo', { status: 'DOWN', details: { url: 'http://b', httpStatus: 503 } })).toBe(
      'The DPO service at http://b answers HTTP 503: a proxy says it is not there',
    )
  })

  it('words the database, jobs and probes', () => {
    expect(
      healthSentence('db', { status: 'UP', details: { database: 'SQLite', validationQuery: 'select 1' } }),
    ).toBe('SQLite answers a query')
    expect(
      healthSentence('jobs', {
        status: 'DOWN',
        details: { waiting: 1200, oldestWaitingSeconds: 900, maxWaitSeconds: 600 },
      }),
    ).toBe('1 200 background jobs due now; the oldest has waited 900 s (DOWN past 600 s)')
    expect(healthSentence('readinessState', { status: 'DOWN', details: { state: 'draining' } })).toBe(
      'Not ready: draining',
    )
  })
})
