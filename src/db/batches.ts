/**
 * `values` in consecutive slices of at most `size`: for statements that must stay under SQLite's and
 * PostgreSQL's limits on a statement's parameters (an `in` list, a multi-row insert).
 */
export function batchesOf<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size))
  return out
}
