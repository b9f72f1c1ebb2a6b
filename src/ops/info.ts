import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { enabledWithoutChannel } from '../channels/registry.js'
import type { Config } from '../config/types.js'
import type { Clock } from '../util/time.js'
import { formatOslo } from '../util/time.js'

export interface BuildInfo {
  name: string
  artifact: string
  version: string
}

let build: BuildInfo | undefined

/**
 * Name and version from our package.json, found by walking up from this file (it is two folders up
 * from `src/ops/`, three from `dist/src/ops/`).
 */
export function buildInfo(): BuildInfo {
  if (build) return build
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'integrasjonspunkt' && pkg.version) {
        build = { name: pkg.name, artifact: pkg.name, version: pkg.version }
        return build
      }
    }
    if (dirname(dir) === dir) throw new Error('cannot find the package.json of integrasjonspunkt')
    dir = dirname(dir)
  }
}

/**
 * `GET /manage/info`, in Spring's shape where it has one: `build.version` is what the reference's
 * auto-updater (KOSMOS) reads to learn the running version.
 */
export function createInfo(opts: {
  config: Config
  clock: Clock
  database: 'sqlite' | 'postgres'
  transports: ReadonlySet<string>
}): () => Record<string, unknown> {
  const { config, clock } = opts
  const startedAt = clock.now().getTime()
  const b = buildInfo()
  const app = {
    organizationNumber: config.org.number,
    services: Object.entries(config.features.enabled)
      .filter(([, on]) => on)
      .map(([service]) => service),
    // enabled, but nothing can be sent by them here: messages to them are refused at create
    servicesWithoutTransport: enabledWithoutChannel(config.features.enabled, opts.transports),
    database: opts.database === 'sqlite' ? 'SQLite' : 'PostgreSQL',
    node: process.version,
  }
  return () => {
    const now = clock.now().getTime()
    return {
      build: { ...b },
      app,
      uptime: { startedAt: formatOslo(startedAt), seconds: Math.max(0, now - startedAt) / 1000 },
    }
  }
}
