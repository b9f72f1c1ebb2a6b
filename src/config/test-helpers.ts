import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { ConfigError, type LoadConfigOptions, loadConfig } from './load.js'
import type { Config } from './types.js'

/** The least an integration point needs to start: an organisation number, a password, TLS off. */
export const MINIMAL_ENV = {
  DIFI_MOVE_ORG_NUMBER: '910075918',
  DIFI_SECURITY_USER_PASSWORD: 'secret',
  DIFI_SSL_ENABLED: 'false',
}

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A fresh working directory under the system temp folder, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ip-config-'))
  dirs.push(dir)
  return dir
}

export function writeFile(dir: string, name: string, text: string | Buffer): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

export interface TestLoad extends Partial<LoadConfigOptions> {
  /** contents of integrasjonspunkt-local.properties in the working directory */
  file?: string
}

/** loadConfig in a fresh directory with MINIMAL_ENV unless `env` is given. */
export function load(opts: TestLoad = {}): Config {
  const cwd = opts.cwd ?? tempDir()
  if (opts.file !== undefined) writeFile(cwd, 'integrasjonspunkt-local.properties', opts.file)
  return loadConfig({
    cwd,
    env: opts.env ?? MINIMAL_ENV,
    configFile: opts.configFile,
    overrides: opts.overrides,
  })
}

/** The ConfigError `load` throws (fails the test when it does not throw one). */
export function loadError(opts: TestLoad = {}): ConfigError {
  try {
    load(opts)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}
