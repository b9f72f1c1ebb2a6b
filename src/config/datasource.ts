import { isAbsolute, resolve } from 'node:path'
import { DatasourceError, parseDatasource } from '../db/datasource.js'
import { type Converted, fail, ok } from './fields.js'

/**
 * Checks `difi.datasource.url` at start with the store's own parser, and makes a relative SQLite
 * path absolute against `cwd`, so the message names the key and says what works.
 */
export function checkDatasourceUrl(key: string, raw: string, cwd: string): Converted<string> {
  const url = raw.trim()
  try {
    const source = parseDatasource(url, null, null)
    if (source.kind === 'sqlite' && source.path !== ':memory:' && !isAbsolute(source.path)) {
      return ok(`jdbc:sqlite:${resolve(cwd, source.path)}`)
    }
    return ok(url)
  } catch (error) {
    if (error instanceof DatasourceError) return fail(error.message.replace(/^difi\.datasource\.url/, key))
    throw error
  }
}
