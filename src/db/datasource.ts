import { DEFAULT_PREPARE_THRESHOLD } from './pg-prepared.js'

/** A parsed `difi.datasource.url`. */
export type Datasource =
  | { kind: 'sqlite'; path: string }
  | {
      kind: 'postgres'
      connectionString: string
      schema: string | null
      /** PgJDBC's `prepareThreshold`: uses of a statement before it is prepared on the server; 0 never */
      prepareThreshold: number
    }

export class DatasourceError extends Error {}

const KEY = 'difi.datasource.url'
const SUPPORTED =
  'use jdbc:sqlite:PATH, jdbc:postgresql://HOST[:PORT]/DB[?params], or a postgres:// or postgresql:// URL'

/** JDBC prefixes of databases the reference supports and we do not, named in the message. */
const OTHERS: [RegExp, string][] = [
  [/^jdbc:h2:/i, 'H2'],
  [/^jdbc:mysql:/i, 'MySQL'],
  [/^jdbc:mariadb:/i, 'MariaDB'],
  [/^jdbc:sqlserver:/i, 'SQL Server'],
  [/^jdbc:oracle:/i, 'Oracle'],
]

const JDBC_POSTGRES = /^jdbc:postgresql:\/\/[^/?#]+\/[^/?#]+(\?.*)?$/

/**
 * Accepts what operators already write for the reference (`jdbc:postgresql://host:port/db`) and what
 * Node users expect (`postgres://user:pass@host/db`), plus our embedded default `jdbc:sqlite:PATH`.
 * Credentials given apart (`difi.datasource.username|password`) are put into the URL. The one parser
 * of the setting: configuration validates with it at start, the store opens with it.
 */
export function parseDatasource(url: string, username: string | null, password: string | null): Datasource {
  const trimmed = url.trim()
  if (trimmed.startsWith('jdbc:sqlite:')) {
    const path = trimmed.slice('jdbc:sqlite:'.length)
    if (!path)
      throw new DatasourceError(
        `${KEY} jdbc:sqlite: needs a file path, e.g. jdbc:sqlite:integrasjonspunkt.sqlite`,
      )
    return { kind: 'sqlite', path }
  }
  let pgUrl: string
  if (JDBC_POSTGRES.test(trimmed)) pgUrl = `postgres://${trimmed.slice('jdbc:postgresql://'.length)}`
  else if (/^postgres(ql)?:\/\//.test(trimmed)) pgUrl = trimmed
  else if (trimmed.startsWith('jdbc:postgresql:')) throw invalid(trimmed)
  else {
    const other = OTHERS.find(([re]) => re.test(trimmed))?.[1]
    const which = other ? ` (${other} is not supported; SQLite and PostgreSQL are)` : ''
    throw new DatasourceError(`${KEY} ${JSON.stringify(trimmed)} is not supported${which}: ${SUPPORTED}`)
  }
  let parsed: URL
  try {
    parsed = new URL(pgUrl)
  } catch (cause) {
    throw invalid(trimmed, cause)
  }
  if (!parsed.hostname && parsed.pathname.length <= 1) throw invalid(trimmed)
  if (username && !parsed.username) parsed.username = encodeURIComponent(username)
  if (password && !parsed.password) parsed.password = encodeURIComponent(password)
  // JDBC's currentSchema maps to the search path
  const schema = parsed.searchParams.get('currentSchema')
  parsed.searchParams.delete('currentSchema')
  const prepareThreshold = prepareThresholdOf(parsed.searchParams.get('prepareThreshold'), trimmed)
  parsed.searchParams.delete('prepareThreshold')
  return { kind: 'postgres', connectionString: parsed.toString(), schema, prepareThreshold }
}

/**
 * PgJDBC's `prepareThreshold` (default 5; 0 turns server-side prepared statements off, as a PgBouncer in
 * transaction mode without prepared-statement support needs; a negative value prepares from the first use,
 * as PgJDBC's -1 does).
 */
function prepareThresholdOf(value: string | null, url: string): number {
  if (value === null) return DEFAULT_PREPARE_THRESHOLD
  if (!/^-?\d{1,9}$/.test(value.trim()))
    throw new DatasourceError(
      `${KEY} ${JSON.stringify(url)}: prepareThreshold must be a whole number (0 turns prepared statements off), not ${JSON.stringify(value)}`,
    )
  const n = Number(value)
  return n < 0 ? 1 : n
}

function invalid(url: string, cause?: unknown): DatasourceError {
  return new DatasourceError(`${KEY} ${JSON.stringify(url)} is not a valid URL: ${SUPPORTED}`, { cause })
}
