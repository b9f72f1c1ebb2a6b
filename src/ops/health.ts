// Health in Spring Boot actuator's shape, as the reference answers `/manage/health`:
// `{"status":"UP","components":{"db":{"status":"UP","details":{...}}, ...}}`, 200 when UP, 503 when DOWN.
// As Spring's default status aggregator, any component DOWN makes the whole DOWN.

export type HealthStatus = 'UP' | 'DOWN'

export interface Health {
  status: HealthStatus
  details?: Record<string, unknown>
  components?: Record<string, Health>
}

/** One component's check; a throw or no answer in time is DOWN with the error as its detail. */
export type HealthCheck = () => Promise<Health>

export type HealthChecks = Record<string, HealthCheck>

export const up = (details?: Record<string, unknown>): Health =>
  details ? { status: 'UP', details } : { status: 'UP' }

export const down = (details?: Record<string, unknown>): Health =>
  details ? { status: 'DOWN', details } : { status: 'DOWN' }

/** Runs the checks side by side, each bounded by `timeoutMs`, and folds them into one answer. */
export async function aggregate(checks: HealthChecks, timeoutMs: number): Promise<Health> {
  const names = Object.keys(checks).sort()
  const results = await Promise.all(names.map((name) => runCheck(checks[name]!, timeoutMs)))
  const components = Object.fromEntries(names.map((name, i) => [name, results[i]!]))
  const status: HealthStatus = results.every((r) => r.status === 'UP') ? 'UP' : 'DOWN'
  return { status, components }
}

export async function runCheck(check: HealthCheck, timeoutMs: number): Promise<Health> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<Health>((resolve) => {
    timer = setTimeout(() => resolve(down({ error: `no answer within ${timeoutMs} ms` })), timeoutMs)
    timer.unref?.()
  })
  try {
    return await Promise.race([check().catch((error: unknown) => down({ error: describe(error) })), late])
  } finally {
    clearTimeout(timer)
  }
}

export function httpStatusOf(health: Health): 200 | 503 {
  return health.status === 'UP' ? 200 : 503
}

/**
 * Reuses a check's answer for `ttlMs` (by the injected clock) and lets callers that come while it runs
 * share that run, so a load balancer probing every second does not hammer a remote service.
 */
export function cached(check: HealthCheck, ttlMs: number, now: () => number): HealthCheck {
  let last: { at: number; health: Health } | undefined
  let running: Promise<Health> | undefined
  return () => {
    if (last && now() - last.at < ttlMs) return Promise.resolve(last.health)
    running ??= check()
      .catch((error: unknown) => down({ error: describe(error) }))
      .then((health) => {
        last = { at: now(), health }
        return health
      })
      .finally(() => {
        running = undefined
      })
    return running
  }
}

export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = (error as { cause?: unknown }).cause
  // undici's "fetch failed" and friends say what happened only in their cause
  return cause instanceof Error && cause.message && cause.message !== error.message
    ? `${error.message}: ${cause.message}`
    : error.message || error.name
}
