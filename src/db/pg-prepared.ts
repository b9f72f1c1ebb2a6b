/**
 * Server-side prepared statements for PostgreSQL, as PgJDBC (the reference's driver) makes them: a
 * statement text run `prepareThreshold` times (PgJDBC's key and default, 5; 0 turns this off) is sent
 * under a name from then on, so each connection parses and plans it once instead of at every use. Kysely
 * sends every statement unnamed, and the issue 20 profiles of a one-step send on PostgreSQL put about 38
 * statements per message and most of the server's CPU in parsing and planning them again.
 *
 * node-postgres does the protocol (a `name` on a query); this decides which texts get one. Hand-written
 * because neither Kysely nor node-postgres offers a policy: names are bounded (texts built at run time, as
 * the web pages' filters are, stop getting names at `MAX_NAMED`), and a statement whose result columns
 * change under it (a table altered by another instance's migration while this one runs) fails once with
 * PostgreSQL's "cached plan must not change result type": every name is then given up and made afresh,
 * and the statement is run again at once when it is not inside a transaction, as PgJDBC does.
 */
import type { QueryResult } from 'pg'

/** PgJDBC's default `prepareThreshold`. */
export const DEFAULT_PREPARE_THRESHOLD = 5

/** At most this many texts are named (per generation); later ones stay unnamed. */
export const MAX_NAMED = 256

/** At most this many texts are counted toward the threshold; later ones stay unnamed. */
const MAX_COUNTED = 4096

/** PostgreSQL's SQLSTATE for "cached plan must not change result type" (feature_not_supported). */
const FEATURE_NOT_SUPPORTED = '0A000'

/** Shared by the pool's connections: which texts have names, and the generation those names belong to. */
export class StatementNames {
  readonly #threshold: number
  #generation = 0
  readonly #uses = new Map<string, number>()
  #names = new Map<string, string>()

  constructor(threshold: number) {
    this.#threshold = threshold
  }

  /** The name to run `text` under, or undefined to run it unnamed (this use counted). */
  nameFor(text: string): string | undefined {
    if (this.#threshold <= 0) return undefined
    const name = this.#names.get(text)
    if (name !== undefined) return name
    const uses = (this.#uses.get(text) ?? 0) + 1
    if (uses < this.#threshold) {
      if (this.#uses.has(text) || this.#uses.size < MAX_COUNTED) this.#uses.set(text, uses)
      return undefined
    }
    if (this.#names.size >= MAX_NAMED) return undefined
    this.#uses.delete(text)
    const named = `ip_${this.#generation}_${this.#names.size}`
    this.#names.set(text, named)
    return named
  }

  /**
   * Gives up every name: a prepared statement's result no longer matches its tables. The old names stay
   * prepared on connections that have them but are not used again; texts are named afresh on their next use.
   */
  renew(): void {
    this.#generation++
    this.#names = new Map()
  }

  get generation(): number {
    return this.#generation
  }
}

/** The part of a node-postgres client this wraps. */
interface QueryableClient {
  query: (...args: never[]) => unknown
}

type RunQuery = (config: { text: string; values: unknown[]; name?: string }) => Promise<QueryResult>

/**
 * Makes `client.query(text, values)` (the form Kysely uses) run under the name `names` gives it. Other
 * forms (a config object, a cursor, a callback) pass through unchanged.
 */
export function namePreparedStatements(client: QueryableClient, names: StatementNames): void {
  const original = client.query.bind(client) as (...args: unknown[]) => unknown
  const run: RunQuery = (config) => original(config) as Promise<QueryResult>
  let inTransaction = false
  ;(client as { query: unknown }).query = (...args: unknown[]) => {
    const [text, values] = args
    if (args.length !== 2 || typeof text !== 'string' || !Array.isArray(values)) return original(...args)
    const wasInTransaction = inTransaction
    inTransaction = transactionAfter(text, inTransaction)
    return runNamed(run, names, text, values, wasInTransaction)
  }
}

async function runNamed(
  run: RunQuery,
  names: StatementNames,
  text: string,
  values: unknown[],
  inTransaction: boolean,
): Promise<QueryResult> {
  const name = names.nameFor(text)
  if (name === undefined) return run({ text, values })
  const generation = names.generation
  try {
    return await run({ text, values, name })
  } catch (error) {
    if (!isStalePlan(error)) throw error
    if (names.generation === generation) names.renew()
    // inside a transaction the failure has aborted it: the caller's transaction fails and is retried whole
    if (inTransaction) throw error
    return run({ text, values })
  }
}

function isStalePlan(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown }
  return (
    e?.code === FEATURE_NOT_SUPPORTED && /cached plan must not change result type/.test(String(e.message))
  )
}

/** Whether a connection is inside a transaction after running `text` (Kysely's own `begin`/`commit`/`rollback`). */
function transactionAfter(text: string, before: boolean): boolean {
  if (/^\s*(begin|start\s+transaction)\b/i.test(text)) return true
  if (/^\s*(commit|end|rollback|abort)\s*;?\s*$/i.test(text)) return false
  return before
}
