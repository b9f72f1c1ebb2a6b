import { dirname } from 'node:path'
import { enabledChannels } from '../channels/registry.js'
import type { Config } from '../config/types.js'
import type { Db } from '../db/open.js'
import type { PayloadStore } from '../files/payload-store.js'
import type { Clock } from '../util/time.js'
import { createDbMetrics } from './db-metrics.js'
import { aggregate, cached, type Health, type HealthChecks, runCheck } from './health.js'
import { dbCheck, diskSpaceCheck, jobsCheck, reachableCheck } from './health-checks.js'
import { buildInfo, createInfo } from './info.js'
import { createMetrics, type Metrics } from './metrics.js'
import { createLifecycle, type Lifecycle, livenessState } from './probes.js'
import { type OpsSettings, opsSettings } from './settings.js'

/** Everything behind `/manage/**`: health, info and metrics of one integration point. */
export interface Ops {
  readonly settings: OpsSettings
  readonly metrics: Metrics
  readonly lifecycle: Lifecycle
  /** every component; DOWN when any is */
  health(): Promise<Health>
  /** the k8s liveness probe: the process answers and its event loop is not stalling */
  liveness(): Promise<Health>
  /** the k8s readiness probe: started, not shutting down, and the database answers */
  readiness(): Promise<Health>
  /** one component (`/manage/health/db`); undefined when there is no such component */
  component(name: string): Promise<Health | undefined>
  info(): Record<string, unknown>
  /** the Prometheus text exposition, with the database's numbers read now */
  prometheus(): Promise<string>
}

export interface OpsDeps {
  config: Config
  db: Db
  clock: Clock
  payloads: PayloadStore
  /** parsed at start by the caller; parsed here when not given */
  settings?: OpsSettings
  /** the services that can be delivered here (AppDeps.transports), for `/manage/info` */
  transports: ReadonlySet<string>
}

export function createOps(deps: OpsDeps): Ops {
  const settings = deps.settings ?? opsSettings(deps.config)
  const now = () => deps.clock.now().getTime()
  const metrics = createMetrics({ version: buildInfo().version })
  const dbMetrics = createDbMetrics(metrics.registry, {
    db: deps.db,
    now,
    statusWindowMs: settings.statusWindowMs,
  })
  const lifecycle = createLifecycle()
  const remote = (url: string) =>
    cached(reachableCheck(url, settings.remoteTimeoutMs), settings.remoteCacheMs, now)
  const db = dbCheck(deps.db)
  const liveness: HealthChecks = { livenessState: livenessState(settings.maxEventLoopLagMs) }
  const readiness: HealthChecks = { readinessState: lifecycle.readinessState, db }
  const all: HealthChecks = {
    ...liveness,
    ...readiness,
    // the payload folder is the root of the payload store, beside its `.tmp`
    diskSpace: diskSpaceCheck(dirname(deps.payloads.tempDir), settings.diskThresholdBytes),
    serviceRegistry: remote(deps.config.serviceRegistry.jwkUrl),
    jobs: jobsCheck(deps.db, now, settings.jobsMaxWaitMs),
    ...brokerChecks(deps.config, remote),
  }
  // a check's own timeout says more than this one, which only guards against a hung database
  const timeoutMs = settings.remoteTimeoutMs + 2000
  const info = createInfo({
    config: deps.config,
    clock: deps.clock,
    database: deps.db.caps.name,
    transports: deps.transports,
  })
  return {
    settings,
    metrics,
    lifecycle,
    health: () => aggregate(all, timeoutMs),
    liveness: () => aggregate(liveness, timeoutMs),
    readiness: () => aggregate(readiness, timeoutMs),
    async component(name) {
      const check = Object.hasOwn(all, name) ? all[name] : undefined
      return check ? runCheck(check, timeoutMs) : undefined
    },
    info,
    async prometheus() {
      await dbMetrics.refresh()
      return metrics.render()
    },
  }
}

/** Each enabled channel's components (its broker or service), UP when the URL answers at all. */
function brokerChecks(config: Config, remote: (url: string) => HealthChecks[string]): HealthChecks {
  const checks: HealthChecks = {}
  for (const channel of enabledChannels(config.features.enabled))
    for (const [name, url] of Object.entries(channel.reachable(config))) checks[name] = remote(url)
  return checks
}
