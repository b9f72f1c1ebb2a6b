import { ConfigError, type ConfigIssue } from '../config/errors.js'
import { toDataSize, toInteger } from '../config/fields.js'
import type { Config } from '../config/types.js'

/**
 * The monitoring settings (docs/operations.md, "Monitoring"), read from `Config.properties` once at start.
 * Only the disk space threshold is the reference's (Spring Boot's); the others are ours.
 */
export interface OpsSettings {
  /** management.health.diskspace.threshold (10MB, as Spring Boot): less free space makes diskSpace DOWN */
  diskThresholdBytes: number
  /** difi.move.health.timeout-ms (3000): how long a reachability check of the ServiceRegistry or a broker waits */
  remoteTimeoutMs: number
  /** difi.move.health.cache-ms (10000): a reachability answer is reused this long, so probes do not hammer them */
  remoteCacheMs: number
  /** difi.move.health.jobs.max-wait-minutes (15): a job waiting longer for a worker makes `jobs` DOWN */
  jobsMaxWaitMs: number
  /** difi.move.health.liveness.max-event-loop-lag-ms (10000): a longer stall in the last minute fails liveness */
  maxEventLoopLagMs: number
  /** difi.move.metrics.status-window-hours (24): `eformidling_message_statuses_recent` counts statuses this recent */
  statusWindowMs: number
}

const KEYS = {
  disk: 'management.health.diskspace.threshold',
  timeout: 'difi.move.health.timeout-ms',
  cache: 'difi.move.health.cache-ms',
  jobsWait: 'difi.move.health.jobs.max-wait-minutes',
  lag: 'difi.move.health.liveness.max-event-loop-lag-ms',
  window: 'difi.move.metrics.status-window-hours',
} as const

/** Reads and checks the settings; every wrong one is reported at once, naming its property. */
export function opsSettings(config: Pick<Config, 'properties'>): OpsSettings {
  const issues: ConfigIssue[] = []
  const read = (key: string, fallback: number, parse: (raw: string) => ReturnType<typeof toInteger>) => {
    const raw = config.properties.get(key)
    if (raw === undefined || raw.trim() === '') return fallback
    const r = parse(raw)
    if (r.ok) return r.value
    issues.push({ key, message: r.message })
    return fallback
  }
  const int = (key: string, fallback: number, min: number) =>
    read(key, fallback, (raw) => toInteger(key, raw, min))
  const settings: OpsSettings = {
    diskThresholdBytes: read(KEYS.disk, 10 * 1024 * 1024, (raw) => toDataSize(KEYS.disk, raw)),
    remoteTimeoutMs: int(KEYS.timeout, 3000, 1),
    remoteCacheMs: int(KEYS.cache, 10_000, 0),
    jobsMaxWaitMs: int(KEYS.jobsWait, 15, 1) * 60_000,
    maxEventLoopLagMs: int(KEYS.lag, 10_000, 1),
    statusWindowMs: int(KEYS.window, 24, 1) * 3_600_000,
  }
  if (issues.length) throw new ConfigError(issues)
  return Object.freeze(settings)
}
