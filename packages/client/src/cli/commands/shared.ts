import { InvalidArgumentError } from 'commander'
import type { CommandContext } from '../context.js'

/** Wraps a command's work into a commander action: builds its context, records its exit code. */
export type Runner = <A extends unknown[]>(
  work: (ctx: CommandContext, ...args: A) => Promise<number>,
) => (...args: unknown[]) => Promise<void>

/** A commander argument parser for a whole number >= `min`. */
export function integer(name: string, min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}`)
    }
    return n
  }
}
