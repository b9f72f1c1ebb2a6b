/** The DPI JSON schemas from the reference notes, compiled by Ajv, for tests (skipped where absent). */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv, type ValidateFunction } from 'ajv'
import { DPI_FORMATS, type DpiType } from './dpi.js'

const ROOT = join(import.meta.dirname, '../../../shared/reference/data/schemas')
export const DPI_SCHEMA_DIR = join(ROOT, 'dpi')
export const hasDpiSchemas = existsSync(DPI_SCHEMA_DIR) && existsSync(join(ROOT, 'sbdh.schema.json'))

let validators: Map<string, ValidateFunction> | undefined

function load(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ strict: false, allErrors: true })
  for (const [name, check] of Object.entries(DPI_FORMATS)) ajv.addFormat(name, check)
  const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as { $id: string }
  ajv.addSchema(read(join(ROOT, 'sbdh.schema.json')))
  const byType = new Map<string, string>()
  for (const file of readdirSync(DPI_SCHEMA_DIR)) {
    const schema = read(join(DPI_SCHEMA_DIR, file))
    ajv.addSchema(schema)
    const m = /^innbyggerpost_dpi_(\w+)_1_0\.schema\.json$/.exec(file)
    if (m) byType.set(m[1]!, schema.$id)
  }
  return new Map([...byType].map(([type, id]) => [type, ajv.getSchema(id)!]))
}

/** Ajv's errors for `doc` against the schema of `type` ([] when valid). */
export function ajvErrors(type: DpiType, doc: unknown): string[] {
  validators ??= load()
  const validate = validators.get(type)
  if (!validate) throw new Error(`no schema for ${type}`)
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)
}
