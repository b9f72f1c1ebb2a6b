import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { systemClock } from '../../util/time.js'
import { CatalogueError, parseCatalogue, readSasKey } from './catalog-load.js'
import { createCredentialStore } from './credentials.js'
import { DEFAULT_SETTINGS } from './processes.js'
import { sandboxCatalogPath } from './server.js'

/** The Service Bus key the registry hands out at `/sastoken`, and the SAS policy it belongs to. */
export interface ServiceBusSasKey {
  /** the `skn` integration points sign with (difi.move.nextmove.serviceBus.sasKeyName) */
  keyName: string
  key: string
}

/**
 * The key the ServiceRegistry stand-in on `dataDir` and `catalogPath` (default the sandbox catalogue)
 * hands out at `/sastoken`, read as the registry reads it: `settings.dpe` of the catalogue, a generated
 * key from `<dataDir>/keys/<name>.sas-key` (made here when the registry has not made it yet, and then
 * the same one the registry finds). For the Service Bus stand-in, so it accepts exactly what
 * integration points are given, as svarut/keys.ts shares the registry's `svarut` pair. Null when the
 * catalogue configures no key. The file is read on every call, so a catalogue the registry has
 * reloaded is seen at the next one.
 */
export async function registrySasKey(opts: {
  dataDir: string
  catalogPath?: string
}): Promise<ServiceBusSasKey | null> {
  const path = resolve(opts.catalogPath ?? sandboxCatalogPath())
  const text = await readFile(path, 'utf8').catch((err: Error) => {
    throw new CatalogueError(path, [{ path: '(file)', message: `cannot read it: ${err.message}` }])
  })
  const file = parseCatalogue(text, path)
  const key = await readSasKey(file, createCredentialStore(opts.dataDir, systemClock))
  if (key === null) return null
  return { keyName: file.settings.dpe?.sasKeyName ?? DEFAULT_SETTINGS.dpe.sasKeyName, key }
}
