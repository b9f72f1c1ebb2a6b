import { existsSync } from 'node:fs'
import { statfs } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { sql } from 'kysely'
import { Agent, request } from 'undici'
import { type Db, ping } from '../db/open.js'
import { down, type HealthCheck, up } from './health.js'

/** `db`: one `select 1`, as Spring's DataSourceHealthIndicator validates a connection. */
export function dbCheck(db: Db): HealthCheck {
  const database = db.caps.name === 'sqlite' ? 'SQLite' : 'PostgreSQL'
  return async () => {
    try {
      await ping(db)
      return up({ database, validationQuery: 'select 1' })
    } catch (error) {
      return down({ database, error: (error as Error).message })
    }
  }
}

/**
 * `diskSpace`, in Spring's shape: free bytes of the file system that holds the payload folder against
 * a threshold. A folder not made yet is measured on its nearest existing parent.
 */
export function diskSpaceCheck(path: string, thresholdBytes: number): HealthCheck {
  const folder = resolve(path)
  return async () => {
    let measured = folder
    while (!existsSync(measured) && dirname(measured) !== measured) measured = dirname(measured)
    const fs = await statfs(measured)
    const free = fs.bavail * fs.bsize
    const details = {
      total: fs.blocks * fs.bsize,
      free,
      threshold: thresholdBytes,
      path: folder,
      exists: measured === folder,
    }
    return free >= thresholdBytes ? up(details) : down(details)
  }
}

/** Answers a proxy gives for a service behind it that is not there. */
const GATEWAY_FAILURES = new Set([502, 503, 504])

/**
 * A remote service (the ServiceRegistry, a broker) is reachable when `url` answers at all: any HTTP
 * status but a gateway's 502/503/504 is UP (the call is unauthenticated, so 401 and 404 are expected).
 * A connection error or no answer within `timeoutMs` is DOWN.
 */
export function reachableCheck(url: string, timeoutMs: number): HealthCheck {
  const shown = withoutCredentials(url)
  return async () => {
    // an agent per check: nothing to close when the integration point stops, no stale pooled socket
    const agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    try {
      const res = await request(url, {
        method: 'GET',
        dispatcher: agent,
        signal: AbortSignal.timeout(timeoutMs),
      })
      await res.body.dump()
      const details = { url: shown, httpStatus: res.statusCode }
      return GATEWAY_FAILURES.has(res.statusCode) ? down(details) : up(details)
    } catch (error) {
      return down({ url: shown, error: reason(error, timeoutMs) })
    } finally {
      agent.destroy().catch(() => {})
    }
  }
}

/**
 * `jobs`: no job has waited for a worker longer than `maxWaitMs`. A job waits from its due time, or
 * from when its lease ran out (its worker died); a job running under a live lease does not wait.
 */
export function jobsCheck(db: Db, now: () => number, maxWaitMs: number): HealthCheck {
  return async () => {
    const at = now()
    const row = await db.kysely
      .selectFrom('jobs')
      .select([
        (eb) => eb.fn.countAll<number>().as('waiting'),
        sql<number | null>`min(case when locked_until > run_at then locked_until else run_at end)`.as(
          'since',
        ),
      ])
      .where('state', '=', 'PENDING')
      .where('run_at', '<=', at)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', at)]))
      .executeTakeFirstOrThrow()
    const since = row.since === null ? null : Number(row.since)
    const oldestMs = since === null ? 0 : Math.max(0, at - since)
    const details = {
      waiting: Number(row.waiting),
      oldestWaitingSeconds: Math.floor(oldestMs / 1000),
      maxWaitSeconds: Math.floor(maxWaitMs / 1000),
    }
    return oldestMs > maxWaitMs ? down(details) : up(details)
  }
}

function withoutCredentials(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.toString().replace(/\/$/, '')
  } catch {
    return url
  }
}

function reason(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; code?: string; message?: string; cause?: { code?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || /timeout/i.test(e?.code ?? ''))
    return `no answer within ${timeoutMs} ms`
  const code = e?.code ?? e?.cause?.code
  return code ? `${code}: ${e?.message ?? ''}`.trim() : (e?.message ?? String(error))
}
