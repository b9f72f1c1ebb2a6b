import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type pino from 'pino'
import { type Clock, systemClock } from '../../util/time.js'
import { buildRegistryApp } from './app.js'
import type { Catalogue } from './catalog.js'
import { CatalogueError, loadCatalogue, SIGNING_CREDENTIAL } from './catalog-load.js'
import { createCredentialStore } from './credentials.js'
import { createSigner } from './signing.js'
import { type FileWatcher, watchFiles } from './watch.js'

export { CatalogueError } from './catalog-load.js'

export interface ServiceRegistryOptions {
  port: number
  /** default 127.0.0.1 */
  host?: string
  /** the catalogue file; default the built-in sandbox catalogue (`sandbox/catalog.json`) */
  catalogPath?: string
  /** where generated keys and certificates are kept (made on first start, reused after) */
  dataDir: string
  logger: pino.Logger
  clock?: Clock
  /** re-read the catalogue when it (or a certificate file it names) changes; default true */
  watch?: boolean
}

export interface ServiceRegistryStandIn {
  /** base URL, no trailing slash: use it as difi.move.serviceregistryEndpoint */
  url: string
  close(): Promise<void>
  /** re-read the catalogue now; on a problem it is logged and thrown, and the previous one keeps serving */
  reload(): Promise<void>
}

/**
 * Starts the ServiceRegistry stand-in: the real service's API, JSON, signing and errors, answering
 * from a catalogue file. Rejects with a {@link CatalogueError} naming each problem when the catalogue
 * cannot be served.
 */
export async function startServiceRegistry(opts: ServiceRegistryOptions): Promise<ServiceRegistryStandIn> {
  const clock = opts.clock ?? systemClock
  const { logger } = opts
  const credentials = createCredentialStore(opts.dataDir, clock)
  const signer = await createSigner(
    await credentials.get(SIGNING_CREDENTIAL, {
      commonName: 'ServiceRegistry stand-in (integrasjonspunkt)',
      country: 'NO',
    }),
  )
  const path = resolve(opts.catalogPath ?? sandboxCatalogPath())
  let catalogue = await loadCatalogue(path, credentials)
  const app = buildRegistryApp({ catalogue: () => catalogue, signer, logger, clock })
  const url = (await app.listen({ port: opts.port, host: opts.host ?? '127.0.0.1' })).replace(/\/+$/, '')
  logger.info(served(catalogue), `ServiceRegistry stand-in at ${url} serves ${summary(catalogue)}`)
  const reloader = createReloader({
    load: () => loadCatalogue(path, credentials),
    logger,
    watch: opts.watch ?? true,
    loaded: (next) => {
      catalogue = next
    },
  })
  reloader.watched(catalogue.files)
  let closing: Promise<void> | undefined
  return {
    url,
    reload: reloader.reload,
    close: () => {
      closing ??= reloader.close().then(() => app.close())
      return closing
    },
  }
}

interface Reloader {
  reload(): Promise<void>
  /** the files the catalogue in force was read from */
  watched(files: readonly string[]): void
  close(): Promise<void>
}

/** Reloads one at a time; a refused catalogue is logged with its problems and the previous one stays. */
function createReloader(opts: {
  load: () => Promise<Catalogue>
  loaded: (c: Catalogue) => void
  logger: pino.Logger
  watch: boolean
}): Reloader {
  let queue: Promise<void> = Promise.resolve()
  const reload = (): Promise<void> => {
    const run = queue.then(async () => {
      try {
        const next = await opts.load()
        opts.loaded(next)
        watcher?.watch(next.files)
        opts.logger.info(served(next), `catalogue reloaded: serving ${summary(next)}`)
      } catch (err) {
        const problems = err instanceof CatalogueError ? err.problems : undefined
        opts.logger.error(
          { problems },
          `catalogue change refused, the previous one keeps serving: ${(err as Error).message}`,
        )
        throw err
      }
    })
    queue = run.catch(() => undefined)
    return run
  }
  const watcher: FileWatcher | undefined = opts.watch
    ? watchFiles(() => void reload().catch(() => undefined))
    : undefined
  return {
    reload,
    watched: (files) => watcher?.watch(files),
    close: async () => {
      watcher?.close()
      await queue
    },
  }
}

function summary(c: Catalogue): string {
  const health = c.health.size > 0 ? `, ${c.health.size} health units` : ''
  return `${c.organisations.size} organisations, ${c.persons.size} persons${health} and ${c.processes.size} processes from ${c.source}`
}

function served(c: Catalogue) {
  return {
    catalogue: c.source,
    organisations: c.organisations.size,
    persons: c.persons.size,
    healthUnits: c.health.size,
    processes: c.processes.size,
  }
}

/** `sandbox/catalog.json` of this package, found from this file (src/… when run from source, dist/src/… built). */
export function sandboxCatalogPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'sandbox', 'catalog.json')
    if (existsSync(candidate)) return candidate
    dir = dirname(dir)
  }
  throw new Error('the built-in sandbox catalogue (sandbox/catalog.json) is missing from this installation')
}
