import type pino from 'pino'

/**
 * Who hears of a sent message: a peek-lock waiting on its `?timeout=` (woken at once instead of at the
 * end of its wait) and the listeners (`onArrived`, an extension's), told after the message is stored.
 */
export type Arrivals = ReturnType<typeof createArrivals>

export function createArrivals(logger: pino.Logger) {
  const waiting = new Map<string, Set<() => void>>()
  const listeners = new Set<(queue: string) => void>()
  let closed = false
  return {
    /** resolves when a message reaches `queue`, after `ms`, or when the stand-in closes */
    wait(queue: string, ms: number): Promise<void> {
      if (closed) return Promise.resolve()
      return new Promise((resolve) => {
        const set = waiting.get(queue) ?? new Set()
        waiting.set(queue, set)
        const wake = () => {
          clearTimeout(timer)
          set.delete(wake)
          if (set.size === 0 && waiting.get(queue) === set) waiting.delete(queue)
          resolve()
        }
        const timer = setTimeout(wake, ms)
        set.add(wake)
      })
    },
    arrived(queue: string): void {
      for (const wake of [...(waiting.get(queue) ?? [])]) wake()
      for (const listener of listeners) {
        // a listener's failure is its own: the send is stored and answered all the same
        try {
          listener(queue)
        } catch (error) {
          logger.warn({ err: error, queue }, 'a listener failed on a message that arrived')
        }
      }
    },
    /** calls `listener(queue)` after each send; returns the unsubscribe */
    subscribe(listener: (queue: string) => void): () => void {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    close(): void {
      closed = true
      for (const set of [...waiting.values()]) for (const wake of [...set]) wake()
    },
  }
}
