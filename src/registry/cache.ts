import type { Clock } from '../util/time.js'

/**
 * Expire-after-write cache, as the reference's Caffeine cache for `loadIdentifierResource`, bounded
 * so a stream of distinct receivers cannot grow it without end (the oldest entry goes first).
 * Time comes from the injected clock, so tests expire entries without sleeping.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>()

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(key: string): V | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    if (entry.expiresAt <= this.clock.now().getTime()) {
      this.#entries.delete(key)
      return undefined
    }
    return entry.value
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0 || this.maxEntries <= 0) return
    this.#entries.delete(key)
    this.#entries.set(key, { value, expiresAt: this.clock.now().getTime() + this.ttlMs })
    if (this.#entries.size > this.maxEntries) this.#evict()
  }

  clear(): void {
    this.#entries.clear()
  }

  get size(): number {
    return this.#entries.size
  }

  /** Drops expired entries, then the oldest ones, until the cache is within its bound. */
  #evict(): void {
    const now = this.clock.now().getTime()
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(key)
    }
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.maxEntries) break
      this.#entries.delete(key)
    }
  }
}
