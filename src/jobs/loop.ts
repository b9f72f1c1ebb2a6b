/**
 * A background loop (style rule 5): `tick()` does one round of work and returns how much it did;
 * the loop sleeps on an abortable delay between rounds, wakes early on `nudge()`, and never lets an
 * error escape its timer. Tests call `tick()` directly.
 */
export interface Loop {
  start(): void
  stop(): Promise<void>
  nudge(): void
  tick(): Promise<number>
}

/** Background work done in rounds: what a loop runs. */
export interface Task {
  name: string
  /** the sleep after a round that did nothing (a round that did something is followed at once) */
  intervalMs: number
  /** one round; returns how much it did */
  tick: () => Promise<number>
  /**
   * After a round that did something, whether more may be waiting (default: yes). A round that took less
   * than it could take has seen all there was: the loop then sleeps until a nudge instead of asking again.
   */
  mayHaveMore?: () => boolean
  onError: (error: unknown) => void
}

export function createLoop(opts: Task): Loop {
  let running = false
  let wake: (() => void) | null = null
  // a nudge that comes while a round runs is kept, so the loop goes again instead of sleeping
  let nudged = false
  let done: Promise<void> = Promise.resolve()

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = null
        resolve()
      }, ms)
      timer.unref?.()
      wake = () => {
        clearTimeout(timer)
        wake = null
        resolve()
      }
    })

  async function run(): Promise<void> {
    while (running) {
      let worked = 0
      nudged = false
      try {
        worked = await opts.tick()
      } catch (error) {
        opts.onError(error)
      }
      // more work may be waiting: go again at once, else sleep until the interval or a nudge
      const more = worked > 0 && (opts.mayHaveMore?.() ?? true)
      if (running && !more && !nudged) await sleep(opts.intervalMs)
    }
  }

  return {
    start() {
      if (running) return
      running = true
      done = run()
    },
    async stop() {
      if (!running) return done
      running = false
      wake?.()
      await done
    },
    nudge() {
      nudged = true
      wake?.()
    },
    tick: () => opts.tick(),
  }
}
