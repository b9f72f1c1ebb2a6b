// Prometheus metrics of one integration point (docs/operations.md, "Monitoring"). Each integration point
// has its own registry (tests and the sandbox run two in one process); the process's own metrics (CPU,
// memory, event loop, GC) are collected once per process and printed with every integration point's.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { JobObserver } from '../jobs/runner.js'
import type { WebhookObserver } from '../webhooks/handler.js'

/** The exposition format Prometheus scrapes (text 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE

/** A timed piece of work of a service: sending one message, receiving one transfer. */
export interface TimedTransfer {
  service: string
  seconds: number
  ok: boolean
}

export interface Metrics {
  readonly registry: Registry
  /** one answered HTTP request; `route` is the route's pattern (`/api/messages/out/:messageId`), never the URL */
  http(e: { method: string; route: string; status: number; seconds: number }): void
  jobs: JobObserver
  webhooks: WebhookObserver
  sent(e: TimedTransfer): void
  received(e: TimedTransfer): void
  /** an incoming delivery refused on receipt (messages/in/authenticity.ts and the content's checks) */
  refused(e: { service: string; reason: string }): void
  registryCache(hit: boolean): void
  /** the text exposition: the process's metrics, then this integration point's */
  render(): Promise<string>
}

/** Seconds; sends and receives move files of up to gigabytes, so the buckets reach to 15 minutes. */
const TRANSFER_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900]
const JOB_BUCKETS = TRANSFER_BUCKETS

export function createMetrics(opts: { version: string }): Metrics {
  // started now, so the event loop and GC numbers have samples by the first scrape
  processRegistry()
  const registry = new Registry()
  const registers = [registry]
  new Gauge({
    name: 'eformidling_build_info',
    help: 'Always 1; the version of the integration point is a label',
    labelNames: ['version'],
    registers,
  }).set({ version: opts.version }, 1)
  const http = new Histogram({
    name: 'eformidling_http_request_duration_seconds',
    help: 'HTTP requests answered, by method, route pattern and status (the _count is the number of requests)',
    labelNames: ['method', 'route', 'status'],
    registers,
  })
  const jobRuns = new Counter({
    name: 'eformidling_job_runs_total',
    help: 'Job runs by this instance, by kind and outcome (ok, retry, given_up, deferred)',
    labelNames: ['kind', 'outcome'],
    registers,
  })
  const jobDuration = new Histogram({
    name: 'eformidling_job_duration_seconds',
    help: 'How long job runs by this instance took, by kind and outcome',
    labelNames: ['kind', 'outcome'],
    buckets: JOB_BUCKETS,
    registers,
  })
  const send = transferHistogram(registers, 'send', 'Sending one message to its service (upload included)')
  const receive = transferHistogram(registers, 'receive', 'Receiving one transfer (download and intake)')
  const counter = (name: string, help: string) => new Counter({ name, help, registers })
  const delivered = counter('eformidling_webhook_deliveries_total', 'Webhook deliveries that succeeded')
  const failures = counter(
    'eformidling_webhook_delivery_failures_total',
    'Webhook delivery attempts that failed',
  )
  const givenUp = counter(
    'eformidling_webhook_deliveries_given_up_total',
    'Webhook deliveries given up for good',
  )
  const refused = new Counter({
    name: 'eformidling_incoming_refused_total',
    help:
      'Incoming deliveries refused on receipt, by service and reason (sender: the SBD names a sender ' +
      'the service did not authenticate; receipt: a receipt not from the organisation the message was ' +
      'sent to; the other reasons are checks of the content)',
    labelNames: ['service', 'reason'],
    registers,
  })
  const cache = new Counter({
    name: 'eformidling_service_registry_cache_lookups_total',
    help: 'ServiceRegistry lookups by whether the cache answered them (result: hit or miss)',
    labelNames: ['result'],
    registers,
  })
  const outcome = (ok: boolean) => (ok ? 'ok' : 'failed')

  return {
    registry,
    http: (e) => http.observe({ method: e.method, route: e.route, status: String(e.status) }, e.seconds),
    jobs: {
      finished(e) {
        jobRuns.inc({ kind: e.kind, outcome: e.outcome })
        jobDuration.observe({ kind: e.kind, outcome: e.outcome }, e.seconds)
      },
    },
    webhooks: {
      delivered: () => delivered.inc(),
      failed(e) {
        failures.inc()
        if (e.givenUp) givenUp.inc()
      },
    },
    sent: (e) => send.observe({ service: e.service, outcome: outcome(e.ok) }, e.seconds),
    received: (e) => receive.observe({ service: e.service, outcome: outcome(e.ok) }, e.seconds),
    refused: (e) => refused.inc({ service: e.service, reason: e.reason }),
    registryCache: (hit) => cache.inc({ result: hit ? 'hit' : 'miss' }),
    async render() {
      return `${await processRegistry().metrics()}\n${await registry.metrics()}`
    },
  }
}

function transferHistogram(registers: Registry[], what: 'send' | 'receive', help: string): Histogram {
  return new Histogram({
    name: `eformidling_${what}_duration_seconds`,
    help: `${help}, by service and outcome (ok or failed)`,
    labelNames: ['service', 'outcome'],
    buckets: TRANSFER_BUCKETS,
    registers,
  })
}

let shared: Registry | undefined

/** Node's and the process's own metrics, set up once: they describe the process, not an integration point. */
function processRegistry(): Registry {
  if (!shared) {
    shared = new Registry()
    collectDefaultMetrics({ register: shared })
  }
  return shared
}
