import type { Health } from '../ops/health.js'
import { bytes, count } from './format.js'

type Details = Record<string, unknown>

const num = (v: unknown) => Number(v ?? 0)
const seconds = (v: unknown) => `${count(num(v))} s`

/** What a remote check means: any answer but a gateway's is "reachable", since the probe has no credentials. */
function reachable(h: Health, d: Details, what: string): string {
  if (h.status === 'UP')
    return `${what} answers at ${d.url} (HTTP ${d.httpStatus} to a probe without credentials: reachable)`
  if (d.httpStatus !== undefined)
    return `${what} at ${d.url} answers HTTP ${d.httpStatus}: a proxy says it is not there`
  return `${what} cannot be reached at ${d.url ?? '?'}: ${d.error ?? 'no answer'}`
}

/** One component's check, in a sentence for a person instead of raw details. */
export function healthSentence(name: string, h: Health): string {
  const d: Details = h.details ?? {}
  const up = h.status === 'UP'
  switch (name) {
    case 'db':
      return up
        ? `${d.database} answers a query`
        : `${d.database ?? 'The database'} does not answer: ${d.error}`
    case 'diskSpace':
      return `${bytes(num(d.free))} free of ${bytes(num(d.total))} where the messages are kept (${d.path}); at least ${bytes(num(d.threshold))} needed`
    case 'serviceRegistry':
      return reachable(h, d, 'The ServiceRegistry')
    case 'jobs':
      return `${count(num(d.waiting))} background jobs due now; the oldest has waited ${seconds(d.oldestWaitingSeconds)} (DOWN past ${seconds(d.maxWaitSeconds)})`
    case 'livenessState':
      return `The event loop stalled at most ${count(num(d.eventLoopStallMs))} ms in the last minute (DOWN past ${count(num(d.maxEventLoopStallMs))} ms)`
    case 'readinessState':
      return up ? 'Ready to take requests' : `Not ready: ${d.state ?? d.error ?? 'starting or stopping'}`
  }
  if ('url' in d) return reachable(h, d, `The ${name.toUpperCase()} service`)
  const rest = Object.entries(d).map(([k, v]) => `${k} ${String(v)}`)
  return rest.length ? rest.join(', ') : up ? 'OK' : 'failing'
}
