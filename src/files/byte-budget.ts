import { Transform } from 'node:stream'

/**
 * A bound on bytes that pass, counted as they stream, shared by every stream that draws on it (the
 * entries of one zip together, say). Past `max`, the stream that crossed it fails with `over(max)`;
 * declared sizes are never trusted, only what actually passes.
 */
export class ByteBudget {
  #spent = 0
  constructor(
    readonly max: number,
    private readonly over: (max: number) => Error,
  ) {}

  /** counts `bytes`; the error to fail with once the bound is crossed */
  spend(bytes: number): Error | null {
    this.#spent += bytes
    return this.#spent > this.max ? this.over(this.max) : null
  }

  /** a pass-through stream that spends what passes */
  tap(): Transform {
    return new Transform({ transform: (chunk: Buffer, _e, done) => done(this.spend(chunk.length), chunk) })
  }
}

/** A pass-through stream that fails with `over(max)` past `max` bytes. */
export function byteLimit(max: number, over: (max: number) => Error): Transform {
  return new ByteBudget(max, over).tap()
}
