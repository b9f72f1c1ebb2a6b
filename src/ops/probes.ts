// The k8s probes' states (Spring's livenessState and readinessState components).

import { performance } from 'node:perf_hooks'
import { down, type HealthCheck, up } from './health.js'

export type LifecycleState = 'starting' | 'ready' | 'draining'

/** Where the integration point is in its life: readiness is UP only between start and shutdown. */
export interface Lifecycle {
  readonly state: LifecycleState
  /** everything is started: the loops run and requests are served */
  ready(): void
  /** shutdown began: new work is refused; stays so (a stopped integration point is not started again) */
  draining(): void
  readinessState: HealthCheck
}

export function createLifecycle(): Lifecycle {
  let state: LifecycleState = 'starting'
  return {
    get state() {
      return state
    },
    ready() {
      if (state === 'starting') state = 'ready'
    },
    draining() {
      state = 'draining'
    },
    readinessState: async () => (state === 'ready' ? up() : down({ state })),
  }
}

const SAMPLE_MS = 500
const WINDOW_MS = 60_000

/**
 * How late the event loop ran a timer, sampled twice a second for the whole process (there is one
 * event loop, however many integration points share it). A wedged loop cannot answer the probe at all;
 * one that just came back from a long stall reports it here for a minute.
 */
class EventLoopWatch {
  #samples: { at: number; lagMs: number }[] = []
  #expected = performance.now() + SAMPLE_MS

  constructor() {
    const timer = setInterval(() => this.#sample(), SAMPLE_MS)
    timer.unref()
  }

  #sample(): void {
    const now = performance.now()
    const lagMs = Math.max(0, now - this.#expected)
    this.#expected = now + SAMPLE_MS
    this.#samples = this.#samples.filter((s) => now - s.at < WINDOW_MS)
    if (lagMs > 0) this.#samples.push({ at: now, lagMs })
  }

  /** the longest stall seen in the last minute, ms */
  worstLagMs(): number {
    const now = performance.now()
    let worst = Math.max(0, now - this.#expected)
    for (const s of this.#samples) if (now - s.at < WINDOW_MS && s.lagMs > worst) worst = s.lagMs
    return worst
  }
}

let watch: EventLoopWatch | undefined

/** `livenessState`: UP unless the event loop stalled longer than `maxLagMs` in the last minute. */
export function livenessState(maxLagMs: number): HealthCheck {
  watch ??= new EventLoopWatch()
  const w = watch
  return async () => {
    const lagMs = Math.round(w.worstLagMs())
    const details = { eventLoopStallMs: lagMs, maxEventLoopStallMs: maxLagMs }
    return lagMs > maxLagMs ? down(details) : up(details)
  }
}
