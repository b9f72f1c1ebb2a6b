import { isAbsolute, resolve } from 'node:path'
import { type Converted, fail, ok } from './fields.js'

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
 * Checks `difi.datasource.url` and makes a relative SQLite path absolute against `cwd` (the database layer
 * parses the URL; this only refuses what it could not open, at start, with a message saying what works).
 */
export function checkDatasourceUrl(key: string, raw: string, cwd: string): Converted<string> {
  const url = raw.trim()
  if (url.startsWith('jdbc:sqlite:')) {
    const path = url.slice('jdbc:sqlite:'.length)
    if (!path) return fail(`${key} jdbc:sqlite: needs a file path, e.g. jdbc:sqlite:integrasjonspunkt.sqlite`)
    if (path === ':memory:' || isAbsolute(path)) return ok(url)
    return ok(`jdbc:sqlite:${resolve(cwd, path)}`)
  }
  if (url.startsWith('jdbc:postgresql:')) {
    return JDBC_POSTGRES.test(url) ? ok(url) : fail(`${key} ${JSON.stringify(url)} is not a valid URL: ${SUPPORTED}`)
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      if (new URL(url).hostname || new URL(url).pathname.length > 1) return ok(url)
    } catch {
      // reported below
    }
    return fail(`${key} ${JSON.stringify(url)} is not a valid URL: ${SUPPORTED}`)
  }
  const other = OTHERS.find(([re]) => re.test(url))?.[1]
  const which = other ? ` (${other} is not supported; SQLite and PostgreSQL are)` : ''
  return fail(`${key} ${JSON.stringify(url)} is not supported${which}: ${SUPPORTED}`)
}
