import { describe, expect, it } from 'vitest'
import { ConfigError } from '../config/errors.js'
import { PropertyMap } from '../config/load.js'
import { canonicalKey } from '../config/relaxed.js'
import { opsSettings } from './settings.js'

const props = (entries: Record<string, string>) => ({
  properties: new PropertyMap(Object.entries(entries).map(([k, v]) => [canonicalKey(k), v] as const)),
})

describe('opsSettings', () => {
  it('has defaults: Spring’s 10MB disk threshold, and ours', () => {
    expect(opsSettings(props({}))).toEqual({
      diskThresholdBytes: 10 * 1024 * 1024,
      remoteTimeoutMs: 3000,
      remoteCacheMs: 10_000,
      jobsMaxWaitMs: 15 * 60_000,
      maxEventLoopLagMs: 10_000,
      statusWindowMs: 24 * 3_600_000,
    })
  })

  it('reads every key in any relaxed spelling, sizes with units', () => {
    const s = opsSettings(
      props({
        'management.health.diskspace.threshold': '1GB',
        'difi.move.health.timeoutMs': '500',
        'difi.move.health.cache-ms': '0',
        'difi.move.health.jobs.max-wait-minutes': '2',
        'difi.move.health.liveness.max-event-loop-lag-ms': '250',
        'difi.move.metrics.status-window-hours': '1',
      }),
    )
    expect(s).toEqual({
      diskThresholdBytes: 1024 ** 3,
      remoteTimeoutMs: 500,
      remoteCacheMs: 0,
      jobsMaxWaitMs: 120_000,
      maxEventLoopLagMs: 250,
      statusWindowMs: 3_600_000,
    })
  })

  it('names every wrong setting at once', () => {
    let error: unknown
    try {
      opsSettings(
        props({ 'management.health.diskspace.threshold': 'lots', 'difi.move.health.timeout-ms': '0' }),
      )
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).issues.map((i) => i.key)).toEqual([
      'management.health.diskspace.threshold',
      'difi.move.health.timeout-ms',
    ])
    expect((error as ConfigError).message).toMatch(/threshold must be a data size/)
  })
})
