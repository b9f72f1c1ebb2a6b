import { describe, expect, it } from 'vitest'
import { parsePrometheus } from '../../test/support/prometheus.js'
import { createMetrics } from './metrics.js'

describe('metrics', () => {
  it('keeps each integration point’s numbers apart, the process’s shared', async () => {
    const one = createMetrics({ version: '1.0.0' })
    const two = createMetrics({ version: '1.0.0' })
    one.sent({ service: 'DPO', seconds: 0.2, ok: true })
    one.registryCache(true)
    one.registryCache(false)
    one.jobs.finished({ kind: 'send', outcome: 'retry', seconds: 1 })
    one.webhooks.failed?.({ subscriptionId: 1, attempt: 3, error: 'x', givenUp: true })
    one.http({ method: 'GET', route: '/api/statuses/:messageId', status: 200, seconds: 0.01 })

    const a = parsePrometheus(await one.render())
    const b = parsePrometheus(await two.render())
    expect(a.value('eformidling_send_duration_seconds_count', { service: 'DPO', outcome: 'ok' })).toBe(1)
    expect(a.value('eformidling_send_duration_seconds_bucket', { service: 'DPO', le: '0.25' })).toBe(1)
    expect(a.value('eformidling_send_duration_seconds_bucket', { service: 'DPO', le: '0.1' })).toBe(0)
    expect(a.value('eformidling_service_registry_cache_lookups_total', { result: 'hit' })).toBe(1)
    expect(a.value('eformidling_job_runs_total', { kind: 'send', outcome: 'retry' })).toBe(1)
    expect(a.value('eformidling_webhook_delivery_failures_total')).toBe(1)
    expect(a.value('eformidling_webhook_deliveries_given_up_total')).toBe(1)
    const route = { method: 'GET', route: '/api/statuses/:messageId', status: '200' }
    expect(a.value('eformidling_http_request_duration_seconds_count', route)).toBe(1)
    expect(b.value('eformidling_send_duration_seconds_count', { service: 'DPO' })).toBeUndefined()
    expect(b.value('eformidling_webhook_delivery_failures_total')).toBe(0)
    expect(a.types.get('process_cpu_user_seconds_total')).toBe('counter')
    expect(b.types.get('process_cpu_user_seconds_total')).toBe('counter')
  })
})

describe('the test reader of the exposition format', () => {
  const ok = '# TYPE x counter\nx{a="1"} 2\n'
  it('reads what Prometheus reads', () => {
    expect(parsePrometheus(ok).value('x', { a: '1' })).toBe(2)
    expect(parsePrometheus('y Nan\nz +Inf\nw 1e-3 1700000000\n').value('w')).toBe(0.001)
    expect(parsePrometheus('v{l="a\\"b\\\\c"} 1\n').value('v', { l: 'a"b\\c' })).toBe(1)
  })

  it.each([
    ['a second TYPE', `${ok}# TYPE x counter\n`],
    ['a TYPE after the samples', 'x 1\n# TYPE x counter\n'],
    ['a series twice', `${ok}x{a="1"} 3\n`],
    ['a bad name', '1x 1\n'],
    ['an unquoted label', 'x{a=1} 1\n'],
    ['a bad value', 'x one\n'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\n'],
    ['falling buckets', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parsePrometheus(text)).toThrow()
  })
})
