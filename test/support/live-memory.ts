import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * What is alive (heap and buffers) after full collections: not RSS, which holds garbage the runtime has
 * yet to collect (Node.js 24 collects buffers late). Twice: the first collection may leave freed buffers'
 * memory to be given back by the next.
 */
export function liveBytes(): () => number {
  setFlagsFromString('--expose_gc')
  const gc = runInNewContext('gc') as () => void
  return () => {
    gc()
    gc()
    const m = process.memoryUsage()
    return m.heapUsed + m.external
  }
}

/**
 * Live memory sampled when asked and, once `every()` is called, again and again until stopped, counted
 * per phase. A collection takes a while with a big heap, so the next timed sample waits three times as
 * long as the last took (at least 100 ms): sampling never starves the work it watches.
 */
export function liveMemorySampler() {
  const live = liveBytes()
  let timer: NodeJS.Timeout | undefined
  const start = live()
  const s = {
    start,
    peak: start,
    phase: 'before',
    samples: {} as Record<string, number>,
    sample() {
      s.peak = Math.max(s.peak, live())
      s.samples[s.phase] = (s.samples[s.phase] ?? 0) + 1
    },
    every() {
      const tick = () => {
        const t = performance.now()
        s.sample()
        timer = setTimeout(tick, Math.max(100, 3 * (performance.now() - t)))
      }
      timer = setTimeout(tick, 100)
    },
    stop() {
      clearTimeout(timer)
      s.sample()
    },
    /** the growth, with what was sampled, for an assertion's message */
    report(): { growth: number; said: string } {
      const growth = s.peak - s.start
      return {
        growth,
        said: `grew ${(growth / 2 ** 20).toFixed(1)} MiB; samples ${JSON.stringify(s.samples)}`,
      }
    },
  }
  return s
}
