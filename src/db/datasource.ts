/** A parsed `difi.datasource.url`. */
export type Datasource =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; connectionString: string; schema: string | null }

export class DatasourceError extends Error {}

/**
 * Accepts what operators already write for the reference (`jdbc:postgresql://host:port/db`) and what
 * Node users expect (`postgres://user:pass@host/db`), plus our embedded default `jdbc:sqlite:PATH`.
 * Credentials given apart (`difi.datasource.username|password`) are put into the URL.
 */
export function parseDatasource(url: string, username: string | null, password: string | null): Datasource {
  const trimmed = url.trim()
  if (trimmed.startsWith('jdbc:sqlite:')) {
    const path = trimmed.slice('jdbc:sqlite:'.length)
    if (!path) throw new DatasourceError('difi.datasource.url jdbc:sqlite: needs a file path, e.g. jdbc:sqlite:integrasjonspunkt.sqlite')
    return { kind: 'sqlite', path }
  }
  let pgUrl: string
  if (trimmed.startsWith('jdbc:postgresql://')) pgUrl = `postgres://${trimmed.slice('jdbc:postgresql://'.length)}`
  else if (/^postgres(ql)?:\/\//.test(trimmed)) pgUrl = trimmed
  else {
    throw new DatasourceError(
      `difi.datasource.url "${trimmed}" is not supported: use jdbc:sqlite:PATH, jdbc:postgresql://HOST:PORT/DB or postgres://USER:PASSWORD@HOST:PORT/DB`,
    )
  }
  let parsed: URL
  try {
    parsed = new URL(pgUrl)
  } catch (cause) {
    throw new DatasourceError(`difi.datasource.url "${trimmed}" is not a valid URL`, { cause })
  }
  if (username && !parsed.username) parsed.username = encodeURIComponent(username)
  if (password && !parsed.password) parsed.password = encodeURIComponent(password)
  // JDBC's currentSchema maps to the search path
  const schema = parsed.searchParams.get('currentSchema')
  parsed.searchParams.delete('currentSchema')
  return { kind: 'postgres', connectionString: parsed.toString(), schema }
}
